// The reconciler's slot repair, against dynalite through the real SDK and the fake Step Functions of
// the dispatcher harness: what the dispatcher's own protocol cannot mend when an event is lost for good.
import { afterAll, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import type { DispatchResult } from '../../lambdas/dispatcher/index.ts';
import type { ReconcilerResult } from '../../lambdas/reconciler/index.ts';
import {
  type DispatcherHarness,
  hookedContext,
  startReconcilerHarness,
} from '../private/dispatcher-harness.ts';

let harness: DispatcherHarness;
let dispatcher: (event: unknown) => Promise<DispatchResult>;
let reconciler: () => Promise<ReconcilerResult>;

beforeAll(async () => {
  ({ harness, dispatcher, reconciler } = await startReconcilerHarness(
    { lost: { maxConcurrentRuns: 2 }, stuck: { maxConcurrentRuns: 1 } },
    { RECONCILE_AFTER_MINUTES: '10' },
  ));
});
afterAll(async () => {
  await harness?.close();
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  return () => vi.restoreAllMocks();
});

const slot = (pipeline: string, hour: number) => ({
  kind: 'schedule',
  pipeline,
  time: new Date(Date.UTC(2026, 2, 1, hour)).toISOString(),
});
const holders = async (pipeline: string) =>
  (await harness.item(`SLOTS#${pipeline}`, 'SLOTS'))?.active?.SS ?? [];

it('frees the slots of runs whose Run Finished was lost, and starts the queued runs behind them', async () => {
  const results = [];
  for (let hour = 0; hour < 4; hour++) results.push(await dispatcher(slot('lost', hour)));
  expect(results.map((r) => r.status)).toEqual(['STARTED', 'STARTED', 'QUEUED', 'QUEUED']);
  // Both executions end, but their "Run Finished" events never reach the dispatcher.
  for (const r of results.slice(0, 2)) harness.fake.finish('lost', 'runId' in r ? r.runId : '');

  expect(await reconciler()).toMatchObject({ slotsReleased: 2, queuedStarted: 2, errors: 0 });

  expect(await harness.items('QUEUE#lost')).toEqual([]);
  expect((await holders('lost')).sort()).toEqual(
    results
      .slice(2)
      .map((r) => ('runId' in r ? r.runId : ''))
      .sort(),
  );
  expect(harness.fake.runningFor('lost')).toHaveLength(2);
  expect(harness.fake.maxRunningFor('lost')).toBe(2);
  // Nothing more to mend: running holders are left alone.
  expect(await reconciler()).toMatchObject({ slotsReleased: 0, queuedStarted: 0, errors: 0 });
});

it('lets go of a slot whose run never started only on the second pass, and the queue moves on', async () => {
  // A dispatcher takes the free slot for a trigger and dies before StartExecution; its event is
  // dead-lettered, so nothing delivers it again. A second trigger queues behind the dead hold.
  const dies = hookedContext(() => undefined);
  dies.sfn.middlewareStack.add(
    () => () => {
      throw new Error('dispatcher died before StartExecution');
    },
    { step: 'initialize' },
  );
  const { dispatch } = await import('../../lambdas/dispatcher/dispatch.ts');
  await expect(dispatch(dies, process.env, slot('stuck', 0))).rejects.toThrow('dispatcher died');
  dies.destroy();
  const [dead] = await holders('stuck');
  expect(dead).toMatch(/^schedule-2026-03-01T00/);
  const queued = await dispatcher(slot('stuck', 1));
  expect(queued.status).toBe('QUEUED');

  // First pass: no execution, but it may be a start under way, so it is only suspected.
  expect(await reconciler()).toMatchObject({ slotsReleased: 0, queuedStarted: 0, errors: 0 });
  expect(await holders('stuck')).toEqual([dead]);
  // Second pass, minutes later: still none. The slot goes, unremembered, and the queued run starts.
  expect(await reconciler()).toMatchObject({ slotsReleased: 1, queuedStarted: 1, errors: 0 });
  expect(harness.fake.runningFor('stuck').map((e) => e.name)).toEqual([
    'runId' in queued ? queued.runId : '',
  ]);
  // The dead hold's trigger is not lost: delivered again, it queues behind the running one.
  expect((await dispatcher(slot('stuck', 0))).status).toBe('QUEUED');
  expect(await harness.items('QUEUE#stuck')).toHaveLength(1);
});
