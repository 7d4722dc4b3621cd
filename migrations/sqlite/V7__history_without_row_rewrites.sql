-- Gap-free history ids without rewriting the execution row for every event: an event is
-- accepted only as the next after the execution's highest stored id (an index seek on the
-- primary key), and the execution's last_event mark moves once per step, in the same
-- statement that moves its position. A RUNNING execution always has a due time (now, when it
-- can step at once), so the runner reads due executions straight off the index in order.
DROP TRIGGER history_events_in_order;
DROP TRIGGER history_events_advance;

CREATE TRIGGER history_events_in_order BEFORE INSERT ON history_events
WHEN NEW.event_id != coalesce((SELECT max(event_id) FROM history_events WHERE execution_id = NEW.execution_id), 0) + 1
BEGIN
    SELECT RAISE(ABORT, 'history event out of order');
END;

UPDATE executions SET due_ms = start_ms WHERE status = 'RUNNING' AND due_ms IS NULL;
UPDATE executions SET last_event = (SELECT coalesce(max(event_id), 0) FROM history_events WHERE execution_id = executions.id);
