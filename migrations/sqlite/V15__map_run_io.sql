-- ItemReader and ResultWriter (Distributed Map over S3): a run whose items come from S3 is
-- created when its MapRunStarted event is recorded, before its items are read; a run with a
-- ResultWriter writes its results to S3 before it ends. Reading an object and putting the same
-- keys again are harmless, so this I/O is not made at most once: after a restart the runner
-- makes what a run still waits for again.

-- What to read (engine-defined JSON); NULL once the run's items are in map_run_items.
ALTER TABLE map_runs ADD COLUMN reader TEXT;
-- Where to write the results (engine-defined JSON); NULL: the run has no ResultWriter.
ALTER TABLE map_runs ADD COLUMN writer TEXT;
-- How the run ends (engine-defined JSON), decided but waiting for its results to be written.
ALTER TABLE map_runs ADD COLUMN ending TEXT;
-- The runner: RUNNING runs waiting for their items or for their results to be written.
CREATE INDEX map_runs_io ON map_runs (id) WHERE status = 'RUNNING' AND (reader IS NOT NULL OR ending IS NOT NULL);

-- Redriving a map run (its parent's RedriveExecution): how often, when last, and how many of
-- its failed children could not be redriven.
ALTER TABLE map_runs ADD COLUMN redrive_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE map_runs ADD COLUMN redrive_ms INTEGER;
ALTER TABLE map_runs ADD COLUMN not_redrivable INTEGER NOT NULL DEFAULT 0;
