// RetryableError: retried by the task's policy, and its suggested delay waited out inside the
// invocation, no longer than the Lambda's remaining time allows. Fake timers make the order testable
// without timing anything.

import { defineTask, RetryableError } from 'stepwise-cdk/task';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { NON_RETRYABLE_ERRORS } from '../../lib/compile/integrations.ts';

const event = {
  run: { id: 'run-1', pipeline: 'orders', trigger: { type: 'manual' }, logicalTime: '2026-11-01T02:00:00Z' },
  task: 'publish',
  gate: false,
  inputs: {},
  params: {},
  retryCount: 0,
};

/** Lambda's context, with a remaining time that does not run down: the clock is fake. */
const lambdaContext = (remainingMs: number) => ({
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => remainingMs,
});

let write: MockInstance<typeof process.stdout.write>;

beforeEach(() => {
  write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const messages = () => write.mock.calls.map(([chunk]) => JSON.parse(String(chunk)).message as string);

/** Starts the handler and records when it settles, so a test can tell "still waiting" from "failed". */
function start(handler: (event: unknown, context?: object) => Promise<unknown>, context?: object) {
  const settled: unknown[] = [];
  const done = handler(event, context).then(
    () => settled.push('resolved'),
    (error: unknown) => settled.push(error),
  );
  return { settled, done };
}

describe('RetryableError', () => {
  it('is named RetryableError, which the state machine retries under the task policy', () => {
    const error = new RetryableError('rate limited', { retryAfter: '30s', cause: 'HTTP 429' });
    expect([error.name, error.message, error.retryAfterMs, error.cause]).toEqual([
      'RetryableError',
      'rate limited',
      30_000,
      'HTTP 429',
    ]);
    expect(NON_RETRYABLE_ERRORS).not.toContain('RetryableError');
  });

  it('takes the delay as milliseconds or a duration string', () => {
    expect(
      [250, '500ms', '1.5s', '2m', '1h', 0].map(
        (retryAfter) => new RetryableError('x', { retryAfter: retryAfter as 0 }).retryAfterMs,
      ),
    ).toEqual([250, 500, 1500, 120_000, 3_600_000, 0]);
    expect(new RetryableError('x').retryAfterMs).toBeUndefined();
  });

  it('fails when the delay is not a duration', () => {
    expect(() => new RetryableError('x', { retryAfter: 'soon' as '1s' })).toThrowErrorMatchingInlineSnapshot(
      `[TypeError: RetryableError: retryAfter "soon" is not a delay; give milliseconds (a number, 0 or more) or a string such as '500ms', '30s', '5m' or '1h']`,
    );
    expect(() => new RetryableError('x', { retryAfter: -1 })).toThrow(TypeError);
  });
});

describe('defineTask, when the task throws a RetryableError with a delay', () => {
  it('waits out the delay, then fails with the same error', async () => {
    const thrown = new RetryableError('rate limited', { retryAfter: '20s' });
    const { settled, done } = start(
      defineTask(() => {
        throw thrown;
      }),
      lambdaContext(60_000),
    );
    await vi.advanceTimersByTimeAsync(19_999);
    expect(settled).toEqual([]);
    expect(messages()).toEqual([
      'task started',
      'waiting 20000 ms before failing, as the RetryableError suggests',
    ]);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(settled).toEqual([thrown]);
    expect(messages().at(-1)).toBe('task failed');
  });

  it("cuts the wait to the Lambda's remaining time, less a second", async () => {
    const { settled, done } = start(
      defineTask(() => {
        throw new RetryableError('busy', { retryAfter: '5m' });
      }),
      lambdaContext(3_000),
    );
    await vi.advanceTimersByTimeAsync(1_999);
    expect(settled).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(settled).toMatchObject([{ name: 'RetryableError', message: 'busy' }]);
    expect(messages()).toContain('waiting 2000 ms before failing, as the RetryableError suggests');
  });

  it('fails at once when less than a second is left, or no delay was suggested', async () => {
    for (const [error, context] of [
      [new RetryableError('busy', { retryAfter: '1m' }), lambdaContext(900)],
      [new RetryableError('busy'), lambdaContext(60_000)],
      [new Error('plain'), undefined],
    ] as const) {
      const { settled, done } = start(
        defineTask(() => {
          throw error;
        }),
        context,
      );
      await vi.advanceTimersByTimeAsync(0);
      await done;
      expect(settled).toEqual([error]);
    }
    expect(messages().filter((message) => message.startsWith('waiting'))).toEqual([]);
  });

  it('waits the whole delay when the host gives no remaining time', async () => {
    const { settled, done } = start(
      defineTask(async () => {
        throw new RetryableError('busy', { retryAfter: 1_500 });
      }),
    );
    await vi.advanceTimersByTimeAsync(1_499);
    expect(settled).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(settled).toHaveLength(1);
  });
});
