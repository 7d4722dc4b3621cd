-- State machines, their revisions, versions and tags.
-- Every API guarantee that can live in the schema lives here, so it holds under concurrency
-- and across restarts without relying on process memory.

-- One row per state machine. Deleting a machine cascades to everything it owns.
CREATE TABLE state_machines (
    id           INTEGER PRIMARY KEY,
    -- The unqualified ARN embeds partition, region, account and name: UNIQUE here is
    -- CreateStateMachine's "one machine per name per account and region"
    -- (StateMachineAlreadyExists).
    arn          TEXT    NOT NULL UNIQUE,
    account      TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    -- StateMachineType; fixed at creation.
    type         TEXT    NOT NULL CHECK (type IN ('STANDARD', 'EXPRESS')),
    created_ms   INTEGER NOT NULL,
    -- Highest version number ever issued for this machine. It only grows, so version
    -- numbers are never reused after a DeleteStateMachineVersion (aws-behavior.md §1.2).
    last_version INTEGER NOT NULL DEFAULT 0 CHECK (last_version >= 0)
);
-- ListStateMachines: a scope's machines, oldest first (keyset on id).
CREATE INDEX state_machines_by_scope ON state_machines (account, region, id);

-- Immutable snapshots of a machine's configuration. The initial configuration is a row too
-- (revision_id NULL), so "publish the initial configuration" has a key like any other
-- revision. The current revision is the machine's newest row.
CREATE TABLE revisions (
    id               INTEGER PRIMARY KEY,
    state_machine_id INTEGER NOT NULL REFERENCES state_machines (id) ON DELETE CASCADE,
    -- The public revisionId (a UUID); NULL only for the initial configuration.
    revision_id      TEXT UNIQUE,
    definition       TEXT    NOT NULL,
    role_arn         TEXT    NOT NULL,
    -- Normalised JSON (defaults filled in), so equal configurations compare equal.
    logging          TEXT    NOT NULL,
    tracing          TEXT    NOT NULL,
    encryption       TEXT    NOT NULL,
    created_ms       INTEGER NOT NULL
);
-- At most one initial configuration per machine (NULLs would not collide in a plain UNIQUE).
CREATE UNIQUE INDEX revisions_one_initial ON revisions (state_machine_id) WHERE revision_id IS NULL;
CREATE INDEX revisions_by_machine ON revisions (state_machine_id, id);

-- Published versions: numbered, immutable snapshots of one revision each.
CREATE TABLE versions (
    id               INTEGER PRIMARY KEY,
    state_machine_id INTEGER NOT NULL REFERENCES state_machines (id) ON DELETE CASCADE,
    -- UNIQUE on the revision's surrogate key is PublishStateMachineVersion's idempotency:
    -- at most one live version per revision, the initial configuration included. Two
    -- concurrent publishes of one revision cannot both insert.
    revision         INTEGER NOT NULL UNIQUE REFERENCES revisions (id) ON DELETE CASCADE,
    number           INTEGER NOT NULL CHECK (number >= 1),
    -- VersionDescription; NULL when none was given (Describe then omits the key).
    description      TEXT,
    created_ms       INTEGER NOT NULL,
    -- A number names one version of a machine; the newest-first listing walks this index.
    UNIQUE (state_machine_id, number)
);

-- Tags of state machines (versions and aliases cannot be tagged).
CREATE TABLE tags (
    state_machine_id INTEGER NOT NULL REFERENCES state_machines (id) ON DELETE CASCADE,
    key              TEXT    NOT NULL,
    value            TEXT    NOT NULL,
    -- TagResource with an existing key replaces its value.
    PRIMARY KEY (state_machine_id, key)
) WITHOUT ROWID;
