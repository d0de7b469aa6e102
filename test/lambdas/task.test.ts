import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  BUCKETS_VARIABLE,
  DataError,
  defineTask,
  GateOutputError,
  type TaskContext,
  TaskEnvironmentError,
  TaskEventError,
  TaskOutputError,
} from '../../lambdas/task/index.ts';

function taskEvent(overrides: Record<string, unknown> = {}) {
  return {
    run: {
      id: 'run-1',
      pipeline: 'orders',
      trigger: { type: 's3', bucket: 'raw', key: 'orders/orders-2026-11-01.csv', etag: 'abc' },
      logicalTime: '2026-11-01T02:00:00Z',
    },
    task: 'ingest',
    gate: false,
    inputs: {},
    params: {},
    retryCount: 0,
    ...overrides,
  };
}

// The runtime's JSON log lines (task-log.test.ts reads them) are kept out of the test output.
beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('defineTask', () => {
  it('passes the run, inputs and params, and counts attempts from 1', async () => {
    let received: TaskContext | undefined;
    const handler = defineTask((ctx) => {
      received = ctx;
      return { ok: true };
    });
    await handler(taskEvent({ inputs: { ingest: { rows: 3 } }, params: { limit: 10 }, retryCount: 2 }));
    expect(received).toEqual({
      run: {
        id: 'run-1',
        pipeline: 'orders',
        trigger: { type: 's3', bucket: 'raw', key: 'orders/orders-2026-11-01.csv', etag: 'abc' },
        logicalTime: '2026-11-01T02:00:00Z',
      },
      inputs: { ingest: { rows: 3 } },
      params: { limit: 10 },
      attempt: 3,
      buckets: {},
      log: { info: expect.any(Function), warn: expect.any(Function), error: expect.any(Function) },
    });
  });

  it('gives the real names of the declared buckets in ctx.buckets, from STEPWISE_BUCKETS', async () => {
    vi.stubEnv(BUCKETS_VARIABLE, JSON.stringify({ raw: 'orders-raw-1a2b3c', curated: 'acme-curated' }));
    const handler = defineTask((ctx) => ctx.buckets);
    await expect(handler(taskEvent())).resolves.toEqual({
      raw: 'orders-raw-1a2b3c',
      curated: 'acme-curated',
    });
    vi.stubEnv(BUCKETS_VARIABLE, '');
    await expect(handler(taskEvent())).resolves.toEqual({});
  });

  it('fails when STEPWISE_BUCKETS is not an object of bucket names', async () => {
    const handler = defineTask((ctx) => ctx.buckets);
    vi.stubEnv(BUCKETS_VARIABLE, '["raw"]');
    await expect(handler(taskEvent())).rejects.toThrowErrorMatchingInlineSnapshot(
      `[TaskEnvironmentError: STEPWISE_BUCKETS must be a JSON object from bucket names to real bucket names, such as {"raw":"orders-raw-1a2b3c"}; received ["raw"]. Pipeline sets it from the spec: deploy the handler and the pipeline from the same stepwise version.]`,
    );
    vi.stubEnv(BUCKETS_VARIABLE, '{"raw":""}');
    await expect(handler(taskEvent())).rejects.toThrow(TaskEnvironmentError);
  });

  it('types params from the second type argument', async () => {
    const handler = defineTask<number, { limit: number }>((ctx) => ctx.params.limit * 2);
    await expect(handler(taskEvent({ params: { limit: 21 } }))).resolves.toBe(42);
  });

  it('types the handler from what the task returns', () => {
    expectTypeOf(defineTask(async () => ({ uri: 'a' }))).returns.resolves.toEqualTypeOf<{ uri: string }>();
    expectTypeOf(defineTask(() => 1)).returns.resolves.toEqualTypeOf<number>();
    expectTypeOf(defineTask(async () => {})).returns.resolves.toEqualTypeOf<null>();
    expectTypeOf(defineTask(() => (Math.random() > 0.5 ? 'a' : undefined))).returns.resolves.toEqualTypeOf<
      'a' | null
    >();
  });

  it('resolves to what the task returns', async () => {
    const handler = defineTask(async () => ({ uri: 's3://raw/processed/a.json', rows: 12 }));
    await expect(handler(taskEvent())).resolves.toEqual({ uri: 's3://raw/processed/a.json', rows: 12 });
  });

  it('sends an undefined output as null', async () => {
    const handler = defineTask(async () => {});
    await expect(handler(taskEvent())).resolves.toBeNull();
  });

  it('accepts every trigger kind', async () => {
    const handler = defineTask((ctx) => ctx.run.trigger.type);
    const triggers = [
      { type: 's3', bucket: 'raw', key: 'a.csv', versionId: 'v1', etag: 'e', size: 10 },
      { type: 'schedule', time: '2026-11-01T01:00:00Z', expression: 'cron(0 2 * * ? *)' },
      {
        type: 'pipeline',
        upstreams: [
          { pipeline: 'a', runId: 'run-0' },
          { pipeline: 'b', runId: 'run-1' },
        ],
        logicalTime: '2026-11-01T00:00:00+01:00',
      },
      { type: 'event', source: 'acme.billing', detailType: 'Invoice Paid', id: 'e-1', detail: { n: 1 } },
      { type: 'manual', input: { bucket: 'raw', key: 'a.csv' } },
      { type: 'manual' },
    ];
    for (const trigger of triggers) {
      const event = taskEvent({ run: { ...taskEvent().run, trigger } });
      await expect(handler(event)).resolves.toBe(trigger.type);
    }
  });

  it('lets a DataError through with its name, message and cause', async () => {
    const cause = new Error('parse failed');
    const handler = defineTask(() => {
      throw new DataError('line 3: amount "12,5x" is not a number', { cause });
    });
    const error = await handler(taskEvent()).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({
      name: 'DataError',
      message: 'line 3: amount "12,5x" is not a number',
      cause,
    });
  });

  it('lets any other error through unchanged', async () => {
    const thrown = new TypeError('socket hang up');
    const handler = defineTask(async () => {
      throw thrown;
    });
    await expect(handler(taskEvent())).rejects.toBe(thrown);
  });

  it('names every error class explicitly, so minified bundles keep the errorType', () => {
    expect(
      [new DataError('x'), new GateOutputError('x'), new TaskEventError('x'), new TaskOutputError('x')].map(
        (error) => [error.name, error instanceof Error],
      ),
    ).toEqual([
      ['DataError', true],
      ['GateOutputError', true],
      ['TaskEventError', true],
      ['TaskOutputError', true],
    ]);
  });

  it('logs through stdout only, never through console, even when it fails', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation(() => {}),
    );
    await defineTask(() => 1)(taskEvent());
    await defineTask(() => 1n)(taskEvent()).catch(() => {});
    await defineTask(() => 1)({}).catch(() => {});
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    expect(process.stdout.write).toHaveBeenCalledTimes(4); // started and ended, twice; not for the malformed event
  });

  it('fails when the event is not an object', async () => {
    await expect(defineTask(() => 1)(null)).rejects.toThrowErrorMatchingInlineSnapshot(`
      [TaskEventError: malformed task event (1 problem):
        event: expected an object, received null
      The compiled state machine builds this event: deploy the handler and the state machine from the same stepwise version.]
    `);
  });

  it('fails when the event is malformed, listing every problem with its path', async () => {
    const event = {
      run: { id: '', trigger: { type: 's3', bucket: 7 }, logicalTime: 'yesterday' },
      task: 'ingest',
      gate: 'no',
      inputs: [],
      retryCount: -1,
    };
    const error = await defineTask(() => 1)(event).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TaskEventError);
    expect(error).toMatchInlineSnapshot(`
      [TaskEventError: malformed event for task 'ingest' (9 problems):
        run.id: must not be empty
        run.pipeline: missing, expected a string
        run.trigger.bucket: expected a string, received 7
        run.trigger.key: missing, expected a string
        run.logicalTime: expected an ISO 8601 date-time such as "2026-11-01T02:00:00Z", received "yesterday"
        gate: expected a boolean, received "no"
        inputs: expected an object, received []
        params: missing, expected an object
        retryCount: must be at least 0, received -1
      The compiled state machine builds this event: deploy the handler and the state machine from the same stepwise version.]
    `);
  });

  it('fails when the trigger type is unknown or missing', async () => {
    const handler = defineTask(() => 1);
    const withTrigger = (trigger: unknown) => taskEvent({ run: { ...taskEvent().run, trigger } });
    await expect(
      handler(withTrigger({ type: 'sqs', queue: 'q' })),
    ).rejects.toThrowErrorMatchingInlineSnapshot(`
      [TaskEventError: malformed event for task 'ingest' (1 problem):
        run.trigger.type: expected one of "s3", "schedule", "pipeline", "event", "manual", received "sqs"
      The compiled state machine builds this event: deploy the handler and the state machine from the same stepwise version.]
    `);
    await expect(handler(withTrigger({ bucket: 'raw' }))).rejects.toThrowErrorMatchingInlineSnapshot(`
      [TaskEventError: malformed event for task 'ingest' (1 problem):
        run.trigger.type: missing, expected one of "s3", "schedule", "pipeline", "event", "manual"
      The compiled state machine builds this event: deploy the handler and the state machine from the same stepwise version.]
    `);
  });

  it('fails when retryCount is not an integer', async () => {
    await expect(
      defineTask(() => 1)(taskEvent({ retryCount: 1.5 })),
    ).rejects.toThrowErrorMatchingInlineSnapshot(`
      [TaskEventError: malformed event for task 'ingest' (1 problem):
        retryCount: expected an integer, received 1.5
      The compiled state machine builds this event: deploy the handler and the state machine from the same stepwise version.]
    `);
  });

  it('does not call the task when the event is malformed', async () => {
    const fn = vi.fn(() => 1);
    await defineTask(fn)({}).catch(() => {});
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('defineTask for a gate', () => {
  const gateEvent = taskEvent({ task: 'validate', gate: true });

  it('accepts { pass } with or without a reason, and extra fields for the tasks after it', async () => {
    await expect(defineTask(() => ({ pass: true }))(gateEvent)).resolves.toEqual({ pass: true });
    await expect(defineTask(() => ({ pass: false, reason: 'line 3: bad' }))(gateEvent)).resolves.toEqual({
      pass: false,
      reason: 'line 3: bad',
    });
    await expect(defineTask(() => ({ pass: true, source: { key: 'a.csv' } }))(gateEvent)).resolves.toEqual({
      pass: true,
      source: { key: 'a.csv' },
    });
  });

  it('fails when a gate returns a bare boolean', async () => {
    await expect(defineTask(() => true)(gateEvent)).rejects.toThrowErrorMatchingInlineSnapshot(
      `[GateOutputError: gate task 'validate' must return { pass: boolean, reason?: string }, received true]`,
    );
  });

  it('fails when a gate returns pass as a string', async () => {
    await expect(defineTask(() => ({ pass: 'yes' }))(gateEvent)).rejects.toThrowErrorMatchingInlineSnapshot(
      `[GateOutputError: gate task 'validate' must return { pass: boolean, reason?: string }, received {"pass":"yes"}]`,
    );
  });

  it('fails when a gate returns a reason that is not a string', async () => {
    await expect(
      defineTask(() => ({ pass: false, reason: 3 }))(gateEvent),
    ).rejects.toThrowErrorMatchingInlineSnapshot(
      `[GateOutputError: gate task 'validate' must return { pass: boolean, reason?: string }, received {"pass":false,"reason":3}]`,
    );
  });

  it('fails when a gate returns nothing', async () => {
    await expect(defineTask(async () => {})(gateEvent)).rejects.toThrowErrorMatchingInlineSnapshot(
      `[GateOutputError: gate task 'validate' must return { pass: boolean, reason?: string }, received null]`,
    );
  });

  it('does not check the shape when the task is not a gate', async () => {
    await expect(defineTask(() => true)(taskEvent())).resolves.toBe(true);
  });
});

describe('defineTask output checks', () => {
  it('accepts values that JSON writes faithfully, such as dates', async () => {
    const output = { at: new Date('2026-11-01T00:00:00Z'), list: [1, null, 'a'], nested: { x: undefined } };
    await expect(defineTask(() => output)(taskEvent())).resolves.toBe(output);
  });

  it('accepts an output of exactly 200 KiB', async () => {
    const output = 'x'.repeat(200 * 1024 - 2);
    await expect(defineTask(() => output)(taskEvent())).resolves.toBe(output);
  });

  it('fails when the output is larger than 200 KiB', async () => {
    const output = { rows: 'x'.repeat(300 * 1024) };
    await expect(defineTask(() => output)(taskEvent())).rejects.toThrowErrorMatchingInlineSnapshot(
      `[TaskOutputError: task 'ingest' returned 300.0 KiB of JSON (307211 bytes); the limit is 200 KiB, since Step Functions caps a state's payload at 256 KiB. Outputs should be small references like S3 URIs and counts, not data: write the data to S3 and return its URI.]`,
    );
  });

  it('fails when the output holds a function', async () => {
    const output = { files: [{ key: 'a.csv', open: () => {} }] };
    await expect(defineTask(() => output)(taskEvent())).rejects.toThrowErrorMatchingInlineSnapshot(
      `[TaskOutputError: task 'ingest' returned an output that is not JSON: output.files[0].open is a function. Outputs travel through Step Functions as JSON.]`,
    );
  });

  it('fails when the output holds a bigint', async () => {
    await expect(defineTask(() => ({ bytes: 12n }))(taskEvent())).rejects.toThrowErrorMatchingInlineSnapshot(
      `[TaskOutputError: task 'ingest' returned an output that is not JSON: output.bytes is a bigint (12n); use a number or a string. Outputs travel through Step Functions as JSON.]`,
    );
  });

  it('fails when the output is circular', async () => {
    const output: Record<string, unknown> = { source: { key: 'a.csv' } };
    (output.source as Record<string, unknown>)['back-ref'] = output;
    await expect(defineTask(() => output)(taskEvent())).rejects.toThrowErrorMatchingInlineSnapshot(
      `[TaskOutputError: task 'ingest' returned an output that is not JSON: output.source["back-ref"] is a circular reference to output. Outputs travel through Step Functions as JSON.]`,
    );
  });

  it('accepts the same object twice when it is not circular', async () => {
    const shared = { key: 'a.csv' };
    await expect(defineTask(() => [shared, shared])(taskEvent())).resolves.toEqual([shared, shared]);
  });

  it('fails when the output holds a number JSON cannot write', async () => {
    await expect(
      defineTask(() => ({ ratio: Number.NaN }))(taskEvent()),
    ).rejects.toThrowErrorMatchingInlineSnapshot(`
      [TaskOutputError: task 'ingest' returned an output that is not JSON: output.ratio is NaN, which JSON writes as null. Outputs travel through Step Functions as JSON.]
    `);
  });

  it('fails when the output holds a Map', async () => {
    await expect(
      defineTask(() => ({ totals: new Map([['EUR', 1]]) }))(taskEvent()),
    ).rejects.toThrowErrorMatchingInlineSnapshot(
      `[TaskOutputError: task 'ingest' returned an output that is not JSON: output.totals is a Map, which JSON writes as {}; use a plain object or an array. Outputs travel through Step Functions as JSON.]`,
    );
  });
});
