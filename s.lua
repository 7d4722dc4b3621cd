wrk.method = "POST"
wrk.body = '{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:p"}'
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "AWSStepFunctions.StartExecution"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=0"
