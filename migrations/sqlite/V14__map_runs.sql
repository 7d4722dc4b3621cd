-- Distributed Map: a Map state in DISTRIBUTED mode runs each item as a child execution of its
-- own, grouped by a map run (DescribeMapRun, ListMapRuns, UpdateMapRun). The run is created in
-- the commit that records its MapRunStarted event; its items wait here until a child takes
-- them, so a crash between two commits loses none and starts none twice.

CREATE TABLE map_runs (
    id                   INTEGER PRIMARY KEY,
    arn                  TEXT    NOT NULL UNIQUE,
    -- The execution whose Map state started the run (it waits on the run's end).
    execution_id         INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    -- The Map state; state names are unique in a definition, so with the revision it names
    -- the ItemProcessor the children run.
    map_state            TEXT    NOT NULL,
    revision             INTEGER NOT NULL REFERENCES revisions (id),
    -- The children's "state machine": …:stateMachine:<machine>/<label>.
    machine_arn          TEXT    NOT NULL,
    express              INTEGER NOT NULL CHECK (express IN (0, 1)),
    status               TEXT    NOT NULL CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED')),
    max_concurrency      INTEGER NOT NULL CHECK (max_concurrency >= 0),
    -- ToleratedFailureCount / ToleratedFailurePercentage; NULL: not given (with neither, the
    -- first failed child fails the run).
    tolerated_count      INTEGER CHECK (tolerated_count >= 0),
    tolerated_percentage REAL    CHECK (tolerated_percentage BETWEEN 0 AND 100),
    -- Inputs to hand to children (one per item, or per batch with an ItemBatcher), and the
    -- items they hold.
    total                INTEGER NOT NULL CHECK (total >= 0),
    items                INTEGER NOT NULL CHECK (items >= 0),
    -- Inputs handed to children so far, in index order: input `started` is the next one.
    started              INTEGER NOT NULL DEFAULT 0 CHECK (started BETWEEN 0 AND total),
    running              INTEGER NOT NULL DEFAULT 0 CHECK (running >= 0),
    succeeded            INTEGER NOT NULL DEFAULT 0,
    failed               INTEGER NOT NULL DEFAULT 0,
    timed_out            INTEGER NOT NULL DEFAULT 0,
    aborted              INTEGER NOT NULL DEFAULT 0,
    start_ms             INTEGER NOT NULL,
    stop_ms              INTEGER,
    CHECK ((status = 'RUNNING') = (stop_ms IS NULL))
);
-- ListMapRuns: an execution's runs in the order they started.
CREATE INDEX map_runs_by_execution ON map_runs (execution_id, id);
-- The runner: runs with items still to hand out.
CREATE INDEX map_runs_ready ON map_runs (id) WHERE status = 'RUNNING' AND started < total;

-- Inputs not yet handed to a child (the child keeps its input from then on).
CREATE TABLE map_run_items (
    map_run_id  INTEGER NOT NULL REFERENCES map_runs (id) ON DELETE CASCADE,
    item_index  INTEGER NOT NULL,
    input       TEXT    NOT NULL,
    item_count  INTEGER NOT NULL,
    PRIMARY KEY (map_run_id, item_index)
) WITHOUT ROWID;

-- A child execution names its run, the position of its input among the run's inputs, and how
-- many items that input holds (more than one with an ItemBatcher).
ALTER TABLE executions ADD COLUMN map_run_id INTEGER REFERENCES map_runs (id) ON DELETE CASCADE;
ALTER TABLE executions ADD COLUMN item_index INTEGER;
ALTER TABLE executions ADD COLUMN item_count INTEGER;
-- ListExecutions(mapRunArn) newest first, and a run's children.
CREATE INDEX executions_by_map_run ON executions (map_run_id, start_ms DESC, id DESC) WHERE map_run_id IS NOT NULL;
