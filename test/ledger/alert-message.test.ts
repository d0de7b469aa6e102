import { describe, expect, it } from 'vitest';
import {
  alertFor,
  CAUSE_DETAIL_LENGTH,
  causeExcerpt,
  consoleLink,
  type FinishedRun,
  MAX_SUBJECT_LENGTH,
} from '../../lib/ledger/alert-message.ts';
import type { TaskAttempt } from '../../lib/ledger/task-attempts.ts';
import { at, lambdaCause } from '../private/recorder-history.ts';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:OrdersStateMachine:run-1';

function attempt(task: string, n: number, fields: Partial<TaskAttempt> = {}): TaskAttempt {
  return {
    task,
    attempt: n,
    status: 'SUCCEEDED',
    startedAt: at(n * 10),
    endedAt: at(n * 10 + 5),
    durationMs: 5000,
    error: undefined,
    cause: undefined,
    ...fields,
  };
}

const failedAttempt = (task: string, n: number, message: string, error = 'Error') =>
  attempt(task, n, { status: 'FAILED', error, cause: lambdaCause(error, message) });

function run(fields: Partial<FinishedRun> = {}): FinishedRun {
  return {
    pipeline: 'orders',
    runId: 'run-1',
    status: 'FAILED',
    executionArn: ARN,
    ledgerKey: { pk: 'PIPELINE#orders', sk: `RUN#${at(0)}#run-1` },
    failedTask: undefined,
    error: undefined,
    cause: undefined,
    reason: undefined,
    quarantine: undefined,
    warnings: [],
    attempts: [],
    ...fields,
  };
}

describe('alertFor', () => {
  it('tells of a failed run: task, error, message, trace, attempts, console link and ledger key', () => {
    const alert = alertFor(
      run({
        failedTask: 'publish',
        error: 'Error',
        cause: lambdaCause('Error', 'connection reset by warehouse'),
        attempts: [
          attempt('ingest', 1),
          failedAttempt('publish', 1, 'timeout'),
          failedAttempt('publish', 2, 'timeout'),
          failedAttempt('publish', 3, 'connection reset by warehouse'),
        ],
      }),
    );
    expect(alert?.subject).toBe('stepwise: orders run FAILED at publish');
    expect(alert?.message).toMatchInlineSnapshot(`
      "Pipeline:  orders
      Run:       run-1
      Status:    FAILED
      Task:      publish (3 attempts)
      Error:     Error
      Message:   connection reset by warehouse
      Detail:
        Error: connection reset by warehouse
            at step0 (file:///var/task/index.mjs:10:7)
            at step1 (file:///var/task/index.mjs:11:7)

      Execution: https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:123456789012:execution:OrdersStateMachine:run-1
      Ledger:    pk=PIPELINE#orders sk=RUN#2026-11-01T02:00:00.000Z#run-1"
    `);
  });

  it('takes the error from the last attempt of the task when the run row has none', () => {
    const alert = alertFor(
      run({ failedTask: 'load', attempts: [failedAttempt('load', 1, 'disk full', 'IOError')] }),
    );
    expect(alert?.message).toContain('Task:      load (1 attempt)\nError:     IOError\nMessage:   disk full');
  });

  it('names the task a timeout cut short, not one the row recorded before a group retry', () => {
    const alert = alertFor(
      run({
        status: 'TIMED_OUT',
        failedTask: 'publish',
        error: 'States.Timeout',
        attempts: [
          failedAttempt('publish', 1, 'conflict'),
          attempt('load', 2),
          attempt('publish', 3),
          attempt('transform', 4, {
            status: 'FAILED',
            error: 'States.Timeout',
            cause: 'the execution timed out while this attempt was running',
          }),
        ],
      }),
    );
    expect(alert?.subject).toBe('stepwise: orders run TIMED_OUT at transform');
    expect(alert?.message).toContain(
      'Task:      transform (1 attempt)\nError:     States.Timeout\nCause:\n  the execution timed out while this attempt was running',
    );
  });

  it('tells of an aborted run by the task it stopped, or without a task when none was running', () => {
    const stopped = alertFor(
      run({
        status: 'ABORTED',
        error: 'States.Aborted',
        cause: 'stopped by j.doe',
        attempts: [attempt('ingest', 1), attempt('load', 2, { status: 'FAILED', error: 'States.Aborted' })],
      }),
    );
    expect(stopped?.subject).toBe('stepwise: orders run ABORTED at load');
    expect(stopped?.message).toContain('Error:     States.Aborted\nCause:\n  stopped by j.doe');
    expect(alertFor(run({ status: 'ABORTED' }))?.subject).toBe('stepwise: orders run ABORTED');
  });

  it('tells of a quarantined run with the reason and where the object went', () => {
    const alert = alertFor(
      run({
        status: 'QUARANTINED',
        failedTask: 'validate',
        error: 'GateRejected',
        cause: 'line 3: amount "x" is not a number',
        reason: 'line 3: amount "x" is not a number',
        quarantine: { bucket: 'raw', key: 'quarantine/orders/2026-11-01.csv' },
        attempts: [attempt('ingest', 1), attempt('validate', 2)],
      }),
    );
    expect(alert?.subject).toBe('stepwise: orders run QUARANTINED at validate');
    expect(alert?.message).toContain(
      [
        'Task:      validate (1 attempt)',
        'Reason:    line 3: amount "x" is not a number',
        'Moved to:  s3://raw/quarantine/orders/2026-11-01.csv',
        'Error:     GateRejected',
        '',
        'Execution: ',
      ].join('\n'),
    );
    const nothingMoved = alertFor(
      run({
        status: 'QUARANTINED',
        failedTask: 'ingest',
        reason: 'bad',
        quarantine: { bucket: '', key: '' },
      }),
    );
    expect(nothingMoved?.message).toContain('Moved to:  nothing (the run had no S3 input)');
  });

  it('tells of a run that succeeded with failed non-critical tasks, one section each', () => {
    const attempts = [
      attempt('ingest', 1),
      failedAttempt('monitor', 2, 'dashboard unreachable'),
      failedAttempt('monitor', 3, 'dashboard unreachable'),
      failedAttempt('notify', 4, 'slack 500'),
    ];
    const one = alertFor(run({ status: 'SUCCEEDED', warnings: ['monitor'], attempts }));
    expect(one?.subject).toBe('stepwise: orders run SUCCEEDED, non-critical task monitor failed');
    expect(one?.message).toContain(
      'Task:      monitor (2 attempts, non-critical)\nError:     Error\nMessage:   dashboard unreachable',
    );
    const two = alertFor(run({ status: 'SUCCEEDED', warnings: ['monitor', 'notify'], attempts }));
    expect(two?.subject).toBe('stepwise: orders run SUCCEEDED, 2 non-critical tasks failed');
    expect(two?.message).toContain(
      'Task:      notify (1 attempt, non-critical)\nError:     Error\nMessage:   slack 500',
    );
  });

  it('says nothing of a run that succeeded cleanly, or one not finished', () => {
    expect(alertFor(run({ status: 'SUCCEEDED' }))).toBeUndefined();
    expect(alertFor(run({ status: 'RUNNING' }))).toBeUndefined();
    expect(alertFor(run({ status: 'DEDUPLICATED' }))).toBeUndefined();
  });

  it('keeps the subject under 100 characters and on one line, and says when there is no run row', () => {
    const alert = alertFor(
      run({
        pipeline: 'a-pipeline-name-of-exactly-forty-chars-x',
        failedTask: `a-task-with-a-very-long-name\nthat-goes-on-${'x'.repeat(60)}`,
        ledgerKey: undefined,
      }),
    );
    expect(alert?.subject.length).toBe(MAX_SUBJECT_LENGTH);
    expect(alert?.subject).toBe(
      'stepwise: a-pipeline-name-of-exactly-forty-chars-x run FAILED at a-task-with-a-very-long-name that…',
    );
    expect(alert?.message).toContain(
      'Ledger:    no run row (the execution ended before it recorded its start)',
    );
  });
});

describe('causeExcerpt', () => {
  it('shows a Lambda error message whole and cuts the trace after it', () => {
    const excerpt = causeExcerpt(lambdaCause('Error', 'boom', 40));
    expect(excerpt.message).toBe('boom');
    expect(excerpt.detail?.startsWith('Error: boom\n    at step0 (file:///var/task/index.mjs:10:7)')).toBe(
      true,
    );
    expect(excerpt.detail).toMatch(/… \(\d+ more characters\)$/);
    expect(excerpt.detail?.indexOf('…')).toBe(CAUSE_DETAIL_LENGTH);
  });

  it('cuts a cause that is not a Lambda error, and keeps fields other than the trace', () => {
    expect(causeExcerpt('x'.repeat(600)).detail).toBe(`${'x'.repeat(500)}… (100 more characters)`);
    expect(causeExcerpt('{"a":1}')).toEqual({ message: undefined, detail: '{"a":1}' });
    expect(causeExcerpt(JSON.stringify({ errorMessage: 'm', errorType: 'E', code: 42 }))).toEqual({
      message: 'm',
      detail: 'code: 42',
    });
    expect(causeExcerpt(undefined)).toEqual({ message: undefined, detail: undefined });
  });
});

describe('consoleLink', () => {
  it('links to the execution in its own region', () => {
    expect(consoleLink('arn:aws:states:ap-south-1:1:execution:M:r')).toBe(
      'https://ap-south-1.console.aws.amazon.com/states/home?region=ap-south-1#/v2/executions/details/arn:aws:states:ap-south-1:1:execution:M:r',
    );
  });
});
