-- Activities: named task queues that workers poll (executions-api.md §8). An activity is
-- unique by name in its account and region (CreateActivity is idempotent by name), and owns
-- its tags; deleting it deletes them.
CREATE TABLE activities (
    id          INTEGER PRIMARY KEY,
    arn         TEXT    NOT NULL UNIQUE,
    account     TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    -- The EncryptionConfiguration as DescribeActivity shows it (normalised JSON).
    encryption  TEXT    NOT NULL,
    UNIQUE (account, region, name)
);

CREATE TABLE activity_tags (
    activity_id  INTEGER NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    key          TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    PRIMARY KEY (activity_id, key)
) WITHOUT ROWID;
