-- Several sfnlite processes share this database (issue 20). Each registers as a replica
-- and keeps `seen_ms` fresh (PostgreSQL's clock, so replicas' clocks need not agree); one
-- not seen for the lease period is gone, and what it held is taken over.
CREATE TABLE replicas (
    id         TEXT   PRIMARY KEY,
    started_ms BIGINT NOT NULL,
    seen_ms    BIGINT NOT NULL
);

-- A RUNNING execution is stepped by the replica that leased it, until `lease_until`; a
-- step's commit releases it. `lease_epoch` counts the leases taken, so a replica can tell
-- its lease from a later one (every step's write is also conditional on `last_event` and
-- `moves`, which no stale replica can match).
ALTER TABLE executions ADD COLUMN lease_owner TEXT;
ALTER TABLE executions ADD COLUMN lease_until BIGINT;
ALTER TABLE executions ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;

-- The replica whose process makes the call: only a gone replica's calls are recovered.
ALTER TABLE calls_in_flight ADD COLUMN owner TEXT;
