import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PipelineConfigError, pipelineConfig, pipelineVariable } from '../../lambdas/dispatcher/config.ts';
import type { DispatchResult } from '../../lambdas/dispatcher/index.ts';
import { executionName } from '../../lambdas/dispatcher/run-key.ts';
import {
  type DispatcherHarness,
  runFinished,
  s3ObjectCreated,
  startDispatcherHarness,
} from '../private/dispatcher-harness.ts';

let harness: DispatcherHarness;
let handler: (event: unknown) => Promise<DispatchResult>;
let printed: string[] = [];

beforeAll(async () => {
  harness = await startDispatcherHarness({
    orders: {},
    nightly: {},
    report: {},
    loader: {},
    reactor: {},
    recover: {},
    'orders-eu': { retentionDays: 30 },
  });
  ({ handler } = await import('../../lambdas/dispatcher/index.ts'));
});
afterAll(async () => {
  await harness?.close();
});
beforeEach(() => {
  printed = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => {
    printed.push(line);
  });
  return () => vi.restoreAllMocks();
});

const lines = () => printed.map((line) => JSON.parse(line) as Record<string, unknown>);
const metricLines = (name: string) => lines().filter((line) => name in line && '_aws' in line);
const inputOf = (name: string) => JSON.parse(harness.fake.byName(name)?.input ?? 'null');
const started = (result: DispatchResult) => {
  if (result.status !== 'STARTED') throw new Error(`expected STARTED, got ${JSON.stringify(result)}`);
  return result;
};

describe('config', () => {
  it('names the variable by the pipeline, upper case, - to _', () => {
    expect(pipelineVariable('orders-eu')).toBe('STEPWISE_PIPELINE_ORDERS_EU');
  });

  it('fails when the variable is not a configuration, saying what is wrong', () => {
    const env = {
      STEPWISE_PIPELINE_ORDERS: JSON.stringify({ stateMachineArn: 'arn', maxConcurrentRuns: 0 }),
    };
    expect(() => pipelineConfig(env, 'orders')).toThrow(PipelineConfigError);
    expect(() => pipelineConfig(env, 'orders')).toThrowErrorMatchingInlineSnapshot(`
      [PipelineConfigError: STEPWISE_PIPELINE_ORDERS is not a pipeline configuration: ✖ expected a number > 0, received 0
        → at maxConcurrentRuns
      ✖ expected number, received nothing
        → at retentionDays; set it to pipelineConfigJson({ stateMachineArn, maxConcurrentRuns, retentionDays })]
    `);
    expect(() => pipelineConfig({ STEPWISE_PIPELINE_ORDERS: '{' }, 'orders')).toThrow(/is not JSON/);
    expect(pipelineConfig({}, 'orders')).toBeUndefined();
  });
});

describe('dispatcher', () => {
  it('starts an S3 object once: the same event again is DEDUPLICATED, with a ledger row', async () => {
    const event = {
      kind: 's3',
      pipeline: 'orders',
      event: s3ObjectCreated('raw', 'orders/a.csv', { etag: 'e1' }),
    };
    const before = Date.now() / 1000;
    const first = started(await handler(event));
    const second = await handler(event);

    expect(second).toMatchObject({
      status: 'DEDUPLICATED',
      runId: first.runId,
      runKey: 's3:raw/orders/a.csv@e1',
    });
    expect(harness.fake.startedFor('orders').map((e) => e.name)).toEqual([first.runId]);
    const { run } = inputOf(first.runId);
    expect(run).toMatchObject({
      id: first.runId,
      pipeline: 'orders',
      key: 's3:raw/orders/a.csv@e1',
      logicalTime: '2026-11-01T02:00:00.000Z',
      trigger: { type: 's3', bucket: 'raw', key: 'orders/a.csv', etag: 'e1', copySource: 'raw/orders/a.csv' },
    });
    expect(typeof run.expiresAt).toBe('string');
    expect(Number(run.expiresAt) - before).toBeGreaterThanOrEqual(365 * 86_400 - 5);
    expect(Number(run.expiresAt) - before).toBeLessThanOrEqual(365 * 86_400 + 5);

    const rows = await harness.items('PIPELINE#orders');
    const duplicateRowId = second.status === 'DEDUPLICATED' ? second.duplicateRowId : '';
    const row = rows.find((r) => r.runId?.S === duplicateRowId);
    expect(row).toMatchObject({
      status: { S: 'DEDUPLICATED' },
      duplicateOf: { S: first.runId },
      runKey: { S: 's3:raw/orders/a.csv@e1' },
    });
    expect(Number(row?.expiresAt?.N)).toBeGreaterThan(before);
    const claim = await harness.item('RUNKEY#orders#s3:raw/orders/a.csv@e1', 'RUNKEY');
    expect(claim).toMatchObject({ state: { S: 'STARTED' }, runId: { S: first.runId } });
    expect(metricLines('DeduplicatedRuns')).toMatchObject([{ Pipeline: 'orders', DeduplicatedRuns: 1 }]);
  });

  it('keys an S3 object by version: a new version of the same key is a new run', async () => {
    const v1 = await handler({
      kind: 's3',
      pipeline: 'orders',
      event: s3ObjectCreated('raw', 'b.csv', { versionId: 'v1' }),
    });
    const v2 = await handler({
      kind: 's3',
      pipeline: 'orders',
      event: s3ObjectCreated('raw', 'b.csv', { versionId: 'v2' }),
    });
    expect([v1.status, v2.status]).toEqual(['STARTED', 'STARTED']);
    expect(started(v1).runId).not.toBe(started(v2).runId);
  });

  it('starts a schedule slot once, however its time is written', async () => {
    const first = started(
      await handler({ kind: 'schedule', pipeline: 'nightly', time: '2026-11-01T02:00:00Z' }),
    );
    const again = await handler({
      kind: 'schedule',
      pipeline: 'nightly',
      time: '2026-11-01T03:00:00.000+01:00',
    });
    expect(first.runKey).toBe('schedule:2026-11-01T02:00:00.000Z');
    expect(again).toMatchObject({ status: 'DEDUPLICATED', runId: first.runId, runKey: first.runKey });
    expect(inputOf(first.runId).run).toMatchObject({
      logicalTime: '2026-11-01T02:00:00.000Z',
      trigger: { type: 'schedule', time: '2026-11-01T02:00:00.000Z' },
    });
    const next = await handler({ kind: 'schedule', pipeline: 'nightly', time: '2026-11-02T02:00:00Z' });
    expect(next.status).toBe('STARTED');
    expect(harness.fake.startedFor('nightly')).toHaveLength(2);
  });

  it('drops malformed events and unknown pipelines, starting nothing and throwing nothing', async () => {
    const calls = harness.fake.calls.length;
    const events: unknown[] = [
      null,
      'hello',
      { kind: 'nonsense', pipeline: 'orders' },
      { kind: 's3', pipeline: 'orders', event: { detail: { bucket: { name: 'raw' }, object: {} } } },
      { kind: 'schedule', pipeline: 'nightly', time: '2026-11-01 02:00' },
      { kind: 'schedule', pipeline: 'Nightly', time: '2026-11-01T02:00:00Z' },
      {
        kind: 'pipeline',
        pipeline: 'report',
        upstreams: [],
        event: runFinished({ pipeline: 'loader', runId: 'r' }),
      },
      { kind: 'finished', event: { detail: { pipeline: 'orders' } } },
      { kind: 'schedule', pipeline: 'unknown', time: '2026-11-01T02:00:00Z' },
      { kind: 'finished', event: runFinished({ pipeline: 'unknown', runId: 'r' }) },
    ];
    const reasons: string[] = [];
    for (const event of events) {
      const result = await handler(event);
      if (result.status !== 'DROPPED') throw new Error(`${JSON.stringify(event)} was not dropped`);
      reasons.push(result.reason);
    }
    expect(harness.fake.calls.length).toBe(calls);
    expect(await harness.items('RUNKEY#unknown#schedule:2026-11-01T02:00:00.000Z')).toEqual([]);
    const dropped = metricLines('DroppedEvents');
    expect(dropped).toHaveLength(events.length);
    expect(dropped.every((line) => !('Pipeline' in line))).toBe(true);
    const warnings = lines().filter((line) => line.level === 'warn');
    expect(warnings.map((line) => line.message)).toEqual(reasons.map((reason) => `dropped: ${reason}`));
    expect(reasons.slice(2, 6)).toMatchInlineSnapshot(`
      [
        "malformed trigger event: ✖ expected one of 's3', 'schedule', 'manual', 'pipeline', 'event', 'finished', received "nonsense"
        → at kind",
        "malformed trigger event: ✖ expected string, received nothing
        → at event.detail.object.key",
        "malformed trigger event: ✖ expected an ISO 8601 time with Z or an offset, such as 2026-11-01T02:00:00Z, received "2026-11-01 02:00"
        → at time",
        "malformed trigger event: ✖ a pipeline name is [a-z][a-z0-9-]*, at most 40 characters
        → at pipeline",
      ]
    `);
    expect(reasons[8]).toMatchInlineSnapshot(
      `"no pipeline named 'unknown' is deployed with this dispatcher: its environment has no STEPWISE_PIPELINE_UNKNOWN"`,
    );
  });

  it('fails when a pipeline variable is malformed, so the event is retried after the fix', async () => {
    process.env.STEPWISE_PIPELINE_BROKEN = '{"stateMachineArn":""}';
    try {
      await expect(
        handler({ kind: 'schedule', pipeline: 'broken', time: '2026-11-01T02:00:00Z' }),
      ).rejects.toThrow(/STEPWISE_PIPELINE_BROKEN is not a pipeline configuration/);
    } finally {
      delete process.env.STEPWISE_PIPELINE_BROKEN;
    }
  });

  it('runs after a single upstream once per upstream run, and only after it SUCCEEDED', async () => {
    const envelope = (runId: string, status = 'SUCCEEDED') => ({
      kind: 'pipeline',
      pipeline: 'reactor',
      upstreams: ['loader'],
      event: runFinished({ pipeline: 'loader', runId, status, logicalTime: '2026-11-01T02:00:00Z' }),
    });
    const first = started(await handler(envelope('loader-run-1')));
    expect(first.runKey).toBe('after:loader/loader-run-1');
    expect(inputOf(first.runId).run).toMatchObject({
      logicalTime: '2026-11-01T02:00:00.000Z',
      trigger: {
        type: 'pipeline',
        upstreams: [{ pipeline: 'loader', runId: 'loader-run-1' }],
        logicalTime: '2026-11-01T02:00:00.000Z',
      },
    });
    expect((await handler(envelope('loader-run-1'))).status).toBe('DEDUPLICATED');
    expect((await handler(envelope('loader-run-2'))).status).toBe('STARTED');
    const failed = await handler(envelope('loader-run-3', 'FAILED'));
    expect(failed).toMatchObject({ status: 'DROPPED', reason: expect.stringMatching(/ended FAILED/) });
    expect(harness.fake.startedFor('reactor')).toHaveLength(2);
  });

  it('joins two upstreams: one run, only once both finished for the same logical time', async () => {
    const arrival = (upstream: string, runId: string, logicalTime: string) => ({
      kind: 'pipeline',
      pipeline: 'report',
      upstreams: ['orders', 'loader'],
      event: runFinished({ pipeline: upstream, runId, logicalTime }),
    });
    const day1 = '2026-11-01T02:00:00.000Z';
    const day2 = '2026-11-02T02:00:00.000Z';
    expect(await handler(arrival('orders', 'o-1', day1))).toEqual({
      status: 'WAITING',
      pipeline: 'report',
      runKey: `after:loader,orders@${day1}`,
      waitingFor: ['loader'],
    });
    // The other upstream, but for another day: no run.
    expect(await handler(arrival('loader', 'l-2', day2))).toMatchObject({
      status: 'WAITING',
      waitingFor: ['orders'],
    });
    // A redelivery of the first arrival changes nothing.
    expect(await handler(arrival('orders', 'o-1', '2026-11-01T03:00:00+01:00'))).toMatchObject({
      status: 'WAITING',
      waitingFor: ['loader'],
    });
    expect(harness.fake.startedFor('report')).toEqual([]);

    const joined = started(await handler(arrival('loader', 'l-1', day1)));
    expect(joined.runKey).toBe(`after:loader,orders@${day1}`);
    expect(inputOf(joined.runId).run).toMatchObject({
      logicalTime: day1,
      trigger: {
        type: 'pipeline',
        upstreams: [
          { pipeline: 'loader', runId: 'l-1' },
          { pipeline: 'orders', runId: 'o-1' },
        ],
        logicalTime: day1,
      },
    });
    expect(await harness.item(`JOIN#report#${day1}`, 'JOIN')).toMatchObject({
      arrived: { SS: expect.arrayContaining(['orders', 'loader']) },
      upstreamRuns: { M: { orders: { S: 'o-1' }, loader: { S: 'l-1' } } },
    });
    // A rerun of an upstream for the same day is a duplicate of the joined run.
    expect(await handler(arrival('orders', 'o-1-rerun', day1))).toMatchObject({
      status: 'DEDUPLICATED',
      runId: joined.runId,
    });
    expect(harness.fake.startedFor('report')).toHaveLength(1);

    // Both arrivals at once: one execution. Each sees at least its own arrival, and at least one sees
    // both. A second one that does either finds the claim unfinished and joins the same execution
    // (STARTED), or finds it finished (DEDUPLICATED).
    const day3 = '2026-11-03T02:00:00.000Z';
    const racing = await Promise.all([
      handler(arrival('orders', 'o-3', day3)),
      handler(arrival('loader', 'l-3', day3)),
    ]);
    const statuses = racing.map((r) => r.status).sort();
    expect(statuses).toContain('STARTED');
    expect(statuses.every((s) => s === 'STARTED' || s === 'DEDUPLICATED' || s === 'WAITING')).toBe(true);
    expect(new Set(racing.flatMap((r) => ('runId' in r ? [r.runId] : []))).size).toBe(1);
    expect(harness.fake.startedFor('report')).toHaveLength(2);
  });

  it('starts a custom event once, keyed by its id', async () => {
    const envelope = {
      kind: 'event',
      pipeline: 'orders-eu',
      event: {
        version: '0',
        id: 'evt-123',
        source: 'billing',
        'detail-type': 'Invoice Issued',
        time: '2026-11-01T02:00:00Z',
        detail: { invoice: 42 },
      },
    };
    const first = started(await handler(envelope));
    expect(first).toMatchObject({ pipeline: 'orders-eu', runKey: 'event:evt-123' });
    expect(first.runId).toBe(executionName('event', 'Invoice Issued', 'event:evt-123'));
    const { run } = inputOf(first.runId);
    expect(run.trigger).toEqual({
      type: 'event',
      source: 'billing',
      detailType: 'Invoice Issued',
      id: 'evt-123',
      detail: { invoice: 42 },
    });
    expect(Number(run.expiresAt) - Date.now() / 1000).toBeLessThanOrEqual(30 * 86_400 + 5);
    expect((await handler(envelope)).status).toBe('DEDUPLICATED');
  });

  it('recovers a start that failed after the claim: the redelivery starts it, once', async () => {
    const envelope = { kind: 'schedule', pipeline: 'recover', time: '2026-11-05T02:00:00Z' };
    harness.fake.failStarts(10);
    await expect(handler(envelope)).rejects.toThrow(/failing on purpose/);
    const key = 'RUNKEY#recover#schedule:2026-11-05T02:00:00.000Z';
    expect(await harness.item(key, 'RUNKEY')).toMatchObject({ state: { S: 'CLAIMED' } });
    expect(harness.fake.startedFor('recover')).toEqual([]);

    harness.fake.failStarts(0);
    const recovered = started(await handler(envelope));
    expect(harness.fake.startedFor('recover').map((e) => e.name)).toEqual([recovered.runId]);
    expect(await harness.item(key, 'RUNKEY')).toMatchObject({ state: { S: 'STARTED' } });
    expect((await handler(envelope)).status).toBe('DEDUPLICATED');
  });

  it('recovers a start whose response was lost: the redelivery joins the running execution', async () => {
    const envelope = { kind: 'schedule', pipeline: 'recover', time: '2026-11-06T02:00:00Z' };
    harness.fake.failStarts(10, true);
    await expect(handler(envelope)).rejects.toThrow(/lost the response/);
    expect(harness.fake.startedFor('recover')).toHaveLength(2);
    harness.fake.failStarts(0);

    const recovered = started(await handler(envelope));
    const execution = harness.fake.byName(recovered.runId);
    expect(recovered.executionArn).toBe(execution?.executionArn);
    expect(harness.fake.startedFor('recover')).toHaveLength(2);
  });

  it('recovers a claim whose execution ran and closed: DEDUPLICATED, and the slot is given back', async () => {
    const envelope = { kind: 'schedule', pipeline: 'recover', time: '2026-11-07T02:00:00Z' };
    harness.fake.failStarts(10, true);
    await expect(handler(envelope)).rejects.toThrow(/lost the response/);
    harness.fake.failStarts(0);
    const [execution] = harness.fake.startedFor('recover').filter((e) => e.input.includes('2026-11-07'));
    harness.fake.finish('recover', execution?.name ?? '');

    const result = await handler(envelope);
    expect(result).toMatchObject({ status: 'DEDUPLICATED', runId: execution?.name });
    const slots = await harness.item('SLOTS#recover', 'SLOTS');
    expect(slots?.active?.SS ?? []).not.toContain(execution?.name);
  });

  it('frees a slot on Run Finished, idempotently', async () => {
    const result = await handler({
      kind: 'finished',
      event: runFinished({ pipeline: 'orders', runId: 'nobody' }),
    });
    expect(result).toEqual({ status: 'RELEASED', pipeline: 'orders', runId: 'nobody', started: [] });
  });
});
