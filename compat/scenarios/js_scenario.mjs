// The compatibility scenario through the AWS SDK for JavaScript v3: one JSON line per step.
// Usage: SFNLITE_ENDPOINT=http://127.0.0.1:PORT node scenario.mjs
import {
  SFNClient, CreateStateMachineCommand, UpdateStateMachineCommand, PublishStateMachineVersionCommand,
  DescribeStateMachineCommand, ListStateMachineVersionsCommand, CreateStateMachineAliasCommand,
  UpdateStateMachineAliasCommand, DescribeStateMachineAliasCommand, DeleteStateMachineVersionCommand,
  DeleteStateMachineAliasCommand, ListStateMachineAliasesCommand, DeleteStateMachineCommand,
} from "@aws-sdk/client-sfn";

const ROLE = "arn:aws:iam::123456789012:role/StepFunctionsRole";
const sfn = new SFNClient({
  endpoint: process.env.SFNLITE_ENDPOINT,
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDCOMPAT", secretAccessKey: "compat" },
  maxAttempts: 1,
});
const definition = (c) => JSON.stringify({ Comment: c, StartAt: "S", States: { S: { Type: "Pass", End: true } } });
const ctx = {};

function assert(cond, what) {
  if (!cond) throw new Error(typeof what === "string" ? what : JSON.stringify(what));
}
async function errorOf(command) {
  try {
    await sfn.send(command);
  } catch (e) {
    return [e.name, e.message];
  }
  return [null, "the call succeeded"];
}
const sameError = (got, want) => assert(got[0] === want[0] && got[1] === want[1], { got, want });

const steps = [
  ["create", async () => {
    const r = await sfn.send(new CreateStateMachineCommand({ name: "compat-js", definition: definition("v0"), roleArn: ROLE }));
    assert(r.stateMachineArn === "arn:aws:states:us-east-1:123456789012:stateMachine:compat-js", r);
    assert(r.creationDate instanceof Date && r.creationDate.getUTCFullYear() >= 2024, r);
    ctx.arn = r.stateMachineArn;
  }],
  ["update", async () => {
    const r = await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: ctx.arn, definition: definition("v1") }));
    assert(r.revisionId.length === 36, r);
    ctx.rev = r.revisionId;
  }],
  ["publish", async () => {
    const r = await sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: ctx.arn, description: "first" }));
    assert(r.stateMachineVersionArn === `${ctx.arn}:1`, r);
  }],
  ["describe version", async () => {
    const d = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${ctx.arn}:1` }));
    assert(d.stateMachineArn === `${ctx.arn}:1` && d.revisionId === ctx.rev, d);
    assert(d.description === "first" && d.definition === definition("v1"), d);
  }],
  ["list versions, 2 pages", async () => {
    for (const c of ["v2", "v3"]) {
      await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: ctx.arn, definition: definition(c), publish: true }));
    }
    const p1 = await sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn: ctx.arn, maxResults: 2 }));
    assert(JSON.stringify(p1.stateMachineVersions.map((v) => v.stateMachineVersionArn.slice(-2))) === '[":3",":2"]', p1);
    const p2 = await sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn: ctx.arn, maxResults: 2, nextToken: p1.nextToken }));
    assert(JSON.stringify(p2.stateMachineVersions.map((v) => v.stateMachineVersionArn.slice(-2))) === '[":1"]', p2);
    assert(p2.nextToken === undefined, p2);
  }],
  ["alias create", async () => {
    const r = await sfn.send(new CreateStateMachineAliasCommand({
      name: "prod", routingConfiguration: [{ stateMachineVersionArn: `${ctx.arn}:1`, weight: 100 }],
    }));
    assert(r.stateMachineAliasArn === `${ctx.arn}:prod`, r);
  }],
  ["alias update", async () => {
    await sfn.send(new UpdateStateMachineAliasCommand({
      stateMachineAliasArn: `${ctx.arn}:prod`,
      routingConfiguration: [
        { stateMachineVersionArn: `${ctx.arn}:1`, weight: 50 },
        { stateMachineVersionArn: `${ctx.arn}:2`, weight: 50 },
      ],
    }));
    const d = await sfn.send(new DescribeStateMachineAliasCommand({ stateMachineAliasArn: `${ctx.arn}:prod` }));
    assert(d.routingConfiguration.map((r) => r.weight).join(",") === "50,50", d);
    assert(d.updateDate >= d.creationDate, d);
  }],
  ["delete version: conflict", async () => {
    sameError(await errorOf(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: `${ctx.arn}:1` })), [
      "ConflictException",
      "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [prod]",
    ]);
  }],
  ["alias delete", async () => {
    await sfn.send(new DeleteStateMachineAliasCommand({ stateMachineAliasArn: `${ctx.arn}:prod` }));
    await sfn.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: `${ctx.arn}:1` }));
    const l = await sfn.send(new ListStateMachineAliasesCommand({ stateMachineArn: ctx.arn }));
    assert(l.stateMachineAliases.length === 0, l);
  }],
  ["error: does not exist", async () => {
    const missing = `${ctx.arn}-missing`;
    sameError(await errorOf(new DescribeStateMachineCommand({ stateMachineArn: missing })),
      ["StateMachineDoesNotExist", `State Machine Does Not Exist: '${missing}'`]);
  }],
  ["error: invalid ARN", async () => {
    sameError(await errorOf(new DescribeStateMachineCommand({ stateMachineArn: "nope" })),
      ["InvalidArn", "Invalid Arn: 'Invalid ARN prefix: nope'"]);
  }],
  ["error: validation", async () => {
    sameError(await errorOf(new ListStateMachineVersionsCommand({ stateMachineArn: ctx.arn, maxResults: 1001 })), [
      "ValidationException",
      "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000",
    ]);
  }],
  ["error: revision conflict", async () => {
    const [code, message] = await errorOf(new PublishStateMachineVersionCommand({ stateMachineArn: ctx.arn, revisionId: "INITIAL" }));
    assert(code === "ConflictException", code);
    assert(message.startsWith("Failed to publish the State Machine version for revision INITIAL."), message);
  }],
  ["delete machine", async () => {
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: ctx.arn }));
    const [code] = await errorOf(new DescribeStateMachineCommand({ stateMachineArn: ctx.arn }));
    assert(code === "StateMachineDoesNotExist", code);
  }],
];

for (const [name, check] of steps) {
  try {
    await check();
    console.log(JSON.stringify({ step: name, ok: true }));
  } catch (e) {
    console.log(JSON.stringify({ step: name, ok: false, detail: String(e && e.message ? e.message : e) }));
  }
}
