"""The compatibility scenario through boto3: prints one JSON line per step.

Usage: SFNLITE_ENDPOINT=http://127.0.0.1:PORT python boto3_scenario.py
Every step checks the parsed success or error (code and exact message), as a user would.
"""
import json
import os
import sys

import boto3
from botocore.config import Config

ROLE = "arn:aws:iam::123456789012:role/StepFunctionsRole"


def definition(comment):
    return json.dumps({"Comment": comment, "StartAt": "S", "States": {"S": {"Type": "Pass", "End": True}}})


def main():
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=os.environ["SFNLITE_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id="AKIDCOMPAT",
        aws_secret_access_key="compat",
        config=Config(retries={"total_max_attempts": 1}),
    )
    ctx = {}

    def error_of(call):
        try:
            call()
        except sfn.exceptions.ClientError as e:
            return e.response["Error"]["Code"], e.response["Error"]["Message"]
        return None, "the call succeeded"

    def step(name, check):
        try:
            check()
            print(json.dumps({"step": name, "ok": True}))
        except Exception as e:  # report and go on, so the table shows every step
            print(json.dumps({"step": name, "ok": False, "detail": f"{type(e).__name__}: {e}"}))
        sys.stdout.flush()

    def create():
        r = sfn.create_state_machine(name="compat-boto3", definition=definition("v0"), roleArn=ROLE)
        ctx["arn"] = r["stateMachineArn"]  # kept first, so later steps still run against other emulators
        assert r["stateMachineArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:compat-boto3", r
        assert r["creationDate"].year >= 2024

    def update():
        r = sfn.update_state_machine(stateMachineArn=ctx["arn"], definition=definition("v1"))
        assert len(r["revisionId"]) == 36, r
        ctx["rev"] = r["revisionId"]

    def publish():
        r = sfn.publish_state_machine_version(stateMachineArn=ctx["arn"], description="first")
        assert r["stateMachineVersionArn"] == ctx["arn"] + ":1", r

    def describe_version():
        d = sfn.describe_state_machine(stateMachineArn=ctx["arn"] + ":1")
        assert d["stateMachineArn"] == ctx["arn"] + ":1" and d["revisionId"] == ctx["rev"], d
        assert d["description"] == "first" and d["definition"] == definition("v1"), d

    def list_paginated():
        for c in ("v2", "v3"):
            sfn.update_state_machine(stateMachineArn=ctx["arn"], definition=definition(c), publish=True)
        p1 = sfn.list_state_machine_versions(stateMachineArn=ctx["arn"], maxResults=2)
        assert [v["stateMachineVersionArn"][-2:] for v in p1["stateMachineVersions"]] == [":3", ":2"], p1
        p2 = sfn.list_state_machine_versions(stateMachineArn=ctx["arn"], maxResults=2, nextToken=p1["nextToken"])
        assert [v["stateMachineVersionArn"][-2:] for v in p2["stateMachineVersions"]] == [":1"], p2
        assert "nextToken" not in p2, p2

    def alias_create():
        r = sfn.create_state_machine_alias(
            name="prod", routingConfiguration=[{"stateMachineVersionArn": ctx["arn"] + ":1", "weight": 100}]
        )
        assert r["stateMachineAliasArn"] == ctx["arn"] + ":prod", r

    def alias_update():
        sfn.update_state_machine_alias(
            stateMachineAliasArn=ctx["arn"] + ":prod",
            routingConfiguration=[
                {"stateMachineVersionArn": ctx["arn"] + ":1", "weight": 50},
                {"stateMachineVersionArn": ctx["arn"] + ":2", "weight": 50},
            ],
        )
        d = sfn.describe_state_machine_alias(stateMachineAliasArn=ctx["arn"] + ":prod")
        assert [r["weight"] for r in d["routingConfiguration"]] == [50, 50], d
        assert d["updateDate"] >= d["creationDate"], d

    def delete_version_conflict():
        code, message = error_of(lambda: sfn.delete_state_machine_version(stateMachineVersionArn=ctx["arn"] + ":1"))
        assert code == "ConflictException", code
        assert message == (
            "Version to be deleted must not be referenced by an alias. "
            "Current list of aliases referencing this version: [prod]"
        ), message

    def alias_delete():
        sfn.delete_state_machine_alias(stateMachineAliasArn=ctx["arn"] + ":prod")
        sfn.delete_state_machine_version(stateMachineVersionArn=ctx["arn"] + ":1")
        assert sfn.list_state_machine_aliases(stateMachineArn=ctx["arn"])["stateMachineAliases"] == []

    def error_does_not_exist():
        missing = ctx["arn"] + "-missing"
        code, message = error_of(lambda: sfn.describe_state_machine(stateMachineArn=missing))
        assert (code, message) == ("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{missing}'"), (code, message)

    def error_invalid_arn():
        code, message = error_of(lambda: sfn.describe_state_machine(stateMachineArn="nope"))
        assert (code, message) == ("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: nope'"), (code, message)

    def error_validation():
        code, message = error_of(lambda: sfn.list_state_machine_versions(stateMachineArn=ctx["arn"], maxResults=1001))
        assert code == "ValidationException", code
        assert message == (
            "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: "
            "Member must have value less than or equal to 1000"
        ), message

    def error_revision_conflict():
        code, message = error_of(lambda: sfn.publish_state_machine_version(stateMachineArn=ctx["arn"], revisionId="INITIAL"))
        assert code == "ConflictException", code
        assert message.startswith("Failed to publish the State Machine version for revision INITIAL."), message

    def delete_machine():
        sfn.delete_state_machine(stateMachineArn=ctx["arn"])
        code, _ = error_of(lambda: sfn.describe_state_machine(stateMachineArn=ctx["arn"]))
        assert code == "StateMachineDoesNotExist", code

    for name, check in [
        ("create", create),
        ("update", update),
        ("publish", publish),
        ("describe version", describe_version),
        ("list versions, 2 pages", list_paginated),
        ("alias create", alias_create),
        ("alias update", alias_update),
        ("delete version: conflict", delete_version_conflict),
        ("alias delete", alias_delete),
        ("error: does not exist", error_does_not_exist),
        ("error: invalid ARN", error_invalid_arn),
        ("error: validation", error_validation),
        ("error: revision conflict", error_revision_conflict),
        ("delete machine", delete_machine),
    ]:
        step(name, check)


if __name__ == "__main__":
    main()
