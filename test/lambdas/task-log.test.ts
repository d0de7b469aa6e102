// ctx.log and the runtime's own start and end lines: one JSON line per call on stdout, each carrying the
// run id, pipeline, task and attempt.

import { DataError, defineTask, LOG_LEVEL_VARIABLE } from 'stepwise-cdk/task';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';

const event = {
  run: { id: 'run-7', pipeline: 'orders', trigger: { type: 'manual' }, logicalTime: '2026-11-01T02:00:00Z' },
  task: 'publish',
  gate: false,
  inputs: {},
  params: {},
  retryCount: 1,
};

let write: MockInstance<typeof process.stdout.write>;

beforeEach(() => {
  write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** Each line written to stdout, parsed; every write must be exactly one JSON line. */
function lines(): Record<string, unknown>[] {
  return write.mock.calls.map(([chunk]) => {
    const text = String(chunk);
    expect(text.endsWith('\n') && !text.slice(0, -1).includes('\n')).toBe(true);
    return JSON.parse(text) as Record<string, unknown>;
  });
}

const correlation = { runId: 'run-7', pipeline: 'orders', task: 'publish', attempt: 2 };

describe('ctx.log', () => {
  it('writes one JSON line per call with the level, message, run id, pipeline, task, attempt and fields', async () => {
    await defineTask((ctx) => {
      ctx.log.info('wrote the file', { key: 'curated/a.json', rows: 12 });
      ctx.log.warn('slow upstream', { ms: 900 });
      ctx.log.error('gave up on one row', { line: 3 });
    })(event, { awsRequestId: 'req-1' });
    const [started, info, warn, error, ended] = lines();
    expect(info).toEqual({
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      level: 'info',
      message: 'wrote the file',
      ...correlation,
      requestId: 'req-1',
      key: 'curated/a.json',
      rows: 12,
    });
    expect(Object.keys(info ?? {}).slice(0, 7)).toEqual([
      'timestamp',
      'level',
      'message',
      'runId',
      'pipeline',
      'task',
      'attempt',
    ]);
    expect([warn, error]).toMatchObject([
      { level: 'warn', message: 'slow upstream', ms: 900, ...correlation },
      { level: 'error', message: 'gave up on one row', line: 3, ...correlation },
    ]);
    expect([started, ended]).toMatchObject([
      { level: 'info', message: 'task started', trigger: 'manual', ...correlation },
      { level: 'info', message: 'task succeeded', outcome: 'succeeded', durationMs: expect.any(Number) },
    ]);
  });

  it('keeps the correlation fields when a field has the same name', async () => {
    await defineTask((ctx) => ctx.log.info('x', { task: 'other', runId: 'forged', extra: 1 }))(event);
    expect(lines()[1]).toMatchObject({ ...correlation, message: 'x', extra: 1 });
  });

  it('writes an Error as its name, message and stack, a bigint as a string, and never throws', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await defineTask((ctx) => {
      ctx.log.error('failed', { error: new TypeError('socket hang up'), bytes: 12n });
      ctx.log.info('circular', { circular });
    })(event);
    const [, failed, odd] = lines();
    expect(failed).toMatchObject({
      error: { name: 'TypeError', message: 'socket hang up', stack: expect.stringContaining('TypeError') },
      bytes: '12',
    });
    expect(odd).toMatchObject({
      message: 'circular',
      fields: expect.stringMatching(/^not logged: Converting circular structure to JSON/),
    });
  });

  it('ends a failed invocation with an error line naming the error', async () => {
    const handler = defineTask(() => {
      throw new DataError('no rows');
    });
    await expect(handler(event)).rejects.toThrow('no rows');
    expect(lines()[1]).toMatchObject({
      level: 'error',
      message: 'task failed',
      outcome: 'failed',
      durationMs: expect.any(Number),
      error: { name: 'DataError', message: 'no rows' },
      ...correlation,
    });
  });

  it(`drops lines below ${LOG_LEVEL_VARIABLE}`, async () => {
    vi.stubEnv(LOG_LEVEL_VARIABLE, 'warn');
    await defineTask((ctx) => {
      ctx.log.info('hidden');
      ctx.log.warn('shown');
    })(event);
    expect(lines().map((line) => line.message)).toEqual(['shown']);
    write.mockClear();
    vi.stubEnv(LOG_LEVEL_VARIABLE, 'silent');
    await defineTask((ctx) => ctx.log.error('hidden'))(event);
    expect(write).not.toHaveBeenCalled();
  });

  it(`warns about an unknown ${LOG_LEVEL_VARIABLE}, and logs at info`, async () => {
    vi.stubEnv(LOG_LEVEL_VARIABLE, 'verbose');
    await defineTask((ctx) => ctx.log.info('shown'))(event);
    expect(lines().map((line) => [line.level, line.message])).toEqual([
      [
        'warn',
        "STEPWISE_LOG_LEVEL is 'verbose'; expected one of info, warn, error, silent. Logging at info.",
      ],
      ['info', 'task started'],
      ['info', 'shown'],
      ['info', 'task succeeded'],
    ]);
  });

  it('leaves out the start and end lines under the local engine, which reports each attempt itself', async () => {
    vi.stubEnv('STEPWISE_LOCAL', '1');
    await defineTask((ctx) => ctx.log.info('still logged'))(event);
    expect(lines().map((line) => line.message)).toEqual(['still logged']);
  });
});
