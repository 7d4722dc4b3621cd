-- DeleteStateMachine while executions run (executions-api.md §12): the machine stays, marked
-- DELETING, until its last running execution ends; then it goes with everything it owns.
-- Meanwhile starts, updates, publishes and alias changes answer StateMachineDeleting.
ALTER TABLE state_machines ADD COLUMN deleting INTEGER NOT NULL DEFAULT 0 CHECK (deleting IN (0, 1));
