// The recorder under throttling: its SDK clients retry (adaptive mode, up to 10 attempts), so a run
// recorded while Step Functions and DynamoDB throttle ends with the same rows as one recorded without.
// DynamoDB is dynalite behind a fake throttling proxy; Step Functions, SNS and EventBridge are fakes.
// In a file of its own: a throttled client in adaptive mode slows itself down for a while afterwards.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readAttempts } from '../../lib/ledger/ledger.ts';
import { scanTable } from '../private/recorder-fakes.ts';
import { type RecorderHarness, startRecorderHarness, statusEvent } from '../private/recorder-harness.ts';
import { failedExecution, putRunningRow } from '../private/recorder-scenarios.ts';

let harness: RecorderHarness;
let handler: (event: unknown) => Promise<unknown>;

beforeAll(async () => {
  harness = await startRecorderHarness();
  ({ handler } = await import('../../lambdas/recorder/index.ts'));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await harness?.close();
});

describe('recorder under throttling', () => {
  it('ends with the rows and notifications of an unthrottled run when Step Functions and DynamoDB throttle it', async () => {
    const { ledger, sfn, sns, bus } = harness;
    const execution = failedExecution('run-throttled');
    sfn.put(execution);
    sfn.pageLimit = 10;
    const calm = await harness.useNewTable();
    await putRunningRow(ledger.client, calm, 'run-throttled');
    await handler(statusEvent(execution));
    const expected = await scanTable(ledger.client, calm);

    const throttled = await harness.useNewTable();
    await putRunningRow(ledger.client, throttled, 'run-throttled');
    sfn.throttle(2, 'GetExecutionHistory');
    ledger.throttle(2, 'BatchWriteItem');
    ledger.throttle(1, 'GetItem');
    ledger.throttle(1, 'UpdateItem');
    const before = { sfn: sfn.throttled, dynamodb: ledger.throttled, alerts: sns.published.length };

    const result = await handler(statusEvent(execution));

    expect({ sfn: sfn.throttled - before.sfn, dynamodb: ledger.throttled - before.dynamodb }).toEqual({
      sfn: 2,
      dynamodb: 4,
    });
    expect(result).toMatchObject({ outcome: 'recorded', attempts: 4, notified: true });
    const withoutMark = (items: typeof expected) => items.map(({ notifiedAt: _, ...item }) => item);
    expect(withoutMark(await scanTable(ledger.client, throttled))).toEqual(withoutMark(expected));
    expect((await readAttempts(ledger.client, throttled, 'run-throttled')).map((a) => a.task)).toEqual([
      'ingest',
      'publish',
      'publish',
      'publish',
    ]);
    expect(sns.published.length - before.alerts).toBe(1);
    expect(bus.entries).toHaveLength(2);
  });
});
