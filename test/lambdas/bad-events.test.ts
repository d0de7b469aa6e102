// Malformed events to the dispatcher and the recorder. Each is pinned: dropped (or ignored) and
// counted, with a reason that names what is wrong, or a clear error where retrying is right. None may
// throw for a malformed event: Lambda would retry a poison event, then dead-letter it.
import { afterAll, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { pipelineConfigJson } from '../../lambdas/dispatcher/config.ts';
import type { DispatcherContext } from '../../lambdas/dispatcher/context.ts';
import { dispatch } from '../../lambdas/dispatcher/dispatch.ts';
import { executionArn, STATE_MACHINE_ARN } from '../private/recorder-fakes.ts';
import { type RecorderHarness, startRecorderHarness } from '../private/recorder-harness.ts';

let log: MockInstance<typeof console.log>;
beforeEach(() => {
  log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  return () => vi.restoreAllMocks();
});

/** What was printed: JSON log lines and EMF metric lines. */
const printed = () => log.mock.calls.map((call) => JSON.parse(String(call[0])) as Record<string, unknown>);

describe('dispatcher', () => {
  // A malformed event must be dropped before any AWS call: this context fails the test if one is made.
  const untouchable = {
    send: () => {
      throw new Error('a malformed event reached AWS');
    },
  };
  const ctx = {
    dynamodb: untouchable,
    sfn: untouchable,
    table: 'Ledger',
    now: () => new Date('2026-11-01T00:00:00Z'),
  } as unknown as DispatcherContext;
  const env = {
    STEPWISE_PIPELINE_ORDERS: pipelineConfigJson({
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:orders',
      maxConcurrentRuns: 2,
      retentionDays: 30,
    }),
  };

  // Each with the reason it is dropped for, after 'malformed trigger event: ': the problem and where.
  const cases: [string, unknown, string][] = [
    ['nothing at all (null)', null, '✖ expected object, received null'],
    ['a string', 'run orders please', '✖ expected object, received string'],
    ['an array', [{ kind: 'manual', pipeline: 'orders' }], '✖ expected object, received array'],
    [
      'an object without a kind',
      { pipeline: 'orders' },
      "✖ expected one of 's3', 'schedule', 'manual', 'pipeline', 'event', 'finished', received nothing\n  → at kind",
    ],
    [
      'an unknown kind',
      { kind: 'teleport', pipeline: 'orders' },
      "✖ expected one of 's3', 'schedule', 'manual', 'pipeline', 'event', 'finished', received \"teleport\"\n  → at kind",
    ],
    [
      'a pipeline name that breaks the name rule',
      { kind: 'manual', pipeline: 'Orders!' },
      '✖ a pipeline name is [a-z][a-z0-9-]*, at most 40 characters\n  → at pipeline',
    ],
    [
      'a schedule time that is not a time',
      { kind: 'schedule', pipeline: 'orders', time: 'yesterday' },
      '✖ expected an ISO 8601 time with Z or an offset, such as 2026-11-01T02:00:00Z, received "yesterday"\n  → at time',
    ],
    [
      'a schedule time without Z or an offset (ambiguous local time)',
      { kind: 'schedule', pipeline: 'orders', time: '2026-11-01T02:00:00' },
      '✖ expected an ISO 8601 time with Z or an offset, such as 2026-11-01T02:00:00Z, received "2026-11-01T02:00:00"\n  → at time',
    ],
    [
      'an S3 event without an object key',
      { kind: 's3', pipeline: 'orders', event: { detail: { bucket: { name: 'raw' }, object: {} } } },
      '✖ expected string, received nothing\n  → at event.detail.object.key',
    ],
    [
      'a manual run with an empty run key',
      { kind: 'manual', pipeline: 'orders', runKey: '' },
      '✖ expected at least 1 character(s)\n  → at runKey',
    ],
    [
      'an afterPipeline event with no upstreams',
      {
        kind: 'pipeline',
        pipeline: 'orders',
        upstreams: [],
        event: {
          detail: {
            pipeline: 'ingest',
            runId: 'r1',
            status: 'SUCCEEDED',
            logicalTime: '2026-11-01T00:00:00Z',
          },
        },
      },
      '✖ expected at least 1 item(s)\n  → at upstreams',
    ],
    [
      'an onEvent event without an id',
      { kind: 'event', pipeline: 'orders', event: { source: 'acme', 'detail-type': 'Ping' } },
      '✖ expected string, received nothing\n  → at event.id',
    ],
    [
      'a Run Finished event without a run id',
      { kind: 'finished', event: { detail: { pipeline: 'orders', status: 'SUCCEEDED' } } },
      '✖ expected string, received nothing\n  → at event.detail.runId',
    ],
    [
      'a Run Finished event with no detail',
      { kind: 'finished', event: {} },
      '✖ expected object, received nothing\n  → at event.detail',
    ],
  ];

  it.each(cases)('drops %s, counted, with the reason', async (_name, event, reason) => {
    const result = await dispatch(ctx, env, event);
    expect(result).toEqual({ status: 'DROPPED', reason: `malformed trigger event: ${reason}` });
    const lines = printed();
    // The log line names the event and the reason, never a stack trace.
    expect(JSON.stringify(lines)).not.toMatch(/\\n\s+at /);
    expect(lines.filter((l) => l.DroppedEvents === 1)).toHaveLength(1);
    // A name taken from a malformed event never becomes a metric dimension.
    expect(lines.find((l) => l.DroppedEvents === 1)).not.toHaveProperty('Pipeline');
    expect(lines.filter((l) => l.level === 'warn' && String(l.message).startsWith('dropped: '))).toHaveLength(
      1,
    );
  });

  it('names the field and what it expected in the reason', async () => {
    const reasons = await Promise.all(
      [
        { kind: 'schedule', pipeline: 'orders', time: 'yesterday' },
        { kind: 'teleport', pipeline: 'orders' },
        { kind: 'manual', pipeline: 'Orders!' },
        null,
      ].map(async (event) => {
        const result = await dispatch(ctx, env, event);
        return result.status === 'DROPPED' ? result.reason : result.status;
      }),
    );
    expect(reasons).toMatchInlineSnapshot(`
      [
        "malformed trigger event: ✖ expected an ISO 8601 time with Z or an offset, such as 2026-11-01T02:00:00Z, received "yesterday"
        → at time",
        "malformed trigger event: ✖ expected one of 's3', 'schedule', 'manual', 'pipeline', 'event', 'finished', received "teleport"
        → at kind",
        "malformed trigger event: ✖ a pipeline name is [a-z][a-z0-9-]*, at most 40 characters
        → at pipeline",
        "malformed trigger event: ✖ expected object, received null",
      ]
    `);
  });

  it('drops a well-formed event for a pipeline it does not serve, naming the missing variable', async () => {
    const result = await dispatch(ctx, env, { kind: 'manual', pipeline: 'ghost' });
    expect(result).toEqual({
      status: 'DROPPED',
      reason:
        "no pipeline named 'ghost' is deployed with this dispatcher: its environment has no STEPWISE_PIPELINE_GHOST",
    });
  });

  it('fails when a pipeline variable is malformed: a deployment mistake, kept for the fix, not dropped', async () => {
    await expect(
      dispatch(
        ctx,
        { STEPWISE_PIPELINE_ORDERS: '{"stateMachineArn":"arn","maxConcurrentRuns":"two"}' },
        {
          kind: 'manual',
          pipeline: 'orders',
        },
      ),
    ).rejects.toThrow(/^STEPWISE_PIPELINE_ORDERS is not a pipeline configuration: .*maxConcurrentRuns/s);
  });
});

describe('recorder', () => {
  let harness: RecorderHarness;
  let handler: (event: unknown) => Promise<unknown>;

  beforeAll(async () => {
    harness = await startRecorderHarness();
    await harness.useNewTable();
    ({ handler } = await import('../../lambdas/recorder/index.ts'));
  });
  afterAll(async () => {
    await harness?.close();
  });

  const statusChange = (detail: unknown, overrides: Record<string, unknown> = {}) => ({
    version: '0',
    id: 'e1',
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    detail,
    ...overrides,
  });
  const arn = executionArn('bad-events');

  // Each with the reason it is ignored for: the problem, the value received and where.
  const cases: [string, unknown, string][] = [
    ['nothing at all (null)', null, 'malformed status-change event: ✖ expected object, received null'],
    [
      'an empty object',
      {},
      'malformed status-change event: ✖ expected "aws.states", received nothing\n  → at source\n✖ expected "Step Functions Execution Status Change", received nothing\n  → at ["detail-type"]\n✖ expected object, received nothing\n  → at detail',
    ],
    [
      'an S3 event',
      statusChange({ executionArn: arn, status: 'FAILED' }, { source: 'aws.s3' }),
      'malformed status-change event: ✖ expected "aws.states", received "aws.s3"\n  → at source',
    ],
    [
      'another detail type',
      statusChange({ executionArn: arn, status: 'FAILED' }, { 'detail-type': 'Run Finished' }),
      'malformed status-change event: ✖ expected "Step Functions Execution Status Change", received "Run Finished"\n  → at ["detail-type"]',
    ],
    [
      'no detail',
      statusChange(undefined),
      'malformed status-change event: ✖ expected object, received nothing\n  → at detail',
    ],
    [
      'an execution ARN that is not one',
      statusChange({ executionArn: 'orders-run-1', status: 'FAILED' }),
      'malformed status-change event: ✖ expected an execution ARN, like arn:aws:states:us-east-1:123456789012:execution:orders:run-1, received "orders-run-1"\n  → at detail.executionArn',
    ],
    [
      'a state machine ARN for an execution ARN',
      statusChange({ executionArn: STATE_MACHINE_ARN, status: 'FAILED' }),
      'malformed status-change event: ✖ expected an execution ARN, like arn:aws:states:us-east-1:123456789012:execution:orders:run-1, received "arn:aws:states:eu-west-1:123456789012:stateMachine:OrdersStateMachine"\n  → at detail.executionArn',
    ],
    [
      'a numeric execution ARN',
      statusChange({ executionArn: 42, status: 'FAILED' }),
      'malformed status-change event: ✖ expected string, received number\n  → at detail.executionArn',
    ],
    [
      'no status',
      statusChange({ executionArn: arn }),
      'malformed status-change event: ✖ expected string, received nothing\n  → at detail.status',
    ],
    [
      'a running execution',
      statusChange({ executionArn: arn, status: 'RUNNING' }),
      'execution is RUNNING, not ended',
    ],
    [
      'a status no one knows',
      statusChange({ executionArn: arn, status: 'EXPLODED' }),
      'execution is EXPLODED, not ended',
    ],
  ];

  it.each(cases)('ignores %s, with the reason, without touching AWS', async (_name, event, reason) => {
    harness.reset();
    const result = await handler(event);
    expect(result).toEqual({ outcome: 'ignored', reason });
    expect(harness.sfn.requests).toHaveLength(0);
    expect(harness.sns.published).toHaveLength(0);
    expect(harness.bus.entries).toHaveLength(0);
  });

  it('logs a malformed event as an error with the event, so it can be found', async () => {
    await handler({ source: 'aws.states' });
    expect(printed()).toEqual([
      expect.objectContaining({
        level: 'error',
        message: expect.stringMatching(/^malformed status-change event: /),
        event: { source: 'aws.states' },
      }),
    ]);
  });

  it('fails, naming the execution, for a well-formed event of an execution Step Functions does not know', async () => {
    // Not a malformed event: it may be a permission or region mistake, so it is thrown, retried by
    // Lambda twice and then kept in the dead-letter queue, never retried forever.
    await expect(handler(statusChange({ executionArn: arn, status: 'FAILED' }))).rejects.toThrow(
      /Execution Does Not Exist|ExecutionDoesNotExist/,
    );
  });
});
