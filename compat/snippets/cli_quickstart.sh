export AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1
ENDPOINT="${SFNLITE_ENDPOINT:-http://127.0.0.1:8083}"
ARN=$(aws stepfunctions --endpoint-url "$ENDPOINT" create-state-machine \
  --name hello-cli --role-arn arn:aws:iam::123456789012:role/r \
  --definition '{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}' \
  --query stateMachineArn --output text)
aws stepfunctions --endpoint-url "$ENDPOINT" publish-state-machine-version \
  --state-machine-arn "$ARN" --query stateMachineVersionArn --output text
