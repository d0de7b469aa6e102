// The dispatcher's own latency per event, against dynalite through the real SDK, with Step Functions
// answered by the test suite's fake on loopback. Baselines measured in the same run: a bare PutItem
// round trip to the same dynalite, and a bare StartExecution round trip to the same fake. It calls
// `dispatch`, the handler's whole body, with clients that also count the calls each event makes.
// Run: node --import tsx bench/dispatcher.ts [--triggers N]   Writes bench/results/dispatcher.json.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  LEDGER,
  runFinished,
  s3ObjectCreated,
  startDispatcherHarness,
  stateMachineArn,
} from '../test/private/dispatcher-harness.ts';

const triggers = Number(process.argv[process.argv.indexOf('--triggers') + 1]) || 50;
const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
const harness = await startDispatcherHarness({
  wide: { maxConcurrentRuns: 1000 },
  narrow: { maxConcurrentRuns: 1 },
});
const { dispatch } = await import('../lambdas/dispatcher/dispatch.ts');
console.log = () => undefined; // the dispatcher's JSON log and EMF lines

/** Calls per command since the last reset, and every call's time, by an SDK middleware on the dispatcher's clients. */
let calls: Record<string, number> = {};
let inCallsMs = 0;
const callMs = new Map<string, number[]>();
const dynamodb = new DynamoDBClient({});
const sfn = new SFNClient({});
for (const client of [dynamodb, sfn] as { middlewareStack: DynamoDBClient['middlewareStack'] }[]) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context.commandName as string).replace(/Command$/, '');
      calls[command] = (calls[command] ?? 0) + 1;
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        const ms = performance.now() - started;
        inCallsMs += ms;
        callMs.set(command, [...(callMs.get(command) ?? []), ms]);
      }
    },
    { step: 'initialize' },
  );
}
const ctx = { dynamodb, sfn, table: LEDGER, now: () => new Date() };
const send = (event: unknown) => dispatch(ctx, process.env, event);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] as number;
const round = (x: number) => Math.round(x * 100) / 100;

async function timed(times: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await call(i);
    ms.push(performance.now() - started);
  }
  return ms;
}

async function expectStatus(result: Promise<{ status: string }>, status: string): Promise<void> {
  const { status: got } = await result;
  if (got !== status) throw new Error(`bench expected ${status}, the dispatcher said ${got}`);
}

const s3 = (pipeline: string, key: string) => ({
  kind: 's3',
  pipeline,
  event: s3ObjectCreated('raw', key, { etag: key }),
});

/** A bare PutItem round trip to the same dynalite, through the same kind of client, uncounted. */
let baselineKey = 0;
const putItem = () =>
  harness.services.dynamodb.send(
    new PutItemCommand({
      TableName: LEDGER,
      Item: { pk: { S: `bench#${baselineKey++}` }, sk: { S: 'x' }, at: { S: new Date().toISOString() } },
    }),
  );

/**
 * Times one kind of event, each right after a baseline PutItem, so both see the same load on this
 * shared machine; and counts the SDK calls an event makes, and the time spent inside them.
 */
async function phase(call: (i: number) => Promise<unknown>) {
  calls = {};
  const baseline: number[] = [];
  const ms: number[] = [];
  const inCalls: number[] = [];
  for (let i = 0; i < triggers; i++) {
    baseline.push(...(await timed(1, putItem)));
    inCallsMs = 0;
    ms.push(...(await timed(1, () => call(i))));
    inCalls.push(inCallsMs);
  }
  return {
    medianMs: round(median(ms)),
    p90Ms: round(p90(ms)),
    /** Of an event's time, how much was spent inside SDK calls (request, round trip, response). */
    inCallsMedianMs: round(median(inCalls)),
    baselinePutItemMedianMs: round(median(baseline)),
    overPutItem: round(median(ms) / median(baseline)),
    callsPerEvent: Object.fromEntries(
      Object.entries(calls).map(([command, count]) => [command, round(count / triggers)]),
    ),
  };
}

// Warm up: connections, module code, dynalite's first table access.
await timed(10, putItem);
await timed(10, (i) => send(s3('wide', `warm/${i}.csv`)));

const startExecutionMs = await timed(triggers, (i) =>
  sfn.send(
    new StartExecutionCommand({ stateMachineArn: stateMachineArn('bare'), name: `bare-${i}`, input: '{}' }),
  ),
);
// A new trigger with a free slot.
const started = await phase((i) => expectStatus(send(s3('wide', `new/${i}.csv`)), 'STARTED'));
// The same triggers again.
const deduplicated = await phase((i) => expectStatus(send(s3('wide', `new/${i}.csv`)), 'DEDUPLICATED'));
// Slots full: the run is queued, and the drain after it finds the slots still full.
await expectStatus(send(s3('narrow', 'holder.csv')), 'STARTED');
const queued = await phase((i) => expectStatus(send(s3('narrow', `queued/${i}.csv`)), 'QUEUED'));
// Run Finished with runs queued behind it: the slot is freed and the oldest queued run started in it.
const released = await phase(async () => {
  const running = harness.fake.runningFor('narrow')[0];
  if (!running) throw new Error('bench: nothing is running on narrow');
  harness.fake.finish('narrow', running.name);
  const finished = { kind: 'finished', event: runFinished({ pipeline: 'narrow', runId: running.name }) };
  await expectStatus(send(finished), 'RELEASED');
});

// The dispatcher's own work per event without any I/O: validate, read the config, key, build the input.
const { envelopeSchema } = await import('../lambdas/dispatcher/envelope.ts');
const { explainIssue } = await import('../lambdas/dispatcher/issues.ts');
const { pipelineConfig } = await import('../lambdas/dispatcher/config.ts');
const { runRequest } = await import('../lambdas/dispatcher/run-key.ts');
const { executionInput } = await import('../lambdas/dispatcher/start.ts');
const cpuRounds = 10_000;
const cpuStarted = performance.now();
for (let i = 0; i < cpuRounds; i++) {
  const parsed = envelopeSchema.safeParse(s3('wide', `cpu/${i}.csv`), { error: explainIssue });
  if (!parsed.success || parsed.data.kind !== 's3') throw new Error('bench: the envelope did not parse');
  pipelineConfig(process.env, 'wide');
  executionInput(runRequest(parsed.data), 0);
}
const cpuPerEventMs = (performance.now() - cpuStarted) / cpuRounds;

const result = {
  measuredAt: new Date().toISOString(),
  node: process.version,
  triggers,
  loadAtStart,
  loadAverage: loadavg().map(round),
  /** Validation, config, run key and input for one S3 event, no I/O: the dispatcher's own CPU cost. */
  cpuPerEventMs: Math.round(cpuPerEventMs * 1000) / 1000,
  baselineStartExecution: { medianMs: round(median(startExecutionMs)), p90Ms: round(p90(startExecutionMs)) },
  started,
  deduplicated,
  queued,
  releasedAndDrained: released,
  /** Each SDK call the dispatcher made, over all phases: where an event's time goes. */
  callMedianMs: Object.fromEntries([...callMs].map(([command, ms]) => [command, round(median(ms))])),
};
dynamodb.destroy();
sfn.destroy();
await harness.close();
writeFileSync(new URL('./results/dispatcher.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
