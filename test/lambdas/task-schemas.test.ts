// defineTask with schemas: inputs and params are checked before the task runs, the output after, each
// failure naming the field; ctx is typed from the schemas.

import {
  DataError,
  defineTask,
  type StandardSchemaV1,
  TaskEventError,
  TaskOutputError,
} from 'stepwise-cdk/task';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import * as zod from 'zod';
import * as z from 'zod/mini';

function taskEvent(overrides: Record<string, unknown> = {}) {
  return {
    run: {
      id: 'run-1',
      pipeline: 'orders',
      trigger: { type: 'manual' },
      logicalTime: '2026-11-01T02:00:00Z',
    },
    task: 'transform',
    gate: false,
    inputs: { ingest: { uri: 's3://raw/a.json', rows: 3 } },
    params: { limit: 10 },
    retryCount: 0,
    ...overrides,
  };
}

const inputs = z.object({ ingest: z.object({ uri: z.string(), rows: z.number() }) });

// zod keeps its configuration on globalThis, and the first classic zod schema built in a process
// registers zod's English messages there for every schema, zod/mini's too. The package's spec schemas
// are classic zod, so a test file that ran earlier in this process (vitest shares a process between
// files) has done so; these tests start as a handler's process does that imports zod/mini only.
let processLocale: ReturnType<typeof zod.config>['localeError'];
beforeAll(() => {
  processLocale = zod.config().localeError;
});
afterAll(() => {
  zod.config({ localeError: processLocale });
});

beforeEach(() => {
  zod.config({ localeError: undefined });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('defineTask with schemas', () => {
  it("passes the schemas' parsed inputs and params to the task", async () => {
    const handler = defineTask(
      {
        inputs,
        params: z.object({ limit: z.number(), mode: z._default(z.enum(['full', 'delta']), 'delta') }),
      },
      (ctx) => ({ rows: ctx.inputs.ingest.rows, limit: ctx.params.limit, mode: ctx.params.mode }),
    );
    await expect(handler(taskEvent())).resolves.toEqual({ rows: 3, limit: 10, mode: 'delta' });
  });

  it('resolves to the output schema’s parsed value', async () => {
    const handler = defineTask(
      {
        output: z.object({
          count: z.pipe(
            z.string(),
            z.transform((text) => Number(text)),
          ),
        }),
      },
      () => ({ count: '12' }),
    );
    await expect(handler(taskEvent())).resolves.toEqual({ count: 12 });
  });

  it('fails with a DataError naming the field when an input does not match, and does not run the task', async () => {
    const fn = vi.fn(() => 1);
    const handler = defineTask({ inputs }, fn);
    const error = await failureOf(
      handler(taskEvent({ inputs: { ingest: { uri: 's3://raw/a.json', rows: '3' } } })),
    );
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchInlineSnapshot(`[DataError: inputs.ingest.rows: expected number, received string]`);
    expect(fn).not.toHaveBeenCalled();
  });

  it('fails naming every problem in the inputs at once', async () => {
    const handler = defineTask(
      {
        inputs: z.object({
          ingest: z.object({
            uri: z.string().check(z.startsWith('s3://')),
            rows: z.int().check(z.minimum(1)),
          }),
          day: z.iso.date(),
          note: z.string().check(z.regex(/^[a-z]+$/), z.maxLength(4)),
          validate: z.object({
            pass: z.boolean(),
            files: z.array(z.string()),
            kind: z.enum(['csv', 'json']),
          }),
        }),
      },
      () => 1,
    );
    const error = await failureOf(
      handler(
        taskEvent({
          inputs: {
            ingest: { uri: '/tmp/a.json', rows: 0 },
            day: '2026-13-01',
            note: 'Hello!',
            validate: { pass: 'yes', files: ['a', 2], kind: 'xml' },
          },
        }),
      ),
    );
    expect((error as DataError).message.split('; ')).toMatchInlineSnapshot(`
      [
        "inputs.ingest.uri: expected to start with "s3://", received "/tmp/a.json"",
        "inputs.ingest.rows: expected at least 1, received 0",
        "inputs.day: expected date format, received "2026-13-01"",
        "inputs.note: expected to match /^[a-z]+$/, received "Hello!"",
        "inputs.note: expected at most 4 characters, received 6",
        "inputs.validate.pass: expected boolean, received string",
        "inputs.validate.files[1]: expected string, received number",
        "inputs.validate.kind: expected "csv" or "json", received "xml"",
      ]
    `);
  });

  it('fails saying a missing input is missing', async () => {
    const handler = defineTask({ inputs }, () => 1);
    await expect(handler(taskEvent({ inputs: {} }))).rejects.toThrowErrorMatchingInlineSnapshot(
      `[DataError: inputs.ingest: missing, expected object]`,
    );
  });

  it('fails with a TaskEventError, not a DataError, when the params from the spec do not match', async () => {
    const handler = defineTask({ params: z.object({ limit: z.number() }) }, () => 1);
    const error = await failureOf(handler(taskEvent({ params: { limit: '10' } })));
    expect(error).toBeInstanceOf(TaskEventError);
    expect(error).toMatchInlineSnapshot(
      `[TaskEventError: task 'transform' has params that do not match its params schema: params.limit: expected number, received string. Params are the same on every run: fix tasks.transform.params in the spec, or the schema in the handler.]`,
    );
  });

  it('fails with a TaskOutputError naming the field when the output does not match', async () => {
    const handler = defineTask(
      { output: z.object({ uri: z.string(), rows: z.number() }) },
      // The type checker catches this one; a cast stands in for a value that only goes wrong at run time.
      () => ({ uri: 's3://curated/a.json', rows: Number.NaN as unknown as number, extra: true }),
    );
    const error = await failureOf(handler(taskEvent()));
    expect(error).toBeInstanceOf(TaskOutputError);
    expect(error).toMatchInlineSnapshot(
      `[TaskOutputError: task 'transform' returned an output that does not match its output schema: output.rows: expected number, received NaN. The handler builds its output, so this is a bug in the handler: it is not retried.]`,
    );
  });

  it('uses the schema library’s own message when it has one', async () => {
    const handler = defineTask(
      { inputs: zod.object({ ingest: zod.object({ rows: zod.number() }) }) },
      () => 1,
    );
    await expect(
      handler(taskEvent({ inputs: { ingest: { rows: '3' } } })),
    ).rejects.toThrowErrorMatchingInlineSnapshot(
      `[DataError: inputs.ingest.rows: Invalid input: expected number, received string]`,
    );
  });

  it('accepts any Standard Schema, with async validation and path segments as objects', async () => {
    const positiveRows: StandardSchemaV1<{ rows: number }> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: async (value) => {
          const rows = (value as { rows?: unknown }).rows;
          return typeof rows === 'number' && rows > 0
            ? { value: { rows } }
            : { issues: [{ message: 'must be a positive number', path: [{ key: 'rows' }] }] };
        },
      },
    };
    const handler = defineTask({ output: positiveRows }, () => ({ rows: 0 }));
    await expect(handler(taskEvent())).rejects.toThrow(
      'an output that does not match its output schema: output.rows: must be a positive number.',
    );
    await expect(defineTask({ output: positiveRows }, () => ({ rows: 2 }))(taskEvent())).resolves.toEqual({
      rows: 2,
    });
  });

  it('checks a gate’s output shape after its schema', async () => {
    const handler = defineTask({ output: z.object({ pass: z.boolean() }) }, () => ({ pass: true }));
    await expect(handler(taskEvent({ gate: true }))).resolves.toEqual({ pass: true });
  });

  it('fails at once when a schema is not a Standard Schema, or its key is misspelled', () => {
    expect(() =>
      defineTask({ input: inputs, output: { parse: () => 1 } } as never, () => 1),
    ).toThrowErrorMatchingInlineSnapshot(
      `[TypeError: defineTask: unknown key 'input'; the schemas are inputs, params, output; output is not a Standard Schema (it has no '~standard'.validate); pass a zod 4 or zod/mini schema, or another Standard Schema library's]`,
    );
    expect(() => defineTask({ inputs } as never)).toThrowErrorMatchingInlineSnapshot(
      `[TypeError: defineTask: expected a task function after the schemas, received undefined]`,
    );
  });

  it('types ctx and the handler from the schemas', () => {
    const handler = defineTask(
      { inputs, params: z.object({ limit: z.number() }), output: z.object({ rows: z.number() }) },
      (ctx) => {
        expectTypeOf(ctx.inputs.ingest).toEqualTypeOf<{ uri: string; rows: number }>();
        expectTypeOf(ctx.params).toEqualTypeOf<{ limit: number }>();
        return { rows: Math.min(ctx.inputs.ingest.rows, ctx.params.limit) };
      },
    );
    expectTypeOf(handler).returns.resolves.toEqualTypeOf<{ rows: number }>();
    expectTypeOf(
      defineTask({ inputs }, (ctx) => ctx.inputs.ingest.uri),
    ).returns.resolves.toEqualTypeOf<string>();
    expectTypeOf(defineTask({ inputs }, (ctx) => ctx.params)).returns.resolves.toEqualTypeOf<
      Record<string, unknown>
    >();
    // @ts-expect-error the output schema wants rows to be a number
    defineTask({ output: z.object({ rows: z.number() }) }, () => ({ rows: '3' }));
    // @ts-expect-error ingest has no field `count`
    defineTask({ inputs }, (ctx) => ctx.inputs.ingest.count);
  });
});
