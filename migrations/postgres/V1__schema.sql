-- The PostgreSQL backend's schema (issue 20): the SQLite schema of migrations V1–V15 as one
-- baseline, since no PostgreSQL database predates it. The same tables, keys, uniqueness and
-- checks, so the same rules hold on both backends: UNIQUE (versions.revision) makes publishing
-- idempotent, UNIQUE (state_machine_id, number) and state_machines.last_version keep version
-- numbers distinct and never reused, UNIQUE (machine_arn, name) is StartExecution's
-- idempotency. Times are milliseconds since the epoch (BIGINT), JSON kept as the text the
-- engine wrote. Later changes come as V2, V3, … here beside their SQLite counterparts.

CREATE TABLE state_machines (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    arn           TEXT    NOT NULL UNIQUE,
    account       TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    type          TEXT    NOT NULL CHECK (type IN ('STANDARD', 'EXPRESS')),
    created_ms    BIGINT  NOT NULL,
    -- Highest version number ever issued: it only grows (numbers are never reused).
    last_version  BIGINT  NOT NULL DEFAULT 0 CHECK (last_version >= 0),
    version_count BIGINT  NOT NULL DEFAULT 0 CHECK (version_count >= 0),
    deleting      BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX state_machines_by_scope_and_name ON state_machines (account, region, name);

CREATE TABLE revisions (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state_machine_id BIGINT NOT NULL REFERENCES state_machines (id) ON DELETE CASCADE,
    -- The public revisionId; NULL only for the initial configuration.
    revision_id      TEXT   UNIQUE,
    definition       TEXT   NOT NULL,
    role_arn         TEXT   NOT NULL,
    logging          TEXT   NOT NULL,
    tracing          TEXT   NOT NULL,
    encryption       TEXT   NOT NULL,
    created_ms       BIGINT NOT NULL
);
CREATE UNIQUE INDEX revisions_one_initial ON revisions (state_machine_id) WHERE revision_id IS NULL;
CREATE INDEX revisions_by_machine ON revisions (state_machine_id, id);

CREATE TABLE versions (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state_machine_id BIGINT NOT NULL REFERENCES state_machines (id) ON DELETE CASCADE,
    -- At most one live version per revision: concurrent publishes of one revision, from any
    -- replica, cannot both insert.
    revision         BIGINT NOT NULL UNIQUE REFERENCES revisions (id) ON DELETE CASCADE,
    number           BIGINT NOT NULL CHECK (number >= 1),
    description      TEXT,
    created_ms       BIGINT NOT NULL,
    UNIQUE (state_machine_id, number)
);

-- The version count follows the rows, as SQLite's triggers keep it.
CREATE FUNCTION versions_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE state_machines SET version_count = version_count + 1 WHERE id = NEW.state_machine_id;
        RETURN NEW;
    END IF;
    UPDATE state_machines SET version_count = version_count - 1 WHERE id = OLD.state_machine_id;
    RETURN OLD;
END $$;
CREATE TRIGGER versions_count_insert AFTER INSERT ON versions
    FOR EACH ROW EXECUTE FUNCTION versions_count();
CREATE TRIGGER versions_count_delete AFTER DELETE ON versions
    FOR EACH ROW EXECUTE FUNCTION versions_count();

CREATE TABLE tags (
    state_machine_id BIGINT NOT NULL REFERENCES state_machines (id) ON DELETE CASCADE,
    key              TEXT   NOT NULL,
    value            TEXT   NOT NULL,
    PRIMARY KEY (state_machine_id, key)
);

CREATE TABLE aliases (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state_machine_id BIGINT NOT NULL REFERENCES state_machines (id) ON DELETE CASCADE,
    name             TEXT   NOT NULL,
    description      TEXT,
    created_ms       BIGINT NOT NULL,
    updated_ms       BIGINT NOT NULL,
    UNIQUE (state_machine_id, name)
);

CREATE TABLE alias_routes (
    alias_id   BIGINT   NOT NULL REFERENCES aliases (id) ON DELETE CASCADE,
    position   SMALLINT NOT NULL CHECK (position IN (1, 2)),
    -- No cascade: a version an alias routes to cannot be deleted.
    version_id BIGINT   NOT NULL REFERENCES versions (id),
    weight     SMALLINT NOT NULL CHECK (weight BETWEEN 0 AND 100),
    PRIMARY KEY (alias_id, position),
    UNIQUE (alias_id, version_id)
);
CREATE INDEX alias_routes_by_version ON alias_routes (version_id);

CREATE TABLE executions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    arn           TEXT   NOT NULL UNIQUE,
    machine_arn   TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    version_arn   TEXT,
    alias_arn     TEXT,
    revision      BIGINT NOT NULL REFERENCES revisions (id),
    status        TEXT   NOT NULL CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED')),
    input         TEXT   NOT NULL,
    output        TEXT,
    error         TEXT,
    cause         TEXT,
    trace_header  TEXT,
    start_ms      BIGINT NOT NULL,
    stop_ms       BIGINT,
    -- The interpreter's position between steps; NULL once closed.
    position      TEXT,
    -- When the execution may take its next step: waiting is this row, not a sleeping task.
    due_ms        BIGINT,
    last_event    BIGINT NOT NULL DEFAULT 0 CHECK (last_event >= 0),
    moves         BIGINT NOT NULL DEFAULT 0,
    parent_token  TEXT,
    resume        TEXT,
    redrive_count BIGINT NOT NULL DEFAULT 0,
    redrive_ms    BIGINT,
    map_run_id    BIGINT,
    item_index    BIGINT,
    item_count    BIGINT,
    UNIQUE (machine_arn, name),
    CHECK ((status = 'RUNNING') = (stop_ms IS NULL))
);
CREATE INDEX executions_by_machine ON executions (machine_arn, start_ms DESC, id DESC);
CREATE INDEX executions_due ON executions (due_ms) WHERE status = 'RUNNING';

CREATE TABLE history_chunks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id BIGINT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    first_event  BIGINT NOT NULL CHECK (first_event >= 1),
    last_event   BIGINT NOT NULL,
    -- [[previous_id, type, timestamp_ms, details], ...] from first_event on.
    events       TEXT   NOT NULL,
    UNIQUE (execution_id, first_event),
    CHECK (json_array_length(events::json) = last_event - first_event + 1)
);

-- Events are appended gap-free: a chunk starts right after the execution's last one.
CREATE FUNCTION history_chunks_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.first_event != coalesce((SELECT last_event FROM history_chunks
                                    WHERE execution_id = NEW.execution_id
                                    ORDER BY first_event DESC LIMIT 1), 0) + 1 THEN
        RAISE EXCEPTION 'history event out of order';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER history_chunks_in_order BEFORE INSERT ON history_chunks
    FOR EACH ROW EXECUTE FUNCTION history_chunks_in_order();

CREATE TABLE activities (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    arn        TEXT   NOT NULL UNIQUE,
    account    TEXT   NOT NULL,
    region     TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    created_ms BIGINT NOT NULL,
    encryption TEXT   NOT NULL,
    UNIQUE (account, region, name)
);

CREATE TABLE activity_tags (
    activity_id BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    key         TEXT   NOT NULL,
    value       TEXT   NOT NULL,
    PRIMARY KEY (activity_id, key)
);

CREATE TABLE activity_tasks (
    token        TEXT    PRIMARY KEY,
    activity_arn TEXT    NOT NULL,
    execution_id BIGINT  NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    scheduled_ms BIGINT  NOT NULL,
    taken        BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX activity_tasks_waiting ON activity_tasks (activity_arn, scheduled_ms) WHERE NOT taken;
CREATE INDEX activity_tasks_by_execution ON activity_tasks (execution_id);

CREATE TABLE calls_in_flight (
    token        TEXT   PRIMARY KEY,
    execution_id BIGINT NOT NULL REFERENCES executions (id) ON DELETE CASCADE
);

CREATE TABLE map_runs (
    id                   BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    arn                  TEXT    NOT NULL UNIQUE,
    execution_id         BIGINT  NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    map_state            TEXT    NOT NULL,
    revision             BIGINT  NOT NULL REFERENCES revisions (id),
    machine_arn          TEXT    NOT NULL,
    express              BOOLEAN NOT NULL,
    status               TEXT    NOT NULL CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED')),
    max_concurrency      BIGINT  NOT NULL CHECK (max_concurrency >= 0),
    tolerated_count      BIGINT  CHECK (tolerated_count >= 0),
    tolerated_percentage DOUBLE PRECISION CHECK (tolerated_percentage BETWEEN 0 AND 100),
    total                BIGINT  NOT NULL CHECK (total >= 0),
    items                BIGINT  NOT NULL CHECK (items >= 0),
    started              BIGINT  NOT NULL DEFAULT 0 CHECK (started BETWEEN 0 AND total),
    running              BIGINT  NOT NULL DEFAULT 0 CHECK (running >= 0),
    succeeded            BIGINT  NOT NULL DEFAULT 0,
    failed               BIGINT  NOT NULL DEFAULT 0,
    timed_out            BIGINT  NOT NULL DEFAULT 0,
    aborted              BIGINT  NOT NULL DEFAULT 0,
    start_ms             BIGINT  NOT NULL,
    stop_ms              BIGINT,
    reader               TEXT,
    writer               TEXT,
    ending               TEXT,
    redrive_count        BIGINT  NOT NULL DEFAULT 0,
    redrive_ms           BIGINT,
    not_redrivable       BIGINT  NOT NULL DEFAULT 0,
    CHECK ((status = 'RUNNING') = (stop_ms IS NULL))
);
CREATE INDEX map_runs_by_execution ON map_runs (execution_id, id);
CREATE INDEX map_runs_ready ON map_runs (id) WHERE status = 'RUNNING' AND started < total;
CREATE INDEX map_runs_io ON map_runs (id) WHERE status = 'RUNNING' AND (reader IS NOT NULL OR ending IS NOT NULL);

-- A child names its run (the run names its parent: the reference is added once both exist).
ALTER TABLE executions ADD CONSTRAINT executions_map_run
    FOREIGN KEY (map_run_id) REFERENCES map_runs (id) ON DELETE CASCADE;
CREATE INDEX executions_by_map_run ON executions (map_run_id, start_ms DESC, id DESC) WHERE map_run_id IS NOT NULL;

CREATE TABLE map_run_items (
    map_run_id BIGINT NOT NULL REFERENCES map_runs (id) ON DELETE CASCADE,
    item_index BIGINT NOT NULL,
    input      TEXT   NOT NULL,
    item_count BIGINT NOT NULL,
    PRIMARY KEY (map_run_id, item_index)
);
