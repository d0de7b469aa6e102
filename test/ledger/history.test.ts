import { describe, expect, it } from 'vitest';
import { summarizeExecutionHistory } from '../../lib/ledger/history.ts';
import { at, HistoryBuilder, lambdaCause, RUN_START } from '../private/recorder-history.ts';

const LEDGER = { pk: 'PIPELINE#orders', sk: `RUN#${at(0)}#run-1` };

/** The attempts as `task#attempt STATUS start-end error`, in seconds of the run. */
function summary(builder: HistoryBuilder): string[] {
  const seconds = (iso: string | undefined) =>
    iso === undefined ? '?' : String((Date.parse(iso) - RUN_START) / 1000);
  return summarizeExecutionHistory(builder.events).attempts.map((a) =>
    [
      `${a.task}#${a.attempt}`,
      a.status,
      `${seconds(a.startedAt)}-${seconds(a.endedAt)}`,
      ...(a.error === undefined ? [] : [a.error]),
    ].join(' '),
  );
}

/** The head every stepwise execution shares: started, `Start run`, `Record run start`, `Run tasks`. */
function begin(): { b: HistoryBuilder; tasks: number } {
  const b = new HistoryBuilder();
  const started = b.executionStarted({ run: { id: 'run-1', pipeline: 'orders' } });
  const recorded = b.runStart(started, LEDGER);
  return { b, tasks: b.parallelStarted('Run tasks', recorded) };
}

describe('summarizeExecutionHistory', () => {
  it('finds one attempt per task, the states entered and the ledger key of a run that succeeded', () => {
    const { b, tasks } = begin();
    const ingest = b.task('ingest', tasks, ['ok']);
    const transform = b.task('transform', ingest, ['ok']);
    const done = b.parallelSucceeded('Run tasks', transform);
    b.executionSucceeded(b.integration('Record run success', done));

    const result = summarizeExecutionHistory(b.events);
    expect(summary(b)).toEqual(['ingest#1 SUCCEEDED 11-13', 'transform#1 SUCCEEDED 16-18']);
    // Start run, Record run start, Run tasks, ingest, transform, Record run success
    expect(result.transitions).toBe(6);
    expect(result.ledgerKey).toEqual(LEDGER);
    expect(result.attempts[0]).toEqual({
      task: 'ingest',
      attempt: 1,
      status: 'SUCCEEDED',
      startedAt: at(11),
      endedAt: at(13),
      durationMs: 2000,
      error: undefined,
      cause: undefined,
    });
  });

  it('counts each retry as an attempt, keeping the error and cause of each failure', () => {
    const { b, tasks } = begin();
    b.task('ingest', tasks, [
      { error: 'Error', message: 'reset 1' },
      { error: 'Error', message: 'reset 2' },
      'ok',
    ]);
    const attempts = summarizeExecutionHistory(b.events).attempts;
    expect(summary(b)).toEqual([
      'ingest#1 FAILED 11-13 Error',
      'ingest#2 FAILED 14-16 Error',
      'ingest#3 SUCCEEDED 17-19',
    ]);
    expect(attempts[1]?.cause).toBe(lambdaCause('Error', 'reset 2'));
  });

  it('keeps a failure FAILED when a Catch catches it and the state exits', () => {
    const { b, tasks } = begin();
    const monitor = b.task('monitor', tasks, [{ error: 'Error', message: 'dashboard down' }], {
      caught: true,
    });
    b.integration('monitor warning', monitor);
    expect(summary(b)).toEqual(['monitor#1 FAILED 11-13 Error']);
  });

  it('follows each Parallel branch by its previousEventId chain while their events interleave', () => {
    const { b, tasks } = begin();
    const split = b.parallelStarted('Parallel 1: left, right', tasks);
    const left = b.entered('Task', 'left', split);
    const right = b.entered('Task', 'right', split);
    const leftScheduled = b.add('LambdaFunctionScheduled', left);
    const rightScheduled = b.add('LambdaFunctionScheduled', right);
    const rightStarted = b.add('LambdaFunctionStarted', rightScheduled);
    const leftStarted = b.add('LambdaFunctionStarted', leftScheduled);
    const leftFailed = b.add('LambdaFunctionFailed', leftStarted, {
      lambdaFunctionFailedEventDetails: { error: 'Error', cause: lambdaCause('Error', 'flaky') },
    });
    const leftRetry = b.add('LambdaFunctionScheduled', leftFailed);
    b.add('LambdaFunctionSucceeded', rightStarted);
    const leftRetryStarted = b.add('LambdaFunctionStarted', leftRetry);
    b.add('LambdaFunctionSucceeded', leftRetryStarted);

    expect(summary(b)).toEqual([
      'left#1 FAILED 14-18 Error',
      'right#1 SUCCEEDED 15-20',
      'left#2 SUCCEEDED 19-22',
    ]);
  });

  it('numbers the attempts of a task that a group retry enters again across the whole run', () => {
    const { b, tasks } = begin();
    const group = b.parallelStarted('Retry load to publish', tasks);
    const load = b.task('load', group, ['ok']);
    const publish = b.task('publish', load, [{ error: 'Error', message: 'conflict' }]);
    const failed = b.add('ParallelStateFailed', publish);
    const again = b.add('ParallelStateStarted', failed);
    const load2 = b.task('load', again, ['ok']);
    b.task('publish', load2, ['ok']);

    expect(summary(b)).toEqual([
      'load#1 SUCCEEDED 13-15',
      'publish#1 FAILED 18-20 Error',
      'load#2 SUCCEEDED 24-26',
      'publish#2 SUCCEEDED 29-31',
    ]);
  });

  it('fails an attempt on LambdaFunctionTimedOut, and one still running when the execution times out', () => {
    const { b, tasks } = begin();
    const extract = b.task('extract', tasks, ['timeout', 'ok']);
    const transform = b.task('transform', extract, ['open']);
    b.wait(3600).executionTimedOut(transform);

    const attempts = summarizeExecutionHistory(b.events).attempts;
    expect(summary(b)).toEqual([
      'extract#1 FAILED 11-13 States.Timeout',
      'extract#2 SUCCEEDED 14-16',
      'transform#1 FAILED 19-3621 States.Timeout',
    ]);
    expect(attempts[2]?.cause).toBe('the execution timed out while this attempt was running');
    expect(attempts[2]?.durationMs).toBe(3_602_000);
  });

  it('fails an attempt that Lambda could not start, or could not schedule', () => {
    const { b, tasks } = begin();
    const ingest = b.task('ingest', tasks, ['startFailed', 'ok']);
    const publish = b.entered('Task', 'publish', ingest);
    b.add('LambdaFunctionScheduleFailed', publish, {
      lambdaFunctionScheduleFailedEventDetails: { error: 'States.Runtime', cause: 'no such function' },
    });

    const attempts = summarizeExecutionHistory(b.events).attempts;
    expect(summary(b)).toEqual([
      'ingest#1 FAILED 11-12 Lambda.AWSLambdaException',
      'ingest#2 SUCCEEDED 13-15',
      'publish#1 FAILED 18-18 States.Runtime',
    ]);
    expect(attempts[2]).toMatchObject({ cause: 'no such function', durationMs: 0 });
  });

  it('fails the attempt of a branch that is aborted, and those open when the execution is stopped', () => {
    const { b, tasks } = begin();
    const split = b.parallelStarted('Parallel 1: left, right', tasks);
    const left = b.task('left', split, ['open']);
    const right = b.task('right', split, [{ error: 'Error', message: 'boom' }]);
    b.add('TaskStateAborted', left);
    const failed = b.add('ParallelStateFailed', right);
    const other = b.task('cleanup', failed, ['open']);
    b.executionAborted(other);

    expect(summary(b)).toEqual([
      'left#1 FAILED 13-19 States.Aborted',
      'right#1 FAILED 16-18 Error',
      'cleanup#1 FAILED 22-24 States.Aborted',
    ]);
  });

  it('counts on across a redrive: the attempts after ExecutionRedriven follow the earlier ones', () => {
    const { b, tasks } = begin();
    const ingest = b.task('ingest', tasks, ['ok']);
    const failed = b.task('publish', ingest, [{ error: 'Error', message: 'down' }]);
    const redriven = b.add('ExecutionRedriven', b.executionFailed(failed, 'Error', 'down'), {
      executionRedrivenEventDetails: { redriveCount: 1 },
    });
    b.executionSucceeded(b.task('publish', redriven, ['ok']));

    const result = summarizeExecutionHistory(b.events);
    expect(summary(b)).toEqual([
      'ingest#1 SUCCEEDED 11-13',
      'publish#1 FAILED 16-18 Error',
      'publish#2 SUCCEEDED 22-24',
    ]);
    expect(result.redrives).toBe(1);
  });

  it('ignores integration tasks, reads the events in id order, and has no ledger key before Start run', () => {
    const b = new HistoryBuilder();
    const started = b.executionStarted('not the input the dispatcher sends');
    b.executionFailed(started, 'States.Runtime', 'JsonPath $.run not found');
    expect(summarizeExecutionHistory(b.events)).toEqual({
      attempts: [],
      transitions: 0,
      ledgerKey: undefined,
      redrives: 0,
      parts: [],
    });

    const { b: full, tasks } = begin();
    full.task('ingest', tasks, ['ok']);
    const reversed = [...full.events].reverse();
    expect(summarizeExecutionHistory(reversed)).toEqual(summarizeExecutionHistory(full.events));
    expect(summarizeExecutionHistory(reversed).attempts.map((a) => a.task)).toEqual(['ingest']);
  });

  it('has no ledger key when the Start run output is not the run state', () => {
    const b = new HistoryBuilder();
    const started = b.executionStarted({});
    const entered = b.entered('Pass', 'Start run', started);
    b.exited('Pass', 'Start run', entered, 'not json');
    expect(summarizeExecutionHistory(b.events).ledgerKey).toBeUndefined();
    b.exited('Pass', 'Start run', entered, '{"ledger":{"pk":1}}');
    expect(summarizeExecutionHistory(b.events).ledgerKey).toBeUndefined();
  });
});
