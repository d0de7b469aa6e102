import { describe, expect, it } from 'vitest';
import { parseRunRow, type RunRow, runReport } from '../../lib/ledger/ledger.ts';
import type { TaskAttempt } from '../../lib/ledger/task-attempts.ts';
import { ledgerKeys } from '../../lib/names.ts';

const at = (s: number) => new Date(Date.UTC(2026, 10, 1, 2, 0, 0) + s * 1000).toISOString();

function row(fields: Partial<RunRow> = {}): RunRow {
  return {
    pk: 'PIPELINE#orders',
    sk: `RUN#${at(0)}#run-1`,
    pipeline: 'orders',
    runId: 'run-1',
    status: 'SUCCEEDED',
    startedAt: at(0),
    endedAt: at(12.5),
    trigger: { type: 'manual' },
    runKey: 'manual:1',
    logicalTime: at(0),
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:Orders:run-1',
    failedTask: undefined,
    error: undefined,
    errorCause: undefined,
    reason: undefined,
    quarantineBucket: undefined,
    quarantineKey: undefined,
    warnings: [],
    tasks: ['ingest', 'validate', 'transform'],
    transitions: 14,
    duplicateOf: undefined,
    expiresAt: undefined,
    notifiedAt: undefined,
    notifiedRedrives: undefined,
    ...fields,
  };
}

function attempt(
  task: string,
  n: number,
  status: TaskAttempt['status'],
  from: number,
  to?: number,
  cause?: string,
) {
  return {
    task,
    attempt: n,
    status,
    startedAt: at(from),
    endedAt: to === undefined ? undefined : at(to),
    durationMs: to === undefined ? undefined : (to - from) * 1000,
    error: status === 'FAILED' ? 'Error' : undefined,
    cause,
  } satisfies TaskAttempt;
}

const lambdaCause = (message: string) =>
  JSON.stringify({ errorType: 'Error', errorMessage: message, trace: [] });

describe('runReport', () => {
  it('reports a run that succeeded: each task with its attempts, the duration and the transitions', () => {
    const report = runReport(row(), [
      attempt('ingest', 1, 'SUCCEEDED', 1, 2),
      attempt('transform', 1, 'SUCCEEDED', 3, 4),
      attempt('validate', 1, 'SUCCEEDED', 2, 3),
    ]);
    expect(report).toEqual({
      runId: 'run-1',
      pipeline: 'orders',
      status: 'SUCCEEDED',
      trigger: { type: 'manual' },
      tasks: [
        { id: 'ingest', status: 'SUCCEEDED', attempts: 1, startedAt: at(1), endedAt: at(2) },
        { id: 'validate', status: 'SUCCEEDED', attempts: 1, startedAt: at(2), endedAt: at(3) },
        { id: 'transform', status: 'SUCCEEDED', attempts: 1, startedAt: at(3), endedAt: at(4) },
      ],
      transitions: 14,
      durationMs: 12_500,
      startedAt: at(0),
    });
  });

  it('marks a task that never ran SKIPPED', () => {
    const report = runReport(row({ status: 'FAILED' }), [attempt('ingest', 1, 'FAILED', 1, 2, 'boom')]);
    expect(report.tasks.slice(1)).toEqual([
      { id: 'validate', status: 'SKIPPED', attempts: 0, startedAt: null, endedAt: null },
      { id: 'transform', status: 'SKIPPED', attempts: 0, startedAt: null, endedAt: null },
    ]);
  });

  it('spans every attempt of a retried task, and reports it SUCCEEDED without an error', () => {
    const report = runReport(row(), [
      attempt('ingest', 2, 'FAILED', 3, 4, lambdaCause('reset')),
      attempt('ingest', 1, 'FAILED', 1, 2, lambdaCause('reset')),
      attempt('ingest', 3, 'SUCCEEDED', 5, 6),
    ]);
    expect(report.tasks[0]).toEqual({
      id: 'ingest',
      status: 'SUCCEEDED',
      attempts: 3,
      startedAt: at(1),
      endedAt: at(6),
    });
  });

  it('reports a failed run: the task FAILED with the message of its last attempt, and the run error', () => {
    const report = runReport(
      row({ status: 'FAILED', failedTask: 'validate', error: 'Error', errorCause: lambdaCause('timeout 3') }),
      [
        attempt('ingest', 1, 'SUCCEEDED', 1, 2),
        attempt('validate', 1, 'FAILED', 2, 3, lambdaCause('timeout 1')),
        attempt('validate', 2, 'FAILED', 4, 5, lambdaCause('timeout 3')),
      ],
    );
    expect(report.status).toBe('FAILED');
    expect(report.tasks[1]).toEqual({
      id: 'validate',
      status: 'FAILED',
      attempts: 2,
      startedAt: at(2),
      endedAt: at(5),
      error: 'timeout 3',
    });
    expect(report.error).toEqual({ task: 'validate', error: 'Error', message: 'timeout 3' });
    expect(report).not.toHaveProperty('quarantine');
  });

  it('reports a quarantined run: the task that found bad data QUARANTINED with the reason', () => {
    const report = runReport(
      row({
        status: 'QUARANTINED',
        failedTask: 'validate',
        error: 'GateRejected',
        errorCause: 'line 3: bad amount',
        reason: 'line 3: bad amount',
        quarantineBucket: 'raw',
        quarantineKey: 'quarantine/orders/a.csv',
      }),
      [attempt('ingest', 1, 'SUCCEEDED', 1, 2), attempt('validate', 1, 'SUCCEEDED', 2, 3)],
    );
    expect(report.tasks.map((t) => [t.id, t.status, t.attempts, t.error])).toEqual([
      ['ingest', 'SUCCEEDED', 1, undefined],
      ['validate', 'QUARANTINED', 1, 'line 3: bad amount'],
      ['transform', 'SKIPPED', 0, undefined],
    ]);
    expect(report.quarantine).toEqual({
      bucket: 'raw',
      key: 'quarantine/orders/a.csv',
      reason: 'line 3: bad amount',
    });
    expect(report).not.toHaveProperty('error');
  });

  it('reports a quarantine with nothing moved as an empty bucket and key', () => {
    const report = runReport(
      row({
        status: 'QUARANTINED',
        failedTask: 'ingest',
        reason: 'bad input',
        quarantineBucket: '',
        quarantineKey: '',
      }),
      [
        attempt(
          'ingest',
          1,
          'FAILED',
          1,
          2,
          JSON.stringify({ errorType: 'DataError', errorMessage: 'bad input' }),
        ),
      ],
    );
    expect(report.quarantine).toEqual({ bucket: '', key: '', reason: 'bad input' });
    expect(report.tasks[0]).toMatchObject({ status: 'QUARANTINED', attempts: 1, error: 'bad input' });
  });

  it('reports a non-critical failure FAILED in a run that succeeded, with the warning', () => {
    const report = runReport(row({ warnings: ['transform'] }), [
      attempt('ingest', 1, 'SUCCEEDED', 1, 2),
      attempt('validate', 1, 'SUCCEEDED', 2, 3),
      attempt('transform', 1, 'FAILED', 3, 4, lambdaCause('dashboard unreachable')),
    ]);
    expect(report.status).toBe('SUCCEEDED');
    expect(report.tasks[2]).toMatchObject({ status: 'FAILED', error: 'dashboard unreachable' });
    expect(report.warnings).toEqual(['transform']);
    expect(report).not.toHaveProperty('error');
  });

  it('ignores a task failure recorded on the row when the run went on to succeed', () => {
    // A retry group's first failure records itself on the run row before the group runs again.
    const report = runReport(row({ failedTask: 'transform', error: 'Error', errorCause: 'throttled' }), [
      attempt('transform', 1, 'FAILED', 1, 2, 'throttled'),
      attempt('transform', 2, 'SUCCEEDED', 3, 4),
    ]);
    expect(report.tasks.find((t) => t.id === 'transform')).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 2,
    });
    expect(report).not.toHaveProperty('error');
  });

  it('reports a duplicate with the run it repeats, and no tasks run', () => {
    const report = runReport(
      row({
        status: 'DEDUPLICATED',
        runId: 'run-1-dup-x',
        endedAt: at(0),
        duplicateOf: 'run-1',
        transitions: undefined,
      }),
      [],
      ['ingest'],
    );
    expect(report).toMatchObject({
      status: 'DEDUPLICATED',
      duplicateOf: 'run-1',
      durationMs: 0,
      transitions: 0,
      tasks: [{ id: 'ingest', status: 'SKIPPED', attempts: 0 }],
    });
  });

  it('measures a run that has not ended as 0 ms, and a timed-out run to its end', () => {
    expect(runReport(row({ status: 'RUNNING', endedAt: undefined }), []).durationMs).toBe(0);
    const timedOut = runReport(row({ status: 'TIMED_OUT', endedAt: at(7200), error: 'States.Timeout' }), [
      attempt('ingest', 1, 'RUNNING', 1),
    ]);
    expect(timedOut.durationMs).toBe(7_200_000);
    expect(timedOut.tasks[0]).toEqual({
      id: 'ingest',
      status: 'FAILED',
      attempts: 1,
      startedAt: at(1),
      endedAt: null,
    });
    expect(timedOut.error).toEqual({ task: undefined, error: 'States.Timeout', message: undefined });
  });

  it('orders tasks as given, else as the row lists them, else as they first ran', () => {
    const attempts = [attempt('b', 1, 'SUCCEEDED', 1, 2), attempt('a', 1, 'SUCCEEDED', 2, 3)];
    expect(runReport(row({ tasks: [] }), attempts).tasks.map((t) => t.id)).toEqual(['b', 'a']);
    expect(runReport(row({ tasks: ['a', 'b'] }), attempts).tasks.map((t) => t.id)).toEqual(['a', 'b']);
    expect(runReport(row(), attempts, ['a', 'b', 'c']).tasks.map((t) => [t.id, t.status])).toEqual([
      ['a', 'SUCCEEDED'],
      ['b', 'SUCCEEDED'],
      ['c', 'SKIPPED'],
    ]);
  });
});

describe('ledger rows', () => {
  it('keys attempts so that they sort in order within a task', () => {
    expect(ledgerKeys.attempt('run-1', 'load', 3)).toEqual({ pk: 'RUN#run-1', sk: 'TASK#load#0003' });
    expect([ledgerKeys.attempt('r', 't', 10).sk, ledgerKeys.attempt('r', 't', 9).sk].sort()).toEqual([
      'TASK#t#0009',
      'TASK#t#0010',
    ]);
  });

  it('reads a run row, keeping a trigger it cannot parse as text', () => {
    const parsed = parseRunRow({
      pk: { S: 'PIPELINE#orders' },
      sk: { S: 'RUN#x#run-1' },
      pipeline: { S: 'orders' },
      runId: { S: 'run-1' },
      status: { S: 'FAILED' },
      startedAt: { S: at(0) },
      trigger: { S: '{"type":"manual","input":{"note":"a "quoted" word"}}' },
      warnings: { SS: ['monitor'] },
      tasks: { L: [{ S: 'ingest' }] },
      transitions: { N: '9' },
    });
    expect(parsed).toMatchObject({
      status: 'FAILED',
      trigger: '{"type":"manual","input":{"note":"a "quoted" word"}}',
      warnings: ['monitor'],
      tasks: ['ingest'],
      transitions: 9,
      endedAt: undefined,
    });
  });
});
