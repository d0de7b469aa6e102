// The reconciler finishes the start of a trigger whose dispatcher stopped after claiming it and whose
// event is never delivered again (dead-lettered after Lambda's retries), against dynalite through the
// real SDK and the fake Step Functions of the dispatcher harness. Without it the claim would stay
// CLAIMED with no run, and the trigger would be stranded.
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { dispatch } from '../../lambdas/dispatcher/dispatch.ts';
import type { DispatchResult } from '../../lambdas/dispatcher/index.ts';
import type { ReconcilerResult } from '../../lambdas/reconciler/index.ts';
import {
  type DispatcherHarness,
  hookedContext,
  runFinished,
  startReconcilerHarness,
} from '../private/dispatcher-harness.ts';

let harness: DispatcherHarness;
let dispatcher: (event: unknown) => Promise<DispatchResult>;
let reconciler: () => Promise<ReconcilerResult>;

beforeAll(async () => {
  ({ harness, dispatcher, reconciler } = await startReconcilerHarness({
    lapsed: { maxConcurrentRuns: 1 },
    full: { maxConcurrentRuns: 1 },
  }));
});
afterAll(async () => {
  await harness?.close();
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  return () => vi.restoreAllMocks();
});

/** A reconciler pass with this grace period: 0 stands for a pass long after the claim. */
const reconcileAfter = (minutes: number) => {
  process.env.RECONCILE_AFTER_MINUTES = String(minutes);
  return reconciler();
};
const slot = (pipeline: string, hour: number) => ({
  kind: 'schedule',
  pipeline,
  time: new Date(Date.UTC(2026, 4, 1, hour)).toISOString(),
});
const claimOf = (pipeline: string, hour: number) =>
  harness.item(`RUNKEY#${pipeline}#schedule:${new Date(Date.UTC(2026, 4, 1, hour)).toISOString()}`, 'RUNKEY');
const holders = async (pipeline: string) =>
  (await harness.item(`SLOTS#${pipeline}`, 'SLOTS'))?.active?.SS ?? [];
const runIdOf = (result: DispatchResult) => ('runId' in result ? result.runId : '');

it('starts a trigger whose every delivery failed after the claim, once, and only after the grace period', async () => {
  // StartExecution fails through all three deliveries (the first and Lambda's two retries); the event
  // then goes to the dead-letter queue, and nothing delivers it again.
  harness.fake.failStarts(100);
  for (let delivery = 0; delivery < 3; delivery++)
    await expect(dispatcher(slot('lapsed', 0))).rejects.toThrow(/failing on purpose/);
  harness.fake.failStarts(0);
  expect(await claimOf('lapsed', 0)).toMatchObject({ state: { S: 'CLAIMED' }, status: { S: 'CLAIMED' } });
  expect(harness.fake.startedFor('lapsed')).toEqual([]);

  // Within the grace period a dispatcher may still be on its way: the claim is left alone.
  expect(await reconcileAfter(10)).toMatchObject({ claimsRestarted: 0, errors: 0 });
  expect(harness.fake.startedFor('lapsed')).toEqual([]);

  // Past it, the reconciler admits the claim as a redelivery would: the run starts, into the slot.
  expect(await reconcileAfter(0)).toMatchObject({ claimsRestarted: 1, errors: 0 });
  const started = harness.fake.startedFor('lapsed');
  expect(started.map((e) => [e.name, e.status])).toEqual([[expect.stringMatching(/^schedule-/), 'RUNNING']]);
  const claim = await claimOf('lapsed', 0);
  expect(claim).toMatchObject({ state: { S: 'STARTED' } });
  expect(claim).not.toHaveProperty('status');
  expect(await holders('lapsed')).toEqual([started[0]?.name]);

  // Nothing more to do on the next pass; the run ends, its slot is freed, and the trigger stays done.
  expect(await reconcileAfter(0)).toMatchObject({ claimsRestarted: 0, errors: 0 });
  expect(harness.fake.startedFor('lapsed')).toHaveLength(1);
  harness.fake.finish('lapsed', started[0]?.name ?? '');
  await dispatcher({
    kind: 'finished',
    event: runFinished({ pipeline: 'lapsed', runId: started[0]?.name ?? '' }),
  });
  expect(await holders('lapsed')).toEqual([]);
  expect((await dispatcher(slot('lapsed', 0))).status).toBe('DEDUPLICATED');
  expect(harness.fake.startedFor('lapsed')).toHaveLength(1);
});

it('queues a lapsed claim behind a full slot, and the queue starts it when the slot is freed', async () => {
  const running = await dispatcher(slot('full', 0));
  expect(running.status).toBe('STARTED');
  // A dispatcher claims the next slot's run key and stops there, before asking for a slot.
  const dies = hookedContext(({ command, pk }) => {
    if (command !== 'PutItem' || !pk?.startsWith('RUNKEY#'))
      throw new Error('dispatcher died after the claim');
  });
  await expect(dispatch(dies, process.env, slot('full', 1))).rejects.toThrow(
    'dispatcher died after the claim',
  );
  dies.destroy();
  expect(await claimOf('full', 1)).toMatchObject({ state: { S: 'CLAIMED' } });

  expect(await reconcileAfter(0)).toMatchObject({ claimsRestarted: 1, errors: 0 });
  expect(await claimOf('full', 1)).toMatchObject({ state: { S: 'QUEUED' } });
  expect(await harness.items('QUEUE#full')).toHaveLength(1);
  expect(harness.fake.runningFor('full').map((e) => e.name)).toEqual([runIdOf(running)]);

  harness.fake.finish('full', runIdOf(running));
  const released = await dispatcher({
    kind: 'finished',
    event: runFinished({ pipeline: 'full', runId: runIdOf(running) }),
  });
  expect(released).toMatchObject({
    status: 'RELEASED',
    started: [expect.stringMatching(/^schedule-2026-05-01T01/)],
  });
  expect(await harness.items('QUEUE#full')).toEqual([]);
  expect(await claimOf('full', 1)).toMatchObject({ state: { S: 'STARTED' } });
  expect(harness.fake.maxRunningFor('full')).toBe(1);
});

it('marks a lapsed claim STARTED without a second execution when its start went through after all', async () => {
  // The start reached Step Functions but the dispatcher never heard back, on every delivery.
  harness.fake.failStarts(100, true);
  for (let delivery = 0; delivery < 3; delivery++)
    await expect(dispatcher(slot('lapsed', 5))).rejects.toThrow(/lost the response/);
  harness.fake.failStarts(0);
  expect(await claimOf('lapsed', 5)).toMatchObject({ state: { S: 'CLAIMED' } });
  const before = harness.fake.startedFor('lapsed').length;

  expect(await reconcileAfter(0)).toMatchObject({ claimsRestarted: 1, errors: 0 });
  expect(await claimOf('lapsed', 5)).toMatchObject({ state: { S: 'STARTED' } });
  expect(harness.fake.startedFor('lapsed')).toHaveLength(before);
  expect(harness.fake.maxRunningFor('lapsed')).toBe(1);
});
