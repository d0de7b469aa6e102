import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AttributeValue,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeAttempts } from '../../lib/ledger/ledger.ts';
import type { TaskAttempt } from '../../lib/ledger/task-attempts.ts';
import { RemoteError } from '../../lib/remote/aws.ts';
import { remoteRuns } from '../../lib/remote/runs.ts';
import { jsonOf, stepwise } from '../local/stepwise-cli.ts';
import { FAKE_CREDENTIALS, stubDefaultChain } from './fake-aws.ts';

/** The deployed ledger, played by dynalite (in memory) behind the real DynamoDB client. */
const TABLE = 'Orders-StepwisePlatformLedgerTable-1A2B3C';
let server: Server;
let endpoint: string;
let client: DynamoDBClient;

const at = (s: number) => new Date(Date.UTC(2026, 10, 1, 2, 0, 0) + s * 1000).toISOString();

beforeAll(async () => {
  server = dynalite({ createTableMs: 0, updateTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: FAKE_CREDENTIALS });
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
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
  // three runs of orders, as the state machine, recorder and dispatcher leave them, and one of sales
  await putRun('orders', 'run-1', at(0), {
    status: { S: 'SUCCEEDED' },
    endedAt: { S: at(10) },
    tasks: { L: [{ S: 'ingest' }, { S: 'publish' }] },
    transitions: { N: '9' },
  });
  await writeAttempts(client, TABLE, { pipeline: 'orders', runId: 'run-1' }, [
    attempt('ingest', 1, 'FAILED', 1, 2, 'Error', JSON.stringify({ errorMessage: 'throttled' })),
    attempt('ingest', 2, 'SUCCEEDED', 3, 5),
    attempt('publish', 1, 'SUCCEEDED', 5, 9),
  ]);
  await putRun('orders', 'run-2', at(3600), {
    status: { S: 'FAILED' },
    endedAt: { S: at(3605) },
    tasks: { L: [{ S: 'ingest' }, { S: 'publish' }] },
    transitions: { N: '5' },
    failedTask: { S: 'ingest' },
    error: { S: 'Error' },
    errorCause: { S: JSON.stringify({ errorMessage: 'bucket raw is gone' }) },
  });
  await writeAttempts(client, TABLE, { pipeline: 'orders', runId: 'run-2' }, [
    attempt(
      'ingest',
      1,
      'FAILED',
      3601,
      3604,
      'Error',
      JSON.stringify({ errorMessage: 'bucket raw is gone' }),
    ),
  ]);
  await putRun('orders', 'run-3', at(7200), { status: { S: 'DEDUPLICATED' }, duplicateOf: { S: 'run-1' } });
  await putRun('sales', 'run-s', at(100), { status: { S: 'SUCCEEDED' }, endedAt: { S: at(101) } });
});

afterAll(async () => {
  client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  vi.unstubAllEnvs();
});

async function putRun(
  pipeline: string,
  runId: string,
  startedAt: string,
  fields: Record<string, AttributeValue>,
) {
  await client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: {
        pk: { S: `PIPELINE#${pipeline}` },
        sk: { S: `RUN#${startedAt}#${runId}` },
        kind: { S: 'run' },
        pipeline: { S: pipeline },
        runId: { S: runId },
        startedAt: { S: startedAt },
        trigger: { S: JSON.stringify({ type: 'schedule', time: startedAt }) },
        runKey: { S: `schedule:${startedAt}` },
        ...fields,
      },
    }),
  );
}

function attempt(
  task: string,
  n: number,
  status: TaskAttempt['status'],
  from: number,
  to: number,
  error?: string,
  cause?: string,
): TaskAttempt {
  return {
    task,
    attempt: n,
    status,
    startedAt: at(from),
    endedAt: at(to),
    durationMs: (to - from) * 1000,
    error,
    cause,
  };
}

describe('remoteRuns', () => {
  it('reads the deployed ledger: newest run first, each with its tasks, attempts and errors', async () => {
    const runs = await remoteRuns({ table: TABLE, pipeline: 'orders', clients: { dynamodb: client } });
    expect(runs).toEqual([
      {
        runId: 'run-3',
        pipeline: 'orders',
        status: 'DEDUPLICATED',
        trigger: { type: 'schedule', time: at(7200) },
        tasks: [],
        transitions: 0,
        durationMs: 0,
        startedAt: at(7200),
        duplicateOf: 'run-1',
      },
      {
        runId: 'run-2',
        pipeline: 'orders',
        status: 'FAILED',
        trigger: { type: 'schedule', time: at(3600) },
        tasks: [
          {
            id: 'ingest',
            status: 'FAILED',
            attempts: 1,
            startedAt: at(3601),
            endedAt: at(3604),
            error: 'bucket raw is gone',
          },
          { id: 'publish', status: 'SKIPPED', attempts: 0, startedAt: null, endedAt: null },
        ],
        transitions: 5,
        durationMs: 5000,
        startedAt: at(3600),
        error: { task: 'ingest', error: 'Error', message: 'bucket raw is gone' },
      },
      {
        runId: 'run-1',
        pipeline: 'orders',
        status: 'SUCCEEDED',
        trigger: { type: 'schedule', time: at(0) },
        tasks: [
          { id: 'ingest', status: 'SUCCEEDED', attempts: 2, startedAt: at(1), endedAt: at(5) },
          { id: 'publish', status: 'SUCCEEDED', attempts: 1, startedAt: at(5), endedAt: at(9) },
        ],
        transitions: 9,
        durationMs: 10_000,
        startedAt: at(0),
      },
    ]);
  });

  it('filters by status and limits the count', async () => {
    const failed = await remoteRuns({
      table: TABLE,
      pipeline: 'orders',
      status: 'FAILED',
      clients: { dynamodb: client },
    });
    expect(failed.map((r) => r.runId)).toEqual(['run-2']);
    const newest = await remoteRuns({
      table: TABLE,
      pipeline: 'orders',
      limit: 2,
      clients: { dynamodb: client },
    });
    expect(newest.map((r) => r.runId)).toEqual(['run-3', 'run-2']);
  });

  it('gives no runs for a pipeline with none', async () => {
    expect(await remoteRuns({ table: TABLE, pipeline: 'inventory', clients: { dynamodb: client } })).toEqual(
      [],
    );
  });

  it('reads through the default provider chain: region, credentials and endpoint from the environment', async () => {
    stubDefaultChain(vi.stubEnv, 'DYNAMODB', { endpoint }, 'eu-west-1');
    const runs = await remoteRuns({ table: TABLE, pipeline: 'sales' });
    expect(runs.map((r) => [r.runId, r.status])).toEqual([['run-s', 'SUCCEEDED']]);
  });

  it('is what `stepwise runs --aws` prints, in the same shape as the local listing', async () => {
    stubDefaultChain(vi.stubEnv, 'DYNAMODB', { endpoint }, 'eu-west-1');
    const result = await stepwise('runs', 'orders', '--aws', '--table', TABLE, '--limit', '2', '--json');
    expect(result.code).toBe(0);
    const printed = jsonOf<{ pipeline: string; runs: Record<string, unknown>[] }>(result);
    expect(printed.pipeline).toBe('orders');
    expect(printed.runs.map((r) => [r.runId, r.status])).toEqual([
      ['run-3', 'DEDUPLICATED'],
      ['run-2', 'FAILED'],
    ]);
    const failed = printed.runs[1] as { tasks: unknown[]; error: unknown };
    expect(failed.tasks).toEqual([
      expect.objectContaining({ id: 'ingest', status: 'FAILED', attempts: 1, error: 'bucket raw is gone' }),
      expect.objectContaining({ id: 'publish', status: 'SKIPPED', attempts: 0 }),
    ]);
    expect(failed.error).toEqual({ task: 'ingest', error: 'Error', message: 'bucket raw is gone' });
  });

  it('fails when the table does not exist, naming it, the region and the fix', async () => {
    const error = await remoteRuns({
      table: 'Ledger',
      pipeline: 'orders',
      clients: { dynamodb: client },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as Error).message).toMatchInlineSnapshot(
      `"ledger table 'Ledger' not found in eu-west-1; check --table, or let --stack find it (and --region name the stack's region)"`,
    );
  });
});
