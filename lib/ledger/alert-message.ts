import type { LedgerKey } from '../names.ts';
import type { RunStatus } from './ledger.ts';
import type { TaskAttempt } from './task-attempts.ts';

/**
 * The alert the recorder publishes for a finished run, written for the person on call: what failed,
 * where, why, how often it was tried, and where to look next.
 */
export interface FinishedRun {
  readonly pipeline: string;
  readonly runId: string;
  /** The ledger status, or ABORTED for an execution stopped by hand (the ledger records FAILED). */
  readonly status: RunStatus | 'ABORTED';
  readonly executionArn: string;
  readonly ledgerKey: LedgerKey | undefined;
  /** The task the run row names as failed or quarantining. */
  readonly failedTask: string | undefined;
  readonly error: string | undefined;
  readonly cause: string | undefined;
  /** Why a QUARANTINED run's data was set aside. */
  readonly reason: string | undefined;
  /** Where a QUARANTINED run's input went; an empty bucket means nothing was moved. */
  readonly quarantine: { readonly bucket: string; readonly key: string } | undefined;
  /** The non-critical tasks that failed in a run that went on. */
  readonly warnings: readonly string[];
  readonly attempts: readonly TaskAttempt[];
}

export interface Alert {
  readonly subject: string;
  readonly message: string;
}

/** SNS: "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100 characters long." */
export const MAX_SUBJECT_LENGTH = 99;
/** How much of a cause, beyond its message, an alert shows: the top of a stack trace. */
export const CAUSE_DETAIL_LENGTH = 500;
const MESSAGE_LENGTH = 1000;

/** The alert for a finished run, or undefined when there is nothing to tell: it succeeded cleanly. */
export function alertFor(run: FinishedRun): Alert | undefined {
  switch (run.status) {
    case 'FAILED':
    case 'TIMED_OUT':
    case 'ABORTED':
    case 'QUARANTINED': {
      const task = blamedTask(run);
      return {
        subject: subject(`stepwise: ${run.pipeline} run ${run.status}${task ? ` at ${task}` : ''}`),
        message: [
          ...header(run),
          ...(task ? [`Task:      ${task} (${attemptCount(run.attempts, task)})`] : []),
          ...(run.status === 'QUARANTINED' ? quarantineLines(run) : []),
          ...errorLines(run.error ?? lastAttempt(run.attempts, task)?.error, causeOf(run, task)),
          ...footer(run),
        ].join('\n'),
      };
    }
    case 'SUCCEEDED': {
      if (run.warnings.length === 0) return undefined;
      const [only] = run.warnings;
      const what =
        run.warnings.length === 1
          ? `non-critical task ${only} failed`
          : `${run.warnings.length} non-critical tasks failed`;
      return {
        subject: subject(`stepwise: ${run.pipeline} run SUCCEEDED, ${what}`),
        message: [
          ...header(run),
          ...run.warnings.flatMap((task) => {
            const last = lastAttempt(run.attempts, task);
            return [
              '',
              `Task:      ${task} (${attemptCount(run.attempts, task)}, non-critical)`,
              ...errorLines(last?.error, last?.cause),
            ];
          }),
          ...footer(run),
        ].join('\n'),
      };
    }
    default:
      return undefined;
  }
}

/** The execution's page in the Step Functions console, in the execution's own region. */
export function consoleLink(executionArn: string): string {
  const region = executionArn.split(':')[3] ?? '';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/**
 * A cause cut to what a person reads: a Lambda error's cause is JSON `{errorType, errorMessage,
 * trace}`, so the message comes whole (up to 1 000 characters) and the trace after it, cut at
 * `CAUSE_DETAIL_LENGTH`. Any other cause is cut at the same length.
 */
export function causeExcerpt(cause: string | undefined): {
  readonly message: string | undefined;
  readonly detail: string | undefined;
} {
  if (cause === undefined || cause === '') return { message: undefined, detail: undefined };
  let parsed: unknown;
  try {
    parsed = JSON.parse(cause);
  } catch {
    return { message: undefined, detail: cut(cause, CAUSE_DETAIL_LENGTH) };
  }
  if (typeof parsed !== 'object' || parsed === null || !('errorMessage' in parsed))
    return { message: undefined, detail: cut(cause, CAUSE_DETAIL_LENGTH) };
  const { errorMessage, errorType: _type, trace, ...rest } = parsed as Record<string, unknown>;
  const lines = [
    ...(Array.isArray(trace) ? trace.map(String) : trace === undefined ? [] : [JSON.stringify(trace)]),
    ...Object.entries(rest).map(([key, value]) => `${key}: ${JSON.stringify(value)}`),
  ];
  const detail = lines.join('\n');
  return {
    message: cut(String(errorMessage), MESSAGE_LENGTH),
    detail: detail === '' ? undefined : cut(detail, CAUSE_DETAIL_LENGTH),
  };
}

/**
 * The task to name: the row's own for a failure or quarantine (the state machine records it just
 * before the run ends), else the latest failed attempt. A timeout or an abort ends the run wherever it
 * was, so there the attempts decide: the row may still name a task that failed before a group retry.
 */
export function blamedTask(run: Pick<FinishedRun, 'status' | 'failedTask' | 'attempts'>): string | undefined {
  if ((run.status === 'FAILED' || run.status === 'QUARANTINED') && run.failedTask) return run.failedTask;
  const failed = run.attempts.filter((a) => a.status !== 'SUCCEEDED');
  const ending = run.status === 'TIMED_OUT' ? 'States.Timeout' : 'States.Aborted';
  const cutShort = failed.filter((a) => a.error === ending);
  const pool = run.status === 'FAILED' ? failed.filter((a) => a.error !== 'States.Aborted') : cutShort;
  return latest(pool.length > 0 ? pool : failed)?.task ?? run.failedTask;
}

function causeOf(run: FinishedRun, task: string | undefined): string | undefined {
  if (run.status === 'QUARANTINED') return undefined; // the reason says it, readably
  return run.cause ?? lastAttempt(run.attempts, task)?.cause;
}

function header(run: FinishedRun): string[] {
  return [`Pipeline:  ${run.pipeline}`, `Run:       ${run.runId}`, `Status:    ${run.status}`];
}

function quarantineLines(run: FinishedRun): string[] {
  const moved =
    run.quarantine && run.quarantine.bucket !== ''
      ? `s3://${run.quarantine.bucket}/${run.quarantine.key}`
      : 'nothing (the run had no S3 input)';
  return [`Reason:    ${run.reason ?? '(none recorded)'}`, `Moved to:  ${moved}`];
}

function errorLines(error: string | undefined, cause: string | undefined): string[] {
  const { message, detail } = causeExcerpt(cause);
  return [
    ...(error ? [`Error:     ${error}`] : []),
    ...(message !== undefined ? [`Message:   ${message}`] : []),
    ...(detail !== undefined ? [message !== undefined ? 'Detail:' : 'Cause:', indent(detail)] : []),
  ];
}

function footer(run: FinishedRun): string[] {
  return [
    '',
    `Execution: ${consoleLink(run.executionArn)}`,
    run.ledgerKey
      ? `Ledger:    pk=${run.ledgerKey.pk} sk=${run.ledgerKey.sk}`
      : 'Ledger:    no run row (the execution ended before it recorded its start)',
  ];
}

function attemptCount(attempts: readonly TaskAttempt[], task: string): string {
  const n = attempts.filter((a) => a.task === task).length;
  return n === 1 ? '1 attempt' : `${n} attempts`;
}

function lastAttempt(attempts: readonly TaskAttempt[], task: string | undefined): TaskAttempt | undefined {
  return task === undefined ? undefined : attempts.filter((a) => a.task === task).at(-1);
}

function latest(attempts: readonly TaskAttempt[]): TaskAttempt | undefined {
  let found: TaskAttempt | undefined;
  for (const a of attempts)
    if (!found || (a.endedAt ?? a.startedAt) >= (found.endedAt ?? found.startedAt)) found = a;
  return found;
}

/** One line, no control characters, short enough for SNS. */
function subject(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return clean.length <= MAX_SUBJECT_LENGTH ? clean : `${clean.slice(0, MAX_SUBJECT_LENGTH - 1)}…`;
}

function cut(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}… (${text.length - length} more characters)`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
