import { describe, expect, it } from 'vitest';
import { causeMessage, type HistoryEvent, taskAttempts } from '../../lib/ledger/task-attempts.ts';

/** Second `s` of the run, as an ISO time. */
const at = (s: number) => new Date(Date.UTC(2026, 10, 1, 2, 0, 0) + s * 1000).toISOString();
const entered = (state: string, s: number): HistoryEvent => ({ type: 'entered', state, at: at(s) });
const exited = (state: string, s: number): HistoryEvent => ({ type: 'exited', state, at: at(s) });
const retried = (state: string, s: number): HistoryEvent => ({ type: 'retried', state, at: at(s) });
const failed = (state: string, s: number, cause = 'boom'): HistoryEvent => ({
  type: 'failed',
  state,
  at: at(s),
  error: 'Error',
  cause,
});

/** The attempts as `task#attempt STATUS start-end`, in seconds of the run. */
const summary = (events: HistoryEvent[], tasks: string[]) =>
  taskAttempts(events, new Set(tasks)).map(
    (a) =>
      `${a.task}#${a.attempt} ${a.status} ${(Date.parse(a.startedAt) - Date.parse(at(0))) / 1000}-${
        a.endedAt === undefined ? '' : (Date.parse(a.endedAt) - Date.parse(at(0))) / 1000
      }`,
  );

describe('taskAttempts', () => {
  it('records one attempt per task that runs once, with its duration', () => {
    const attempts = taskAttempts([entered('ingest', 0), exited('ingest', 2)], new Set(['ingest']));
    expect(attempts).toEqual([
      {
        task: 'ingest',
        attempt: 1,
        status: 'SUCCEEDED',
        startedAt: at(0),
        endedAt: at(2),
        durationMs: 2000,
        error: undefined,
        cause: undefined,
      },
    ]);
  });

  it('records each retry as its own attempt, counting from 1', () => {
    const events = [
      entered('load', 0),
      failed('load', 1, 'connection reset'),
      retried('load', 3),
      failed('load', 4, 'connection reset again'),
      retried('load', 6),
      exited('load', 7),
    ];
    expect(summary(events, ['load'])).toEqual([
      'load#1 FAILED 0-1',
      'load#2 FAILED 3-4',
      'load#3 SUCCEEDED 6-7',
    ]);
    const attempts = taskAttempts(events, new Set(['load']));
    expect(attempts.map((a) => [a.error, a.cause, a.durationMs])).toEqual([
      ['Error', 'connection reset', 1000],
      ['Error', 'connection reset again', 1000],
      [undefined, undefined, 1000],
    ]);
  });

  it('keeps a caught failure FAILED when the state exits after it', () => {
    // A Catch sends the run on: the library reports the failure, then the state's exit.
    const events = [
      entered('monitor', 0),
      failed('monitor', 1, 'dashboard unreachable'),
      exited('monitor', 1),
    ];
    const [attempt] = taskAttempts(events, new Set(['monitor']));
    expect(attempt).toMatchObject({ status: 'FAILED', endedAt: at(1), cause: 'dashboard unreachable' });
    expect(taskAttempts(events, new Set(['monitor']))).toHaveLength(1);
  });

  it('counts attempts across the run when a retry group runs a task again', () => {
    const events = [
      entered('ingest', 0),
      exited('ingest', 1),
      entered('Retry transform to publish', 1),
      entered('transform', 1),
      exited('transform', 2),
      entered('publish', 2),
      failed('publish', 3, 'throttled'),
      entered('publish failed', 3),
      exited('publish failed', 3),
      // The group's Parallel retries: both tasks are entered afresh, not retried.
      entered('transform', 5),
      exited('transform', 6),
      entered('publish', 6),
      exited('publish', 7),
      exited('Retry transform to publish', 7),
    ];
    expect(summary(events, ['ingest', 'transform', 'publish'])).toEqual([
      'ingest#1 SUCCEEDED 0-1',
      'transform#1 SUCCEEDED 1-2',
      'publish#1 FAILED 2-3',
      'transform#2 SUCCEEDED 5-6',
      'publish#2 SUCCEEDED 6-7',
    ]);
  });

  it('ignores states that are not tasks, such as ledger writes and parallels', () => {
    const events = [
      entered('Record run start', 0),
      exited('Record run start', 0),
      entered('a', 1),
      failed('a', 2),
      entered('a failed', 2),
      exited('a failed', 2),
      entered('a raise', 2),
      failed('a raise', 2),
    ];
    expect(summary(events, ['a'])).toEqual(['a#1 FAILED 1-2']);
  });

  it('tracks tasks of parallel branches apart, however their events interleave', () => {
    const events = [
      entered('b', 0),
      entered('c', 0),
      exited('c', 1),
      failed('b', 2),
      retried('b', 3),
      exited('b', 4),
    ];
    expect(summary(events, ['b', 'c'])).toEqual(['b#1 FAILED 0-2', 'c#1 SUCCEEDED 0-1', 'b#2 SUCCEEDED 3-4']);
  });

  it('leaves an attempt that has not ended RUNNING', () => {
    const [attempt] = taskAttempts([entered('slow', 0)], new Set(['slow']));
    expect(attempt).toMatchObject({ status: 'RUNNING', endedAt: undefined, durationMs: undefined });
  });

  it('ignores an end with no attempt open', () => {
    expect(taskAttempts([exited('a', 1), failed('b', 1)], new Set(['a', 'b']))).toEqual([]);
  });
});

describe('causeMessage', () => {
  it("reads the message out of a Lambda error's JSON cause", () => {
    const cause = JSON.stringify({
      errorType: 'Error',
      errorMessage: 'amount "x" is not a number',
      trace: [],
    });
    expect(causeMessage(cause)).toBe('amount "x" is not a number');
  });

  it('keeps any other cause as it is', () => {
    expect(causeMessage('gate said no')).toBe('gate said no');
    expect(causeMessage('{"reason":"not a Lambda error"}')).toBe('{"reason":"not a Lambda error"}');
    expect(causeMessage(undefined)).toBeUndefined();
  });
});
