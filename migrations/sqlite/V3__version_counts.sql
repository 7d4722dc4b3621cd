-- Live versions per machine, kept by triggers so the version quota is checked in constant
-- time instead of counting a machine's versions on every publish.

ALTER TABLE state_machines ADD COLUMN version_count INTEGER NOT NULL DEFAULT 0 CHECK (version_count >= 0);

UPDATE state_machines
   SET version_count = (SELECT COUNT(*) FROM versions WHERE versions.state_machine_id = state_machines.id);

-- Every insert and delete of a version, however it happens (publish, delete, import,
-- cascade), moves the count in the same transaction.
CREATE TRIGGER versions_count_insert AFTER INSERT ON versions
BEGIN
    UPDATE state_machines SET version_count = version_count + 1 WHERE id = NEW.state_machine_id;
END;

CREATE TRIGGER versions_count_delete AFTER DELETE ON versions
BEGIN
    UPDATE state_machines SET version_count = version_count - 1 WHERE id = OLD.state_machine_id;
END;
