// A task that throws something other than an Error is recorded with the value shown, not as
// '[object Object]' (what Lambda's Node runtime makes of a plain object).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DataError, defineTask, ThrownValueError } from '../../lambdas/task/index.ts';

const event = {
  run: { id: 'run-1', pipeline: 'orders', trigger: { type: 'manual' }, logicalTime: '2026-11-01T02:00:00Z' },
  task: 'ingest',
  gate: false,
  inputs: {},
  params: {},
  retryCount: 0,
};

// The runtime's JSON log lines are kept out of the test output.
beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function thrownBy(value: unknown): Promise<unknown> {
  const handler = defineTask(() => {
    throw value;
  });
  return handler(event).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('defineTask, when the task throws a value that is not an Error', () => {
  it('fails with a ThrownValueError that shows an object', async () => {
    const error = await thrownBy({ code: 42 });
    expect(error).toBeInstanceOf(ThrownValueError);
    expect((error as Error).name).toBe('ThrownValueError');
    expect((error as ThrownValueError).value).toEqual({ code: 42 });
    expect((error as Error).message).toMatchInlineSnapshot(
      `"the task threw an object, { code: 42 }, which is not an Error; throw new Error('...') (or DataError for bad data) so its message and stack reach the ledger"`,
    );
  });

  it.each([
    ['a string', 'boom', "a string, 'boom'"],
    ['a number', 7, 'a number, 7'],
    ['null', null, 'null'],
    ['an array', [1, 2], 'an array, [ 1, 2 ]'],
  ])('shows %s', async (_, value, shown) => {
    const error = (await thrownBy(value)) as Error;
    expect(error.message).toContain(`the task threw ${shown}, which is not an Error`);
    expect(error.message).not.toContain('[object Object]');
  });

  it('passes an Error through unchanged', async () => {
    const thrown = new DataError('row 3 has no id');
    expect(await thrownBy(thrown)).toBe(thrown);
  });
});
