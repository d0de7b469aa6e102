// A start Step Functions refuses for good (access denied, input too large, no such state machine):
// the slot comes back, the run is set aside FAILED with the reason and an alert, and the queue moves.

import type { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import type { DispatcherContext } from '../../lambdas/dispatcher/context.ts';
import { dispatch } from '../../lambdas/dispatcher/dispatch.ts';
import { runRequest } from '../../lambdas/dispatcher/run-key.ts';
import { findRun, runReport } from '../../lib/ledger/ledger.ts';
import {
  type DispatcherHarness,
  hookedContext,
  LEDGER,
  runFinished,
  startDispatcherHarness,
} from '../private/dispatcher-harness.ts';
import { FakeAlerts } from '../private/interleaving.ts';

let harness: DispatcherHarness;
let ctx: DispatcherContext & { destroy(): void };
let alerts: FakeAlerts;

beforeAll(async () => {
  harness = await startDispatcherHarness({
    denied: { maxConcurrentRuns: 1 },
    head: { maxConcurrentRuns: 1 },
    flaky: { maxConcurrentRuns: 1 },
  });
});
afterAll(async () => {
  ctx?.destroy();
  await harness?.close();
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  alerts = new FakeAlerts();
  ctx?.destroy();
  const base = hookedContext(() => undefined);
  ctx = {
    ...base,
    alerts: { sns: alerts as unknown as SNSClient, topicArn: 'arn:aws:sns:us-east-1:000000000000:alerts' },
  };
  return () => vi.restoreAllMocks();
});

const slot = (pipeline: string, hour: number) => ({
  kind: 'schedule',
  pipeline,
  time: new Date(Date.UTC(2026, 3, 1, hour)).toISOString(),
});
const runIdOf = (pipeline: string, hour: number) => runRequest(slot(pipeline, hour) as never).runId;
const holders = async (pipeline: string) =>
  (await harness.item(`SLOTS#${pipeline}`, 'SLOTS'))?.active?.SS ?? [];

it('gives the slot back when StartExecution is denied, and records the run FAILED with the reason and an alert', async () => {
  const runId = runIdOf('denied', 0);
  harness.fake.refusals.set(runId, 'AccessDeniedException');

  const result = await dispatch(ctx, process.env, slot('denied', 0));

  expect(result).toMatchObject({
    status: 'FAILED',
    runId,
    reason: expect.stringMatching(
      /^Step Functions refused to start .* AccessDeniedException: the fake Step Functions refuses/,
    ),
  });
  expect(await holders('denied')).toEqual([]);
  const row = await findRun(harness.services.dynamodb, LEDGER, 'denied', runId);
  expect(row).toMatchObject({
    status: 'FAILED',
    error: 'AccessDeniedException',
    runKey: 'schedule:2026-04-01T00:00:00.000Z',
  });
  // `stepwise runs` shows it as any failed run, with the reason.
  expect(runReport(row as NonNullable<typeof row>, [], [])).toMatchObject({
    status: 'FAILED',
    error: { error: 'AccessDeniedException', message: expect.stringContaining('refused to start') },
  });
  expect((await harness.item(`RUNKEY#denied#schedule:2026-04-01T00:00:00.000Z`, 'RUNKEY'))?.state?.S).toBe(
    'FAILED',
  );
  expect(alerts.published).toEqual([
    {
      TopicArn: 'arn:aws:sns:us-east-1:000000000000:alerts',
      Subject: 'stepwise: denied run FAILED: could not start (AccessDeniedException)',
      Message: expect.stringContaining(`Run:       ${runId}`),
    },
  ]);

  // The same trigger again is not retried (the fix is a new input), and the next trigger gets the slot.
  expect((await dispatch(ctx, process.env, slot('denied', 0))).status).toBe('DEDUPLICATED');
  expect((await dispatch(ctx, process.env, slot('denied', 1))).status).toBe('STARTED');
  expect(alerts.published).toHaveLength(1);
});

it('sets aside a queued run that can never start, so the runs behind it start', async () => {
  const first = await dispatch(ctx, process.env, slot('head', 10));
  expect(first.status).toBe('STARTED');
  const doomed = runIdOf('head', 11);
  harness.fake.refusals.set(doomed, 'StateMachineDoesNotExist');
  expect((await dispatch(ctx, process.env, slot('head', 11))).status).toBe('QUEUED');
  expect((await dispatch(ctx, process.env, slot('head', 12))).status).toBe('QUEUED');

  harness.fake.finish('head', runIdOf('head', 10));
  const released = await dispatch(ctx, process.env, {
    kind: 'finished',
    event: runFinished({ pipeline: 'head', runId: runIdOf('head', 10) }),
  });

  expect(released).toMatchObject({ status: 'RELEASED', started: [runIdOf('head', 12)] });
  expect(await holders('head')).toEqual([runIdOf('head', 12)]);
  expect(await harness.items('QUEUE#head')).toEqual([]);
  expect((await findRun(harness.services.dynamodb, LEDGER, 'head', doomed))?.status).toBe('FAILED');
  expect(alerts.published.map((a) => a.Subject)).toEqual([
    'stepwise: head run FAILED: could not start (StateMachineDoesNotExist)',
  ]);
});

it('keeps the slot and throws on a failure that may pass (the Lambda retries the event)', async () => {
  harness.fake.failStarts(1);
  await expect(dispatch(ctx, process.env, slot('flaky', 20))).rejects.toThrow(/failing on purpose/);
  expect(await holders('flaky')).toEqual([runIdOf('flaky', 20)]);
  // The retry finishes the start under the same slot.
  expect((await dispatch(ctx, process.env, slot('flaky', 20))).status).toBe('STARTED');
  expect(await holders('flaky')).toEqual([runIdOf('flaky', 20)]);
  expect(harness.fake.byName(runIdOf('flaky', 20))?.status).toBe('RUNNING');
  expect(alerts.published).toEqual([]);
});
