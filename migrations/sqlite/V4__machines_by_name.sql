-- ListStateMachines lists a scope's machines by name, ascending in byte order, as AWS does;
-- the keyset token is the last name served. Names are unique within a scope (the ARN embeds
-- them), so the key is total and pages never repeat or skip a machine.
DROP INDEX state_machines_by_scope;
CREATE INDEX state_machines_by_scope_and_name ON state_machines (account, region, name);
