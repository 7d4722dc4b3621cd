-- Aliases: named pointers that route executions to one or two versions by weight.

CREATE TABLE aliases (
    id               INTEGER PRIMARY KEY,
    state_machine_id INTEGER NOT NULL REFERENCES state_machines (id) ON DELETE CASCADE,
    name             TEXT    NOT NULL,
    -- AliasDescription; NULL when none was set (Describe then omits the key).
    description      TEXT,
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL,
    -- One alias per name per machine; concurrent identical creates collide here.
    UNIQUE (state_machine_id, name)
);

-- The routing configuration of an alias, in the order the client gave it.
CREATE TABLE alias_routes (
    alias_id   INTEGER NOT NULL REFERENCES aliases (id) ON DELETE CASCADE,
    -- 1-based position in routingConfiguration: at most two routes.
    position   INTEGER NOT NULL CHECK (position IN (1, 2)),
    -- No cascade: a version an alias routes to cannot be deleted, so a route never dangles
    -- (DeleteStateMachineVersion answers ConflictException before reaching this).
    version_id INTEGER NOT NULL REFERENCES versions (id),
    weight     INTEGER NOT NULL CHECK (weight BETWEEN 0 AND 100),
    PRIMARY KEY (alias_id, position),
    -- Routes of one alias name distinct versions.
    UNIQUE (alias_id, version_id)
);
CREATE INDEX alias_routes_by_version ON alias_routes (version_id);
