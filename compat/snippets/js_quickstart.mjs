import { SFNClient, CreateStateMachineCommand, PublishStateMachineVersionCommand } from "@aws-sdk/client-sfn";

const sfn = new SFNClient({
  endpoint: process.env.SFNLITE_ENDPOINT ?? "http://127.0.0.1:8083",
  region: "us-east-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
});
const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({
  name: "hello-js",
  roleArn: "arn:aws:iam::123456789012:role/r",
  definition: '{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}',
}));
const { stateMachineVersionArn } = await sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn }));
console.log(stateMachineVersionArn);
