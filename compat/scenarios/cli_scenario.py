"""The compatibility scenario through the AWS CLI v1 (`aws stepfunctions ...`): one JSON line
per step. The CLI is run as a user runs it; successes are parsed from its JSON output and
errors from its "An error occurred (Code) when calling the Op operation: message" line.

Usage: SFNLITE_ENDPOINT=http://127.0.0.1:PORT AWS_CLI=path/to/aws python cli_scenario.py
"""
import json
import os
import re
import subprocess
import sys

ROLE = "arn:aws:iam::123456789012:role/StepFunctionsRole"
ERROR = re.compile(r"An error occurred \((\w+)\) when calling the \w+ operation: (.*)", re.S)


def definition(comment):
    return json.dumps({"Comment": comment, "StartAt": "S", "States": {"S": {"Type": "Pass", "End": True}}})


class CliError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def aws(*args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDCOMPAT", AWS_SECRET_ACCESS_KEY="compat",
               AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    cmd = [os.environ.get("AWS_CLI", "aws"), "--endpoint-url", os.environ["SFNLITE_ENDPOINT"], "--output", "json",
           "stepfunctions", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        m = ERROR.search(p.stderr)
        if not m:
            raise RuntimeError(f"aws failed without an AWS error: {p.stderr.strip()}")
        raise CliError(m.group(1), m.group(2).strip())
    return json.loads(p.stdout) if p.stdout.strip() else {}


def error_of(*args):
    try:
        aws(*args)
    except CliError as e:
        return e.code, e.message
    return None, "the call succeeded"


def main():
    ctx = {}

    def step(name, check):
        try:
            check()
            print(json.dumps({"step": name, "ok": True}))
        except Exception as e:
            print(json.dumps({"step": name, "ok": False, "detail": f"{type(e).__name__}: {e}"}))
        sys.stdout.flush()

    def create():
        r = aws("create-state-machine", "--name", "compat-cli", "--definition", definition("v0"), "--role-arn", ROLE)
        assert r["stateMachineArn"] == "arn:aws:states:us-east-1:123456789012:stateMachine:compat-cli", r
        assert isinstance(r["creationDate"], (int, float)), r
        ctx["arn"] = r["stateMachineArn"]

    def update():
        r = aws("update-state-machine", "--state-machine-arn", ctx["arn"], "--definition", definition("v1"))
        assert len(r["revisionId"]) == 36, r
        ctx["rev"] = r["revisionId"]

    def publish():
        r = aws("publish-state-machine-version", "--state-machine-arn", ctx["arn"], "--description", "first")
        assert r["stateMachineVersionArn"] == ctx["arn"] + ":1", r

    def describe_version():
        d = aws("describe-state-machine", "--state-machine-arn", ctx["arn"] + ":1")
        assert d["stateMachineArn"] == ctx["arn"] + ":1" and d["revisionId"] == ctx["rev"], d
        assert d["description"] == "first" and d["definition"] == definition("v1"), d

    def list_paginated():
        for c in ("v2", "v3"):
            aws("update-state-machine", "--state-machine-arn", ctx["arn"], "--definition", definition(c), "--publish")
        p1 = aws("list-state-machine-versions", "--state-machine-arn", ctx["arn"], "--max-results", "2")
        assert [v["stateMachineVersionArn"][-2:] for v in p1["stateMachineVersions"]] == [":3", ":2"], p1
        p2 = aws("list-state-machine-versions", "--state-machine-arn", ctx["arn"], "--max-results", "2",
                 "--next-token", p1["nextToken"])
        assert [v["stateMachineVersionArn"][-2:] for v in p2["stateMachineVersions"]] == [":1"], p2
        assert "nextToken" not in p2, p2

    def alias_create():
        routing = json.dumps([{"stateMachineVersionArn": ctx["arn"] + ":1", "weight": 100}])
        r = aws("create-state-machine-alias", "--name", "prod", "--routing-configuration", routing)
        assert r["stateMachineAliasArn"] == ctx["arn"] + ":prod", r

    def alias_update():
        routing = json.dumps([{"stateMachineVersionArn": ctx["arn"] + ":1", "weight": 50},
                              {"stateMachineVersionArn": ctx["arn"] + ":2", "weight": 50}])
        aws("update-state-machine-alias", "--state-machine-alias-arn", ctx["arn"] + ":prod", "--routing-configuration", routing)
        d = aws("describe-state-machine-alias", "--state-machine-alias-arn", ctx["arn"] + ":prod")
        assert [r["weight"] for r in d["routingConfiguration"]] == [50, 50], d

    def delete_version_conflict():
        code, message = error_of("delete-state-machine-version", "--state-machine-version-arn", ctx["arn"] + ":1")
        assert code == "ConflictException", code
        assert message == ("Version to be deleted must not be referenced by an alias. "
                           "Current list of aliases referencing this version: [prod]"), message

    def alias_delete():
        aws("delete-state-machine-alias", "--state-machine-alias-arn", ctx["arn"] + ":prod")
        aws("delete-state-machine-version", "--state-machine-version-arn", ctx["arn"] + ":1")
        assert aws("list-state-machine-aliases", "--state-machine-arn", ctx["arn"])["stateMachineAliases"] == []

    def error_does_not_exist():
        missing = ctx["arn"] + "-missing"
        got = error_of("describe-state-machine", "--state-machine-arn", missing)
        assert got == ("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{missing}'"), got

    def error_invalid_arn():
        got = error_of("describe-state-machine", "--state-machine-arn", "nope")
        assert got == ("InvalidArn", "Invalid Arn: 'Invalid ARN prefix: nope'"), got

    def error_validation():
        code, message = error_of("list-state-machine-versions", "--state-machine-arn", ctx["arn"], "--max-results", "1001")
        assert code == "ValidationException", code
        assert message == ("1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: "
                           "Member must have value less than or equal to 1000"), message

    def error_revision_conflict():
        code, message = error_of("publish-state-machine-version", "--state-machine-arn", ctx["arn"], "--revision-id", "INITIAL")
        assert code == "ConflictException", code
        assert message.startswith("Failed to publish the State Machine version for revision INITIAL."), message

    def delete_machine():
        aws("delete-state-machine", "--state-machine-arn", ctx["arn"])
        code, _ = error_of("describe-state-machine", "--state-machine-arn", ctx["arn"])
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
