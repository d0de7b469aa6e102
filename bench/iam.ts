// What the local engine's IAM costs per call. The reference app (examples/orders, synthesized as the
// local engine synthesizes it, without bundling) gives the roles and policies. Each call is made with
// the real SDK, signed as the function that makes it on AWS, three ways in the same run, interleaved
// call by call so that all three see the same load on this shared machine:
// - authorized: through the proxy (or server) with the Authorizer, as `stepwise run` does;
// - unauthorized: through the same proxy (or server) with no Authorizer: the same hops, nothing checked;
// - direct (S3 and DynamoDB only): the owner's client straight to s3rver or dynalite, no proxy.
// Every kind of call the local engine authorizes is timed: S3 (a read and a write, each of a new object,
// so never answered from the cache), DynamoDB, SNS Publish to the encrypted topic, EventBridge
// PutEvents, Step Functions StartExecution, and the state machine's invoke of a Lambda task (a check
// with no I/O of its own: the invoke itself is the Lambda host's, the same either way).
// And the evaluator alone: Authorizer.authorize with no I/O, per permission, new and repeated.
// Run: node --import tsx bench/iam.ts [--calls N]   Writes bench/results/iam.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { App } from 'aws-cdk-lib';
import orders from '../examples/orders/pipeline.ts';
import { PipelineStack } from '../lib/constructs/pipeline-stack.ts';
import { startEventsServer } from '../lib/local/events-server.ts';
import { Authorizer } from '../lib/local/iam/authorizer.ts';
import type { RequiredPermission } from '../lib/local/iam/s3-actions.ts';
import { authorizeLambdaInvoke } from '../lib/local/integrations.ts';
import { ensureBuckets, type LocalServices, startServices } from '../lib/local/services.ts';
import { startStepFunctionsServer } from '../lib/local/sfn-server.ts';
import { startSnsServer } from '../lib/local/sns-server.ts';
import { functionArn, readDeployment, type Template } from '../lib/local/template.ts';

const calls = Number(process.argv[process.argv.indexOf('--calls') + 1]) || 300;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// The reference app as `stepwise run` deploys it: each spec bucket is the local bucket of that name.
const outdir = mkdtempSync(join(tmpdir(), 'stepwise-bench-iam-'));
const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
new PipelineStack(app, 'BenchIam', { pipelines: [orders], buckets: { raw: 'raw' } });
const template = app.synth().getStackByName('BenchIam').template as Template;
const deployment = readDeployment(template, outdir);
const access = deployment.access;
if (!access) throw new Error('no access model');
const functionId = (part: string) => {
  const found = [...access.callers.keys()].find((id) => id.includes(part));
  if (!found) throw new Error(`bench: no function like ${part}`);
  return found;
};
const ingest = functionId('Handleringest');
const publisher = functionId('Handlerpublish');
const dispatcher = functionId('Dispatcher');
const recorder = functionId('Recorder');
const ledger = deployment.tables[0]?.name as string;
const topic = deployment.topics[0] as string;
const machine = deployment.stateMachines[0];
if (!machine) throw new Error('bench: no state machine');

const authorizer = new Authorizer(access);
const checked = await startServices(mkdtempSync(join(tmpdir(), 'stepwise-bench-iam-a-')), { authorizer });
const open = await startServices(mkdtempSync(join(tmpdir(), 'stepwise-bench-iam-b-')));
for (const services of [checked, open]) {
  await ensureBuckets(services.s3, ['raw']);
  // One object per call: each authorized GetObject names a new object ARN, so none is answered from
  // the authorizer's cache of decisions (as in a run, where each task reads its own objects).
  for (let i = 0; i < calls + 20; i++)
    await services.s3.send(new PutObjectCommand({ Bucket: 'raw', Key: `orders/${i}.csv`, Body: 'id\n1\n' }));
  await services.dynamodb.send(
    new CreateTableCommand({
      TableName: ledger,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}
const snsChecked = await startSnsServer({ authorizer, onPublish: () => undefined });
const snsOpen = await startSnsServer({ onPublish: () => undefined });
const snsClient = (endpoint: string) =>
  new SNSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: recorder, secretAccessKey: 'x' },
  });
const snsAuthorized = snsClient(snsChecked.endpoint);
const snsUnauthorized = snsClient(snsOpen.endpoint);
const eventsChecked = await startEventsServer({ authorizer, onEvent: () => undefined });
const eventsOpen = await startEventsServer({ onEvent: () => undefined });
const eventsClient = (endpoint: string) =>
  new EventBridgeClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: recorder, secretAccessKey: 'x' },
  });
const eventsAuthorized = eventsClient(eventsChecked.endpoint);
const eventsUnauthorized = eventsClient(eventsOpen.endpoint);
// A Step Functions API that answers at once: what is timed is the server and its check.
const sfnApi = {
  startExecution: ({ stateMachineArn, name }: { stateMachineArn: string; name?: string }) => ({
    executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name ?? 'x'}`,
    startDate: Date.now() / 1000,
  }),
  describeExecution: () => ({}),
};
const sfnChecked = await startStepFunctionsServer(sfnApi, { authorizer });
const sfnOpen = await startStepFunctionsServer(sfnApi);
const sfnClient = (endpoint: string) =>
  new SFNClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: dispatcher, secretAccessKey: 'x' },
  });
const sfnAuthorized = sfnClient(sfnChecked.endpoint);
const sfnUnauthorized = sfnClient(sfnOpen.endpoint);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const round = (x: number) => Math.round(x * 1000) / 1000;

async function time(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await call();
  return performance.now() - started;
}

/** Times each way of making one call, interleaved call by call; medians in ms and the ratios. */
async function compare(ways: Record<string, (i: number) => Promise<unknown>>) {
  const ms: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  for (let i = calls; i < calls + 20; i++) for (const call of Object.values(ways)) await call(i); // warm up
  for (let i = 0; i < calls; i++)
    for (const [way, call] of Object.entries(ways)) ms[way]?.push(await time(() => call(i)));
  const medians = Object.fromEntries(Object.entries(ms).map(([way, xs]) => [way, round(median(xs))]));
  const unauthorized = medians.unauthorized as number;
  return {
    medianMs: medians,
    authorizedOverUnauthorized: round((medians.authorized as number) / unauthorized),
    ...(medians.direct === undefined ? {} : { unauthorizedOverDirect: round(unauthorized / medians.direct) }),
  };
}

const getObject = (services: LocalServices, signedAs?: string) => {
  const client = signedAs ? services.clientsAs(signedAs).s3 : services.s3;
  return (i: number) =>
    client
      .send(new GetObjectCommand({ Bucket: 'raw', Key: `orders/${i}.csv` }))
      .then((o) => o.Body?.transformToString());
};
const getItem = (services: LocalServices, signedAs?: string) => {
  const client = signedAs ? services.clientsAs(signedAs).dynamodb : services.dynamodb;
  return () =>
    client.send(new GetItemCommand({ TableName: ledger, Key: { pk: { S: 'RUN#x' }, sk: { S: 'RUN' } } }));
};
const putObject = (services: LocalServices, signedAs?: string) => {
  const client = signedAs ? services.clientsAs(signedAs).s3 : services.s3;
  return (i: number) =>
    client.send(new PutObjectCommand({ Bucket: 'raw', Key: `published/bench/${i}.json`, Body: '{}' }));
};
const publish = (client: SNSClient) => () =>
  client.send(new PublishCommand({ TopicArn: topic, Message: 'bench', Subject: 'bench' }));
const putEvents = (client: EventBridgeClient) => () =>
  client.send(
    new PutEventsCommand({
      Entries: [{ Source: 'stepwise', DetailType: 'Run Finished', Detail: '{"pipeline":"orders"}' }],
    }),
  );
const startExecution = (client: SFNClient) => (i: number) =>
  client.send(new StartExecutionCommand({ stateMachineArn: machine.arn, name: `bench-${i}`, input: '{}' }));

const results = {
  s3GetObject: await compare({
    authorized: getObject(checked, ingest),
    unauthorized: getObject(open, ingest),
    direct: getObject(open),
  }),
  s3PutObject: await compare({
    authorized: putObject(checked, publisher),
    unauthorized: putObject(open, publisher),
    direct: putObject(open),
  }),
  dynamodbGetItem: await compare({
    authorized: getItem(checked, dispatcher),
    unauthorized: getItem(open, dispatcher),
    direct: getItem(open),
  }),
  // Publish to the KMS-encrypted alert topic: sns:Publish, kms:GenerateDataKey and kms:Decrypt.
  snsPublishEncrypted: await compare({
    authorized: publish(snsAuthorized),
    unauthorized: publish(snsUnauthorized),
  }),
  // The recorder's "Run Finished": events:PutEvents on the default bus.
  eventsPutEvents: await compare({
    authorized: putEvents(eventsAuthorized),
    unauthorized: putEvents(eventsUnauthorized),
  }),
  // The dispatcher starts a run: states:StartExecution on the state machine.
  sfnStartExecution: await compare({
    authorized: startExecution(sfnAuthorized),
    unauthorized: startExecution(sfnUnauthorized),
  }),
};

/**
 * The evaluator alone, no I/O, per permission: a new question each time (a new object ARN) runs the
 * simulator; a repeated one is answered from the cache.
 */
async function evaluatorUs(action: string, fresh: boolean): Promise<number> {
  const permission = (i: number): RequiredPermission => ({
    action,
    resource: `arn:aws:s3:::raw/orders/${fresh ? `bench-${action}-${i}` : 'same'}.csv`,
  });
  for (let i = -50; i < 0; i++) await authorizer.authorize(ingest, [permission(i)]);
  const started = performance.now();
  for (let i = 0; i < calls; i++) await authorizer.authorize(ingest, [permission(i)]);
  return round(((performance.now() - started) / calls) * 1000);
}
/**
 * The state machine's check before it invokes a task's function (lambda:InvokeFunction on the same
 * function each time, so from the cache after the first): the invoke itself, in the Lambda host, is
 * the same with or without it.
 */
async function lambdaInvokeCheckUs(): Promise<number> {
  const check = () =>
    authorizeLambdaInvoke({ services: checked, authorizer, caller: machine.logicalId }, functionArn(ingest));
  for (let i = 0; i < 50; i++) await check();
  const started = performance.now();
  for (let i = 0; i < calls; i++) await check();
  return round(((performance.now() - started) / calls) * 1000);
}
const evaluator = {
  allowedUs: await evaluatorUs('s3:GetObject', true),
  deniedUs: await evaluatorUs('s3:PutObject', true),
  repeatedUs: await evaluatorUs('s3:GetObject', false),
  lambdaInvokeCheckUs: await lambdaInvokeCheckUs(),
};

const report = {
  measuredAt: new Date().toISOString(),
  node: process.version,
  loadAverage: loadavg().map((x) => Math.round(x * 10) / 10),
  callsPerWay: calls,
  results,
  evaluator,
};
writeFileSync(new URL('./results/iam.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));

snsAuthorized.destroy();
snsUnauthorized.destroy();
await snsChecked.close();
await snsOpen.close();
eventsAuthorized.destroy();
eventsUnauthorized.destroy();
await eventsChecked.close();
await eventsOpen.close();
sfnAuthorized.destroy();
sfnUnauthorized.destroy();
for (const { server } of [sfnChecked, sfnOpen]) await new Promise((done) => server.close(done));
await checked.close();
await open.close();
rmSync(outdir, { recursive: true, force: true });
