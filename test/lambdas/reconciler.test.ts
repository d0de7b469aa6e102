// The reconciler Lambda, configured by environment variables alone, against DynamoDB (dynalite through
// the real SDK, with the byStatus index) and fakes of Step Functions, SNS and EventBridge.
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  type MockInstance,
  vi,
} from 'vitest';
import { getRun } from '../../lib/ledger/ledger.ts';
import { putRunRow } from '../private/recorder-fakes.ts';
import { type RecorderHarness, startRecorderHarness } from '../private/recorder-harness.ts';
import { runningExecution, timedOutExecution } from '../private/recorder-scenarios.ts';

let harness: RecorderHarness;
let handler: () => Promise<unknown>;
let table: string;
let log: MockInstance<typeof console.log>;

beforeAll(async () => {
  harness = await startRecorderHarness();
  ({ handler } = await import('../../lambdas/reconciler/index.ts'));
});

afterAll(async () => {
  await harness?.close();
});

beforeEach(async () => {
  table = await harness.useNewTable();
  harness.reset();
  delete process.env.RECONCILE_AFTER_MINUTES;
  log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => {
  log.mockRestore();
});

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/** A run row left RUNNING, started `minutes` ago, and (unless `execution` is null) its execution. */
async function runningRow(name: string, minutes: number, execution: 'ended' | 'running' | null) {
  const startedAt = minutesAgo(minutes);
  if (execution === 'ended') harness.sfn.put(timedOutExecution(name, startedAt));
  if (execution === 'running') harness.sfn.put(runningExecution(name, startedAt));
  return putRunRow(harness.ledger.client, table, { pipeline: 'orders', runId: name, startedAt });
}

const reconcilerLog = () =>
  log.mock.calls
    .map((call) => JSON.parse(String(call[0])) as Record<string, unknown>)
    .filter((line) => line.message === 'reconciled running runs');

describe('reconciler', () => {
  it('closes a RUNNING run whose execution ended, leaves a running one alone, and skips recent runs', async () => {
    const ended = await runningRow('ended', 60, 'ended');
    const running = await runningRow('running', 60, 'running');
    const recent = await runningRow('recent', 2, 'ended');
    // Attempt rows share the byStatus index; one still RUNNING is not a run to reconcile.
    await harness.ledger.client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: 'RUN#running' },
          sk: { S: 'TASK#ingest#0001' },
          kind: { S: 'attempt' },
          status: { S: 'RUNNING' },
          startedAt: { S: minutesAgo(59) },
        },
      }),
    );

    expect(await handler()).toEqual({
      checked: 2,
      closed: 1,
      stillRunning: 1,
      slotsReleased: 0,
      queuedStarted: 0,
      claimsRestarted: 0,
      errors: 0,
    });

    expect(await getRun(harness.ledger.client, table, ended)).toMatchObject({
      status: 'TIMED_OUT',
      failedTask: 'transform',
    });
    expect((await getRun(harness.ledger.client, table, running))?.status).toBe('RUNNING');
    expect((await getRun(harness.ledger.client, table, recent))?.status).toBe('RUNNING');
    expect(harness.sns.published.map((p) => p.Subject)).toEqual([
      'stepwise: orders run TIMED_OUT at transform',
    ]);
    expect(harness.bus.entries).toHaveLength(1);
    expect(reconcilerLog()).toEqual([
      expect.objectContaining({
        level: 'info',
        olderThanMinutes: 10,
        checked: 2,
        closed: 1,
        stillRunning: 1,
      }),
    ]);

    // The next round finds only the run still running, and sends nothing again.
    expect(await handler()).toEqual({
      checked: 1,
      closed: 0,
      stillRunning: 1,
      slotsReleased: 0,
      queuedStarted: 0,
      claimsRestarted: 0,
      errors: 0,
    });
    expect(harness.sns.published).toHaveLength(1);
  });

  it('takes its grace period from RECONCILE_AFTER_MINUTES, and follows every page of the index', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await runningRow(name, 3, 'ended');
    const { reconcileRuns } = await import('../../lambdas/reconciler/reconcile.ts');
    const { recorderClients, recorderDeps } = await import('../../lambdas/recorder/environment.ts');
    const deps = recorderDeps(recorderClients());

    expect(await reconcileRuns(deps, { olderThanMinutes: 10, pageSize: 2 })).toEqual({
      checked: 0,
      closed: 0,
      stillRunning: 0,
      errors: [],
    });
    harness.ledger.operations.length = 0;
    expect(await reconcileRuns(deps, { olderThanMinutes: 1, pageSize: 2 })).toEqual({
      checked: 5,
      closed: 5,
      stillRunning: 0,
      errors: [],
    });
    expect(harness.ledger.operations.filter((o) => o === 'Query').length).toBeGreaterThanOrEqual(3);

    await runningRow('f', 3, 'ended');
    process.env.RECONCILE_AFTER_MINUTES = '1';
    expect(await handler()).toEqual({
      checked: 1,
      closed: 1,
      stillRunning: 0,
      slotsReleased: 0,
      queuedStarted: 0,
      claimsRestarted: 0,
      errors: 0,
    });
  });

  it('fails after checking every run when one cannot be checked, naming it', async () => {
    await runningRow('gone', 90, null);
    const ended = await runningRow('ended', 60, 'ended');

    await expect(handler()).rejects.toThrow(
      /^1 run\(s\) could not be reconciled; the first: orders run gone: ExecutionDoesNotExist: Execution Does Not Exist/,
    );

    expect((await getRun(harness.ledger.client, table, ended))?.status).toBe('TIMED_OUT');
    expect(reconcilerLog()).toEqual([
      expect.objectContaining({
        level: 'error',
        checked: 2,
        closed: 1,
        errors: 1,
        failures: [
          expect.objectContaining({
            runId: 'gone',
            message: expect.stringContaining('ExecutionDoesNotExist'),
          }),
        ],
      }),
    ]);
  });

  it('leaves a run RUNNING when its alert cannot be sent, and closes it on the next round', async () => {
    const ended = await runningRow('ended', 60, 'ended');
    harness.sns.refuse(1);

    await expect(handler()).rejects.toThrow(/orders run ended: NotFoundException: Topic does not exist/);
    expect((await getRun(harness.ledger.client, table, ended))?.status).toBe('RUNNING');
    expect(harness.bus.entries).toHaveLength(0);

    expect(await handler()).toEqual({
      checked: 1,
      closed: 1,
      stillRunning: 0,
      slotsReleased: 0,
      queuedStarted: 0,
      claimsRestarted: 0,
      errors: 0,
    });
    expect(await getRun(harness.ledger.client, table, ended)).toMatchObject({
      status: 'TIMED_OUT',
      notifiedAt: expect.any(String),
    });
    expect(harness.sns.published.map((p) => p.Subject)).toEqual([
      'stepwise: orders run TIMED_OUT at transform',
    ]);
    expect(harness.bus.entries).toHaveLength(1);
  });

  it('fails when RECONCILE_AFTER_MINUTES is not a number of minutes', async () => {
    process.env.RECONCILE_AFTER_MINUTES = 'ten';
    await expect(handler()).rejects.toThrow(
      "RECONCILE_AFTER_MINUTES must be a number of minutes, 0 or more; got 'ten'",
    );
  });
});
