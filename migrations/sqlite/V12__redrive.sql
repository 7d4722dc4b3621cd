-- RedriveExecution: a closed execution that failed, timed out or was stopped keeps where it
-- would resume (the engine's position re-entering the state it ended in, JSON), and counts
-- its redrives.
ALTER TABLE executions ADD COLUMN resume TEXT;
ALTER TABLE executions ADD COLUMN redrive_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN redrive_ms INTEGER;
