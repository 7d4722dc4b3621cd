-- Executions and their histories. Like everything else, an execution's guarantees live in
-- the schema: a name names one execution of a machine, history events are numbered 1, 2, 3…
-- without gaps, and an execution's position moves in the same transaction as the events
-- that describe the move, so a crash can never separate the two.

CREATE TABLE executions (
    id                INTEGER PRIMARY KEY,
    -- The execution ARN embeds partition, region, account, machine name and execution name.
    arn               TEXT    NOT NULL UNIQUE,
    -- The unqualified machine ARN (executions outlive nothing they refer to by key: a
    -- machine being deleted waits for its running executions, aws-behavior.md §12).
    machine_arn       TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    -- StartExecution through a version or alias records them (DescribeExecution shows them).
    version_arn       TEXT,
    alias_arn         TEXT,
    -- The revision the execution runs: its definition never changes under it.
    revision          INTEGER NOT NULL REFERENCES revisions (id),
    status            TEXT    NOT NULL CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED')),
    -- The input exactly as sent (ExecutionStarted shows it verbatim).
    input             TEXT    NOT NULL,
    output            TEXT,
    error             TEXT,
    cause             TEXT,
    trace_header      TEXT,
    start_ms          INTEGER NOT NULL,
    stop_ms           INTEGER,
    -- The interpreter's position between steps (engine-defined JSON); NULL once closed.
    position          TEXT,
    -- When the execution may take its next step (a Wait or a retry back-off); NULL = now.
    -- Waiting is this row, not a sleeping task.
    due_ms            INTEGER,
    -- The highest history event id; the next event must be exactly one more.
    last_event        INTEGER NOT NULL DEFAULT 0 CHECK (last_event >= 0),
    -- StartExecution's idempotency and ExecutionAlreadyExists: one execution per name per machine.
    UNIQUE (machine_arn, name),
    CHECK ((status = 'RUNNING') = (stop_ms IS NULL))
);
-- ListExecutions: a machine's executions, newest first (keyset on start time, then id).
CREATE INDEX executions_by_machine ON executions (machine_arn, start_ms DESC, id DESC);
-- The runner: running executions by when they are due.
CREATE INDEX executions_due ON executions (due_ms) WHERE status = 'RUNNING';

CREATE TABLE history_events (
    execution_id  INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    event_id      INTEGER NOT NULL CHECK (event_id >= 1),
    previous_id   INTEGER NOT NULL CHECK (previous_id >= 0 AND previous_id < event_id),
    type          TEXT    NOT NULL,
    timestamp_ms  INTEGER NOT NULL,
    -- The details member, as {"<memberName>": {...}} JSON; NULL for types without one.
    details       TEXT,
    PRIMARY KEY (execution_id, event_id)
) WITHOUT ROWID;

-- Gap-free ids: an event is accepted only as the execution's next one, and moves the mark.
CREATE TRIGGER history_events_in_order BEFORE INSERT ON history_events
WHEN NEW.event_id != (SELECT last_event + 1 FROM executions WHERE id = NEW.execution_id)
BEGIN
    SELECT RAISE(ABORT, 'history event out of order');
END;

CREATE TRIGGER history_events_advance AFTER INSERT ON history_events
BEGIN
    UPDATE executions SET last_event = NEW.event_id WHERE id = NEW.execution_id;
END;
