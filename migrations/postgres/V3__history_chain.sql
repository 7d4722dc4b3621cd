-- Gap-free histories without a read per append. The trigger of V1 looked up an execution's
-- last chunk on every insert; under SERIALIZABLE that read locked the index page the
-- concurrent appends of other executions write to, so concurrent steps and starts kept
-- aborting each other (and retried) with nothing really in conflict. The rule is now a
-- foreign key: a chunk that does not start the history follows the chunk ending right before
-- it. With one chunk per first event (V1), every history is one unbroken chain from event 1.
DROP TRIGGER history_chunks_in_order ON history_chunks;
DROP FUNCTION history_chunks_in_order();

ALTER TABLE history_chunks
    ADD COLUMN after_event BIGINT GENERATED ALWAYS AS (NULLIF(first_event - 1, 0)) STORED,
    ADD CONSTRAINT history_chunks_one_ending UNIQUE (execution_id, last_event),
    ADD CONSTRAINT history_chunks_in_order FOREIGN KEY (execution_id, after_event)
        REFERENCES history_chunks (execution_id, last_event);
