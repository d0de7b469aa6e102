import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { dispatch } from '../../lambdas/dispatcher/dispatch.ts';
import type { DispatchResult } from '../../lambdas/dispatcher/index.ts';
import {
  type DispatcherHarness,
  LEDGER,
  runFinished,
  s3ObjectCreated,
  startDispatcherHarness,
} from '../private/dispatcher-harness.ts';

let harness: DispatcherHarness;
let handler: (event: unknown) => Promise<DispatchResult>;

beforeAll(async () => {
  harness = await startDispatcherHarness({
    busy: { maxConcurrentRuns: 2 },
    mixed: { maxConcurrentRuns: 3 },
    wake: { maxConcurrentRuns: 1 },
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
  for (let round = 0; harness.fake.running().length > 0; round++) {
    if (round > 200) throw new Error('the runs never drained');
    const running = harness.fake.running();
    const finishing = running.filter(() => next() < 0.7);
    if (finishing.length === 0) finishing.push(running[0] as (typeof running)[number]);
    for (const execution of finishing) {
      harness.fake.finish(execution.name);
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
  for (
    let round = 0;
    pending.length > 0 || harness.fake.startedFor('mixed').some((e) => e.status === 'RUNNING');
    round++
  ) {
    if (round > 300) throw new Error('the runs never drained');
    const running = harness.fake.startedFor('mixed').filter((e) => e.status === 'RUNNING');
    const finishing = running.filter(() => next() < 0.5);
    for (const execution of finishing) harness.fake.finish(execution.name);
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
    if (pending.length === 0 && harness.fake.startedFor('mixed').every((e) => e.status !== 'RUNNING'))
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
  const first = await handler(trigger(10));
  expect(first.status).toBe('STARTED');

  // A second dispatcher whose enqueue is held at the door until the first run has finished and its
  // slot has been freed and drained (finding the queue still empty).
  let reached: () => void = () => undefined;
  const atEnqueue = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let open: () => void = () => undefined;
  const door = new Promise<void>((resolve) => {
    open = resolve;
  });
  const dynamodb = new DynamoDBClient({});
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Item?: { pk?: { S?: string } } };
      if (context.commandName === 'PutItemCommand' && input.Item?.pk?.S === 'QUEUE#wake') {
        reached();
        await door;
      }
      return next(args);
    },
    { step: 'initialize' },
  );
  const ctx = { dynamodb, sfn: new SFNClient({}), table: LEDGER, now: () => new Date() };
  const second = dispatch(ctx, process.env, trigger(11));
  await atEnqueue;

  harness.fake.finish(first.status === 'STARTED' ? first.runId : '');
  const released = await handler({
    kind: 'finished',
    event: runFinished({ pipeline: 'wake', runId: first.status === 'STARTED' ? first.runId : '' }),
  });
  expect(released).toMatchObject({ status: 'RELEASED', started: [] });
  open();

  expect((await second).status).toBe('STARTED');
  expect(harness.fake.startedFor('wake').filter((e) => e.status === 'RUNNING')).toHaveLength(1);
  expect(await harness.items('QUEUE#wake')).toEqual([]);
  dynamodb.destroy();
  vi.restoreAllMocks();
});
