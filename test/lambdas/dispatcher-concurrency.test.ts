import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { dispatch } from '../../lambdas/dispatcher/dispatch.ts';
import type { DispatchResult } from '../../lambdas/dispatcher/index.ts';
import {
  type DispatcherHarness,
  hookedContext,
  runFinished,
  s3ObjectCreated,
  signal,
  startDispatcherHarness,
} from '../private/dispatcher-harness.ts';

let harness: DispatcherHarness;
let handler: (event: unknown) => Promise<DispatchResult>;

beforeAll(async () => {
  harness = await startDispatcherHarness({
    busy: { maxConcurrentRuns: 2 },
    mixed: { maxConcurrentRuns: 3 },
    wake: { maxConcurrentRuns: 1 },
    crash: { maxConcurrentRuns: 1 },
  });
  ({ handler } = await import('../../lambdas/dispatcher/index.ts'));
});
afterAll(async () => {
  await harness?.close();
});

/** mulberry32: a seeded order, so a failing interleaving of deliveries can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], next: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

const SEED = 20261101;

const started = (result: DispatchResult) => {
  if (result.status !== 'STARTED') throw new Error(`expected STARTED, got ${JSON.stringify(result)}`);
  return result;
};

it(`runs 50 simultaneous triggers at most 2 at a time, each exactly once, through concurrent, shuffled and repeated Run Finished events (seed ${SEED})`, async () => {
  const printed: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => {
    printed.push(line);
  });
  const next = random(SEED);
  const trigger = (i: number) => ({
    kind: 's3',
    pipeline: 'busy',
    event: s3ObjectCreated('raw', `in/${i}.csv`, { etag: `etag-${i}` }),
  });

  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => handler(trigger(i))));
  expect(results.filter((r) => r.status === 'STARTED')).toHaveLength(2);
  expect(results.filter((r) => r.status === 'QUEUED')).toHaveLength(48);
  expect(printed.filter((line) => line.includes('"QueuedRuns":1'))).toHaveLength(48);
  const runIds = new Set(results.map((r) => ('runId' in r ? r.runId : '')));
  expect(runIds.size).toBe(50);

  const finished: string[] = [];
  const reportedStarted = new Set(results.filter((r) => r.status === 'STARTED').map((r) => r.runId));
  for (let round = 0; harness.fake.runningFor('busy').length > 0; round++) {
    if (round > 200) throw new Error('the runs never drained');
    const running = harness.fake.runningFor('busy');
    const finishing = running.filter(() => next() < 0.7);
    if (finishing.length === 0) finishing.push(running[0] as (typeof running)[number]);
    for (const execution of finishing) {
      harness.fake.finish('busy', execution.name);
      finished.push(execution.name);
    }
    // Redeliveries: Run Finished events of runs that finished earlier, and a trigger seen before.
    const repeats = finished.filter(() => next() < 0.1);
    const deliveries = shuffle(
      [
        ...[...finishing.map((e) => e.name), ...repeats].map((runId) => ({
          kind: 'finished',
          event: runFinished({ pipeline: 'busy', runId }),
        })),
        ...(next() < 0.3 ? [trigger(Math.floor(next() * 50))] : []),
      ],
      next,
    );
    const outcomes = await Promise.all(deliveries.map((event) => handler(event)));
    for (const outcome of outcomes) {
      expect(['RELEASED', 'DEDUPLICATED']).toContain(outcome.status);
      if (outcome.status === 'RELEASED') for (const runId of outcome.started) reportedStarted.add(runId);
    }
    const slots = await harness.item('SLOTS#busy', 'SLOTS');
    expect(slots?.active?.SS?.length ?? 0).toBeLessThanOrEqual(2);
  }

  const executions = harness.fake.startedFor('busy');
  expect(harness.fake.maxRunningFor('busy')).toBe(2);
  expect(executions).toHaveLength(50);
  expect(new Set(executions.map((e) => e.name))).toEqual(runIds);
  expect(reportedStarted).toEqual(runIds);
  expect(await harness.items('QUEUE#busy')).toEqual([]);
  expect((await harness.item('SLOTS#busy', 'SLOTS'))?.active).toBeUndefined();
  const claims = await Promise.all(
    Array.from({ length: 50 }, (_, i) => harness.item(`RUNKEY#busy#s3:raw/in/${i}.csv@etag-${i}`, 'RUNKEY')),
  );
  expect(claims.map((claim) => claim?.state?.S)).toEqual(Array(50).fill('STARTED'));
  vi.restoreAllMocks();
});

it(`interleaves new triggers with Run Finished events without losing a wake-up (seed ${SEED})`, async () => {
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const next = random(SEED + 1);
  const trigger = (i: number) => ({
    kind: 'schedule',
    pipeline: 'mixed',
    time: new Date(Date.UTC(2026, 0, 1, i)).toISOString(),
  });
  const pending = Array.from({ length: 40 }, (_, i) => i);
  const runIds = new Set<string>();
  // Each wave: a few new triggers and the Run Finished events of some running runs, all at once. A run
  // queued while a slot is being freed is the case a missed wake-up would strand.
  for (let round = 0; pending.length > 0 || harness.fake.runningFor('mixed').length > 0; round++) {
    if (round > 300) throw new Error('the runs never drained');
    const running = harness.fake.runningFor('mixed');
    const finishing = running.filter(() => next() < 0.5);
    for (const execution of finishing) harness.fake.finish('mixed', execution.name);
    const fresh = pending.splice(0, Math.floor(next() * 5));
    const deliveries = shuffle(
      [
        ...fresh.map(trigger),
        ...finishing.map((e) => ({
          kind: 'finished',
          event: runFinished({ pipeline: 'mixed', runId: e.name }),
        })),
      ],
      next,
    );
    for (const outcome of await Promise.all(deliveries.map((event) => handler(event)))) {
      expect(['STARTED', 'QUEUED', 'RELEASED']).toContain(outcome.status);
      if (outcome.status === 'STARTED' || outcome.status === 'QUEUED') runIds.add(outcome.runId);
    }
    // Nothing running and nothing new coming: whatever is still queued has been stranded.
    if (pending.length === 0 && harness.fake.runningFor('mixed').length === 0)
      expect(await harness.items('QUEUE#mixed')).toEqual([]);
  }
  const executions = harness.fake.startedFor('mixed');
  expect(executions).toHaveLength(40);
  expect(new Set(executions.map((e) => e.name))).toEqual(runIds);
  expect(harness.fake.maxRunningFor('mixed')).toBe(3);
  expect(await harness.items('QUEUE#mixed')).toEqual([]);
  vi.restoreAllMocks();
});

it('starts a run queued while the last slot was being freed: the enqueuer drains after queueing', async () => {
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const trigger = (day: number) => ({ kind: 'schedule', pipeline: 'wake', time: `2026-12-${day}T00:00:00Z` });
  const first = started(await handler(trigger(10)));

  // A second dispatcher whose enqueue is held at the door until the first run has finished and its
  // slot has been freed and drained (finding the queue still empty).
  const atEnqueue = signal();
  const door = signal();
  const ctx = hookedContext(async ({ command, pk }) => {
    if (command === 'PutItem' && pk === 'QUEUE#wake') {
      atEnqueue.fire();
      await door.promise;
    }
  });
  const second = dispatch(ctx, process.env, trigger(11));
  await atEnqueue.promise;

  harness.fake.finish('wake', first.runId);
  const released = await handler({
    kind: 'finished',
    event: runFinished({ pipeline: 'wake', runId: first.runId }),
  });
  expect(released).toMatchObject({ status: 'RELEASED', started: [] });
  door.fire();

  expect((await second).status).toBe('STARTED');
  expect(harness.fake.runningFor('wake')).toHaveLength(1);
  expect(await harness.items('QUEUE#wake')).toEqual([]);
  ctx.destroy();
  vi.restoreAllMocks();
});

it('loses no run when a dispatcher dies after queueing it: the queue keeps it, and a redelivery drains', async () => {
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const trigger = (day: number) => ({
    kind: 'schedule',
    pipeline: 'crash',
    time: `2026-12-${10 + day}T00:00:00Z`,
  });
  const holder = started(await handler(trigger(1)));

  // Dies after writing the queue item, before marking the claim QUEUED: the claim stays CLAIMED.
  const diesAtMark = hookedContext(({ command, input }) => {
    if (command === 'UpdateItem' && JSON.stringify(input).includes('QUEUED'))
      throw new Error('dispatcher died');
  });
  await expect(dispatch(diesAtMark, process.env, trigger(2))).rejects.toThrow('dispatcher died');
  diesAtMark.destroy();
  expect(await harness.items('QUEUE#crash')).toHaveLength(1);
  // The holder finishes: the ordinary drain finds the queue item and starts the run.
  harness.fake.finish('crash', holder.runId);
  const released = await handler({
    kind: 'finished',
    event: runFinished({ pipeline: 'crash', runId: holder.runId }),
  });
  expect(released).toMatchObject({ status: 'RELEASED', started: [expect.stringMatching(/^schedule-/)] });
  const second = released.status === 'RELEASED' ? (released.started[0] as string) : '';
  expect((await handler(trigger(2))).status).toBe('DEDUPLICATED');

  // Dies after marking the claim QUEUED, before its own drain, while the slot is being freed: nothing
  // would drain the queue again but the Lambda's retry of the same event.
  const atEnqueue = signal();
  const door = signal();
  const diesAtDrain = hookedContext(async ({ command, pk }) => {
    if (command === 'PutItem' && pk === 'QUEUE#crash') {
      atEnqueue.fire();
      await door.promise;
    }
    if (command === 'Query' && pk === 'QUEUE#crash') throw new Error('dispatcher died');
  });
  const third = dispatch(diesAtDrain, process.env, trigger(3));
  await atEnqueue.promise;
  harness.fake.finish('crash', second);
  expect(
    await handler({ kind: 'finished', event: runFinished({ pipeline: 'crash', runId: second }) }),
  ).toMatchObject({
    started: [],
  });
  door.fire();
  await expect(third).rejects.toThrow('dispatcher died');
  diesAtDrain.destroy();
  expect(harness.fake.runningFor('crash')).toEqual([]);

  const retried = await handler(trigger(3));
  expect(retried.status).toBe('DEDUPLICATED');
  expect(harness.fake.runningFor('crash')).toHaveLength(1);
  expect(harness.fake.startedFor('crash')).toHaveLength(3);
  expect(await harness.items('QUEUE#crash')).toEqual([]);
  vi.restoreAllMocks();
});
