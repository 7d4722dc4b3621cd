-- Calls to services outside sfnlite (HTTP endpoints, Lambda, SQS, …) that were handed to the
-- network and have not been answered. The row is written in the commit that marks the call
-- sent, before any byte leaves, and removed in the commit that records the answer. A row
-- found at start-up is a call whose fate is unknown (the process died while it was in
-- flight): its task fails with the integration's "no response" error instead of being sent
-- again, so only the workflow's Retry can repeat it.
CREATE TABLE calls_in_flight (
    token        TEXT    PRIMARY KEY,
    execution_id INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE
) WITHOUT ROWID;
