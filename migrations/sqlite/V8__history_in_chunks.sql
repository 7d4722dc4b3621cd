-- The events one step appends are one row. A transition writes several events at once (a
-- chain of Pass states that StartExecution runs through writes its whole history at once),
-- and writing and indexing each as its own row was most of the writer's work per execution.
-- Ids stay gap-free, now per chunk: a chunk holds events first_event..last_event, its array
-- has exactly that many entries, and it is accepted only right after the execution's
-- previous chunk. A rowid table, not WITHOUT ROWID: a chunk of a few Pass states is over a
-- kilobyte, which an index b-tree cell would spill to an overflow page of its own.
CREATE TABLE history_chunks (
    id            INTEGER PRIMARY KEY,
    execution_id  INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    first_event   INTEGER NOT NULL CHECK (first_event >= 1),
    last_event    INTEGER NOT NULL,
    -- [[previous_id, type, timestamp_ms, details], ...] for first_event, first_event + 1, ...;
    -- details is the event's {"<memberName>": {...}} object, or null for types without one.
    events        TEXT    NOT NULL,
    UNIQUE (execution_id, first_event),
    CHECK (json_array_length(events) = last_event - first_event + 1)
);

INSERT INTO history_chunks (execution_id, first_event, last_event, events)
SELECT execution_id, event_id, event_id,
       json_array(json_array(previous_id, type, timestamp_ms, json(details)))
FROM history_events ORDER BY execution_id, event_id;

DROP TABLE history_events;

CREATE TRIGGER history_chunks_in_order BEFORE INSERT ON history_chunks
WHEN NEW.first_event != coalesce((SELECT last_event FROM history_chunks
                                  WHERE execution_id = NEW.execution_id
                                  ORDER BY first_event DESC LIMIT 1), 0) + 1
BEGIN
    SELECT RAISE(ABORT, 'history event out of order');
END;
