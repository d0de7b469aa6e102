import { LambdaClient } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RemoteError } from '../../lib/remote/aws.ts';
import { type BackfillProgress, remoteBackfill } from '../../lib/remote/backfill.ts';
import { scheduleSlots } from '../../lib/spec/schedule-slots.ts';
import {
  type FakeEndpoint,
  type FakeInvocation,
  fakeClientConfig,
  startFakeLambda,
  stubDefaultChain,
} from './fake-aws.ts';

const DISPATCHER = 'Orders-StepwisePlatformDispatcher-4D5E6F';
const EXPRESSION = 'cron(0 * * * ? *)';
const SLOTS = scheduleSlots(
  EXPRESSION,
  'UTC',
  new Date('2026-11-01T00:00:00Z'),
  new Date('2026-11-01T06:00:00Z'),
);

interface ScheduleEvent {
  kind: string;
  pipeline: string;
  time: string;
  expression?: string;
}

const open: { fake: FakeEndpoint; client: LambdaClient }[] = [];

/** A fake Lambda with a fake dispatcher answering each schedule event, and a real client pointed at it. */
async function fakeDispatcher(answer: (event: ScheduleEvent) => FakeInvocation | Promise<FakeInvocation>) {
  const fake = await startFakeLambda({ [DISPATCHER]: (event) => answer(event as ScheduleEvent) });
  const client = new LambdaClient(fakeClientConfig(fake));
  open.push({ fake, client });
  return { fake, client };
}

afterEach(async () => {
  vi.unstubAllEnvs();
  for (const { fake, client } of open.splice(0)) {
    client.destroy();
    await fake.close();
  }
});

const started = (event: ScheduleEvent): FakeInvocation => ({
  result: {
    status: 'STARTED',
    pipeline: event.pipeline,
    runId: `schedule-${event.time.replace(/[^0-9]/g, '')}`,
    runKey: `schedule:${event.time}`,
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:Orders:schedule-${event.time.replace(/[^0-9]/g, '')}`,
  },
});

describe('remoteBackfill', () => {
  it('sends one schedule event per slot as the schedule would, and reports each slot and a summary', async () => {
    const answers: Record<string, (event: ScheduleEvent) => FakeInvocation> = {
      '2026-11-01T01:00:00Z': (e) => ({
        result: {
          status: 'DEDUPLICATED',
          pipeline: e.pipeline,
          runId: 'dup-1',
          runKey: `schedule:${e.time}`,
        },
      }),
      '2026-11-01T02:00:00Z': (e) => ({
        result: { status: 'QUEUED', pipeline: e.pipeline, runId: 'queued-2', runKey: `schedule:${e.time}` },
      }),
      '2026-11-01T03:00:00Z': () => ({ result: { status: 'DROPPED', reason: 'no pipeline named orders' } }),
    };
    const { fake, client } = await fakeDispatcher((event) => (answers[event.time] ?? started)(event));
    const progress: BackfillProgress[] = [];
    const summary = await remoteBackfill({
      dispatcher: DISPATCHER,
      pipeline: 'orders',
      slots: SLOTS,
      expression: EXPRESSION,
      concurrency: 2,
      onProgress: (p) => progress.push(p),
      clients: { lambda: client },
    });

    // exactly the payload EventBridge Scheduler sends, with <aws.scheduler.scheduled-time>, synchronously
    const events = fake.requests.map((r) => JSON.parse(r.body) as ScheduleEvent);
    expect(events.map((e) => e.time).sort()).toEqual([
      '2026-11-01T00:00:00Z',
      '2026-11-01T01:00:00Z',
      '2026-11-01T02:00:00Z',
      '2026-11-01T03:00:00Z',
      '2026-11-01T04:00:00Z',
      '2026-11-01T05:00:00Z',
    ]);
    expect(events[0]).toEqual({
      kind: 'schedule',
      pipeline: 'orders',
      time: '2026-11-01T00:00:00Z',
      expression: EXPRESSION,
    });
    expect(fake.requests.every((r) => r.headers['x-amz-invocation-type'] === 'RequestResponse')).toBe(true);

    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress.every((p) => p.total === 6)).toBe(true);
    expect(progress.find((p) => p.slot === '2026-11-01T03:00:00Z')).toEqual({
      slot: '2026-11-01T03:00:00Z',
      status: 'DROPPED',
      reason: 'no pipeline named orders',
      done: expect.any(Number),
      total: 6,
    });

    expect(summary).toEqual({
      pipeline: 'orders',
      total: 6,
      counts: { STARTED: 3, DEDUPLICATED: 1, QUEUED: 1, DROPPED: 1 },
      results: [
        {
          slot: '2026-11-01T00:00:00Z',
          status: 'STARTED',
          runId: 'schedule-20261101000000',
          executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:Orders:schedule-20261101000000',
        },
        { slot: '2026-11-01T01:00:00Z', status: 'DEDUPLICATED', runId: 'dup-1' },
        { slot: '2026-11-01T02:00:00Z', status: 'QUEUED', runId: 'queued-2' },
        { slot: '2026-11-01T03:00:00Z', status: 'DROPPED', reason: 'no pipeline named orders' },
        expect.objectContaining({ slot: '2026-11-01T04:00:00Z', status: 'STARTED' }),
        expect.objectContaining({ slot: '2026-11-01T05:00:00Z', status: 'STARTED' }),
      ],
      retry: [],
      refused: [],
    });
  });

  it('lists a slot Step Functions refused for good apart from those to send again, which it is not', async () => {
    const { client } = await fakeDispatcher((event) =>
      event.time === '2026-11-01T02:00:00Z'
        ? {
            result: {
              status: 'FAILED',
              pipeline: event.pipeline,
              runId: 'schedule-20261101020000',
              runKey: `schedule:${event.time}`,
              reason: 'StartExecution refused: AccessDeniedException',
            },
          }
        : started(event),
    );
    const summary = await remoteBackfill({
      dispatcher: DISPATCHER,
      pipeline: 'orders',
      slots: SLOTS,
      concurrency: 2,
      clients: { lambda: client },
    });
    expect(summary.counts).toEqual({ STARTED: 5, FAILED: 1 });
    expect(summary.retry).toEqual([]);
    expect(summary.refused).toEqual([
      {
        slot: '2026-11-01T02:00:00Z',
        status: 'FAILED',
        runId: 'schedule-20261101020000',
        reason: 'StartExecution refused: AccessDeniedException',
      },
    ]);
  });

  it('keeps at most concurrency invocations in flight, and uses all of them', async () => {
    let inFlight = 0;
    let most = 0;
    let releaseFirstBatch: () => void = () => undefined;
    const firstBatch = new Promise<void>((resolve) => {
      releaseFirstBatch = resolve;
    });
    const { client } = await fakeDispatcher(async (event) => {
      inFlight++;
      most = Math.max(most, inFlight);
      // hold every answer until three are waiting: a backfill sending fewer at once would never finish
      if (inFlight === 3) releaseFirstBatch();
      await firstBatch;
      inFlight--;
      return started(event);
    });
    const summary = await remoteBackfill({
      dispatcher: DISPATCHER,
      pipeline: 'orders',
      slots: SLOTS,
      concurrency: 3,
      clients: { lambda: client },
    });
    expect(most).toBe(3);
    expect(summary.counts).toEqual({ STARTED: 6 });
  });

  it('reports a slot whose dispatcher threw, and one whose invocation failed, and goes on with the rest', async () => {
    const { client } = await fakeDispatcher((event) => {
      if (event.time === '2026-11-01T01:00:00Z')
        return {
          functionError: { errorType: 'Error', errorMessage: 'ConditionalCheckFailed on SLOTS#orders' },
        };
      if (event.time === '2026-11-01T04:00:00Z')
        return {
          serviceError: { status: 500, type: 'ServiceException', message: 'Lambda had a bad moment' },
        };
      return started(event);
    });
    const summary = await remoteBackfill({
      dispatcher: DISPATCHER,
      pipeline: 'orders',
      slots: SLOTS,
      expression: EXPRESSION,
      concurrency: 1,
      clients: { lambda: client },
    });
    expect(summary.counts).toEqual({ STARTED: 4, FAILED: 2 });
    expect(summary.results.filter((r) => r.status === 'FAILED')).toMatchInlineSnapshot(`
      [
        {
          "reason": "the dispatcher threw: Error: ConditionalCheckFailed on SLOTS#orders",
          "slot": "2026-11-01T01:00:00Z",
          "status": "FAILED",
        },
        {
          "reason": "invoking the dispatcher failed: ServiceException: Lambda had a bad moment",
          "slot": "2026-11-01T04:00:00Z",
          "status": "FAILED",
        },
      ]
    `);
    expect(summary.retry).toEqual(['2026-11-01T01:00:00Z', '2026-11-01T04:00:00Z']);
    expect(summary.stopped).toBeUndefined();
  });

  it('reports a slot the dispatcher answered without a status as FAILED', async () => {
    const { client } = await fakeDispatcher(() => ({ result: { hello: 'world' } }));
    const summary = await remoteBackfill({
      dispatcher: DISPATCHER,
      pipeline: 'orders',
      slots: SLOTS.slice(0, 1),
      concurrency: 1,
      clients: { lambda: client },
    });
    expect(summary.results[0]?.reason).toMatchInlineSnapshot(
      `"the dispatcher answered without a dispatch status: {"hello":"world"}; is --dispatcher the stepwise dispatcher?"`,
    );
  });

  it('stops when the dispatcher function does not exist, listing every unsent slot to retry', async () => {
    const { client } = await fakeDispatcher(started);
    const progress: BackfillProgress[] = [];
    const summary = await remoteBackfill({
      dispatcher: 'Orders-Dispatcher-typo',
      pipeline: 'orders',
      slots: SLOTS,
      concurrency: 2,
      onProgress: (p) => progress.push(p),
      clients: { lambda: client },
    });
    expect(summary.stopped).toMatchInlineSnapshot(
      `"dispatcher function 'Orders-Dispatcher-typo' not found in eu-west-1; check --dispatcher, or let --stack find it (and --region name the stack's region)"`,
    );
    // the two in flight failed; nothing more was sent
    expect(summary.results).toHaveLength(2);
    expect(progress).toHaveLength(2);
    expect(summary.retry).toHaveLength(6);
  });

  it('stops sending when the signal aborts, and lists the rest to retry', async () => {
    const controller = new AbortController();
    const { client } = await fakeDispatcher((event) => {
      if (event.time === '2026-11-01T01:00:00Z') controller.abort();
      return started(event);
    });
    const summary = await remoteBackfill({
      dispatcher: DISPATCHER,
      pipeline: 'orders',
      slots: SLOTS,
      concurrency: 1,
      signal: controller.signal,
      clients: { lambda: client },
    });
    expect(summary.stopped).toBe('interrupted');
    expect(summary.counts).toEqual({ STARTED: 2 });
    expect(summary.retry).toEqual([
      '2026-11-01T02:00:00Z',
      '2026-11-01T03:00:00Z',
      '2026-11-01T04:00:00Z',
      '2026-11-01T05:00:00Z',
    ]);
  });

  it('invokes through the default provider chain: region, credentials and endpoint from the environment', async () => {
    const { fake } = await fakeDispatcher(started);
    stubDefaultChain(vi.stubEnv, 'LAMBDA', fake, 'ap-southeast-2');
    const summary = await remoteBackfill({
      dispatcher: DISPATCHER,
      pipeline: 'orders',
      slots: SLOTS,
      concurrency: 6,
    });
    expect(summary.counts).toEqual({ STARTED: 6 });
    expect(fake.requests[0]?.headers.authorization).toContain('/ap-southeast-2/lambda/aws4_request');
  });

  it('fails when concurrency is not a positive whole number', async () => {
    const error = await remoteBackfill({
      dispatcher: DISPATCHER,
      pipeline: 'orders',
      slots: SLOTS,
      concurrency: 0,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as Error).message).toMatchInlineSnapshot(
      `"concurrency must be a whole number of at least 1, got 0"`,
    );
  });
});
