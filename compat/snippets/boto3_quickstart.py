import os

import boto3

sfn = boto3.client(
    "stepfunctions",
    endpoint_url=os.environ.get("SFNLITE_ENDPOINT", "http://127.0.0.1:8083"),
    region_name="us-east-1",
    aws_access_key_id="x",
    aws_secret_access_key="x",
)
arn = sfn.create_state_machine(
    name="hello-boto3",
    roleArn="arn:aws:iam::123456789012:role/r",
    definition='{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}',
)["stateMachineArn"]
print(sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"])
