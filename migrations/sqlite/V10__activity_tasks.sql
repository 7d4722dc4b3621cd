-- Activity tasks waiting for a worker: GetActivityTask takes the oldest untaken task of an
-- activity. The task itself (its input, token, deadlines and the worker's answer) lives in
-- the execution's position, committed with its events; this table only indexes tokens, so
-- a token whose task is gone (answered, timed out, execution stopped) finds nothing there.
CREATE TABLE activity_tasks (
    token         TEXT    PRIMARY KEY,
    activity_arn  TEXT    NOT NULL,
    execution_id  INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    scheduled_ms  INTEGER NOT NULL,
    taken         INTEGER NOT NULL DEFAULT 0 CHECK (taken IN (0, 1))
) WITHOUT ROWID;
CREATE INDEX activity_tasks_waiting ON activity_tasks (activity_arn, scheduled_ms) WHERE taken = 0;
CREATE INDEX activity_tasks_by_execution ON activity_tasks (execution_id);

-- Every write of an execution's position counts here, so a step computed from one reading
-- never overwrites a worker's update (GetActivityTask, SendTask*) made after that reading:
-- those change the position without adding events, so the last event id alone cannot tell.
ALTER TABLE executions ADD COLUMN moves INTEGER NOT NULL DEFAULT 0;
