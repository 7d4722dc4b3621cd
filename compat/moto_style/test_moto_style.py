"""Tests written the way moto users write them; each starts from an empty service."""
import json

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/unit-test"
DEFINITION = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})


def test_create_and_list_state_machines(sfn):
    sfn.create_state_machine(name="name1", definition=DEFINITION, roleArn=ROLE)
    machines = sfn.list_state_machines()["stateMachines"]
    assert [m["name"] for m in machines] == ["name1"]


def test_every_test_starts_empty(sfn):
    assert sfn.list_state_machines()["stateMachines"] == []


def test_publish_is_idempotent(sfn):
    arn = sfn.create_state_machine(name="pub", definition=DEFINITION, roleArn=ROLE)["stateMachineArn"]
    first = sfn.publish_state_machine_version(stateMachineArn=arn)
    second = sfn.publish_state_machine_version(stateMachineArn=arn)
    assert first["stateMachineVersionArn"] == second["stateMachineVersionArn"] == arn + ":1"


def test_describe_unknown_state_machine_raises(sfn):
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:unknown"
    with pytest.raises(ClientError) as exc:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert exc.value.response["Error"]["Code"] == "StateMachineDoesNotExist"
    assert exc.value.response["Error"]["Message"] == f"State Machine Does Not Exist: '{arn}'"


def test_tags_round_trip(sfn):
    arn = sfn.create_state_machine(
        name="tagged", definition=DEFINITION, roleArn=ROLE, tags=[{"key": "team", "value": "core"}]
    )["stateMachineArn"]
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "core"}]
