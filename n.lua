local n = 0
request = function()
  n = n + 1
  local body = '{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:p","name":"e' .. string.format("%09d", n) .. '"}'
  return wrk.format("POST", "/", {["Content-Type"]="application/x-amz-json-1.0", ["X-Amz-Target"]="AWSStepFunctions.StartExecution", ["Authorization"]="AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=0"}, body)
end
