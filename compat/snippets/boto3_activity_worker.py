import json
import os
import time

import boto3

sfn = boto3.client(
    "stepfunctions",
    endpoint_url=os.environ.get("SFNLITE_ENDPOINT", "http://127.0.0.1:8083"),
    region_name="us-east-1",
    aws_access_key_id="x",
    aws_secret_access_key="x",
)
activity = sfn.create_activity(name="greeter")["activityArn"]
machine = sfn.create_state_machine(
    name="greet-with-a-worker",
    roleArn="arn:aws:iam::123456789012:role/r",
    definition=json.dumps({"StartAt": "Greet", "States": {
        "Greet": {"Type": "Task", "Resource": activity, "HeartbeatSeconds": 30, "End": True}}}),
)["stateMachineArn"]
execution = sfn.start_execution(stateMachineArn=machine, input='{"name": "world"}')["executionArn"]

# The worker loop: long-poll for a task, do the work, answer with the task token.
while True:
    task = sfn.get_activity_task(activityArn=activity, workerName="worker-1")
    if "taskToken" not in task:
        continue  # the long poll ended with nothing to do
    name = json.loads(task["input"])["name"]
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps({"greeting": f"hello, {name}"}))
    break

while (d := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
    time.sleep(0.05)
print(d["output"])
