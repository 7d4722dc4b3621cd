-- A workflow started by another one's `.sync` / `.sync:2` Task names the task token its parent
-- waits on, so that the commit closing the child also hands its result to the parent.
ALTER TABLE executions ADD COLUMN parent_token TEXT;

-- `activity_tasks` indexes every task token from here on, not only activities': a
-- `.waitForTaskToken` or `.sync` task's token is indexed already taken (no worker ever gets
-- it), with its resource ARN in `activity_arn`, so SendTask* and a closing child find it.
