import { parseDuration } from './duration.ts';
import type { SpecIssue } from './errors.ts';

/**
 * The limits AWS puts on the durations a spec sets. A value past one of them would be refused at
 * deploy, or changed on the way (rounded, capped) without a word, so `validate` refuses it instead.
 */
const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const DAY_MS = 86_400 * SECOND_MS;

/** A Lambda function runs for at most 15 minutes. @see https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html */
export const LAMBDA_MAX_TIMEOUT_MS = 15 * MINUTE_MS;
/** A Standard workflow execution runs for at most one year. @see https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html */
export const STANDARD_EXECUTION_MAX_MS = 365 * DAY_MS;
/** A retrier's IntervalSeconds is at most 99999999. @see https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html */
export const RETRY_INTERVAL_MAX_MS = 99_999_999 * SECOND_MS;
/** A retrier's MaxDelaySeconds is below 31622401 (366 days). @see https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html */
export const RETRY_MAX_DELAY_MAX_MS = 31_622_400 * SECOND_MS;

/** The retry waits a level inherits, and where they come from, for the message. */
interface Inherited {
  readonly intervalMs: number;
  readonly maxDelayMs: number;
  readonly intervalFrom: string;
  readonly maxDelayFrom: string;
}

interface RetryLevel {
  readonly path: string;
  readonly retry: Record<string, unknown>;
}

/** Every duration of the spec that Step Functions or Lambda would refuse or change. */
export function checkDurationLimits(
  raw: Record<string, unknown>,
  tasks: readonly [string, Record<string, unknown>][],
  defaults: { readonly intervalMs: number; readonly maxDelayMs: number },
): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const pipelineDefaults = objectOrEmpty(raw.defaults);
  const defaultRetry = objectOrEmpty(pipelineDefaults.retry);

  issues.push(...checkTimeout('timeout', raw.timeout, STANDARD_EXECUTION_MAX_MS, 'run'));
  issues.push(...checkTimeout('defaults.timeout', pipelineDefaults.timeout, LAMBDA_MAX_TIMEOUT_MS, 'task'));
  const defaultLevel = { path: 'defaults.retry', retry: defaultRetry };
  const defaultProblems = checkRetryFields(defaultLevel);
  issues.push(...defaultProblems);
  if (defaultProblems.length === 0)
    issues.push(
      ...checkRetryOrder(defaultLevel, {
        ...defaults,
        intervalFrom: 'by default',
        maxDelayFrom: 'by default',
      }),
    );
  const inherited: Inherited = {
    intervalMs: durationOf(defaultRetry.interval) ?? defaults.intervalMs,
    maxDelayMs: durationOf(defaultRetry.maxDelay) ?? defaults.maxDelayMs,
    intervalFrom: durationOf(defaultRetry.interval) === undefined ? 'by default' : 'from defaults.retry',
    maxDelayFrom: durationOf(defaultRetry.maxDelay) === undefined ? 'by default' : 'from defaults.retry',
  };

  for (const [id, task] of tasks) {
    // A service's task (Glue, ECS, ...) may run as long as the run; a Lambda task, 15 minutes.
    const kind = objectOrEmpty(task.run).kind;
    const lambdaTask = kind === undefined || kind === 'lambda';
    issues.push(
      ...(lambdaTask
        ? checkTimeout(`tasks.${id}.timeout`, task.timeout, LAMBDA_MAX_TIMEOUT_MS, 'task')
        : checkTimeout(`tasks.${id}.timeout`, task.timeout, STANDARD_EXECUTION_MAX_MS, 'run')),
    );
    const level = { path: `tasks.${id}.retry`, retry: objectOrEmpty(task.retry) };
    const problems = checkRetryFields(level);
    issues.push(...problems);
    if (problems.length === 0) issues.push(...checkRetryOrder(level, inherited));
  }
  return issues;
}

function checkTimeout(path: string, value: unknown, maxMs: number, of: 'run' | 'task'): SpecIssue[] {
  const ms = durationOf(value);
  if (ms === undefined) return [];
  const written = String(value);
  const problem = wholeSecondsProblem(
    written,
    ms,
    `Step Functions counts a ${of}'s timeout in whole seconds`,
  );
  if (problem) return [{ path, message: problem }];
  if (ms > maxMs) {
    const message =
      of === 'run'
        ? `'${written}' is longer than a Step Functions Standard execution may run (one year); write '365d' or less`
        : `'${written}' is longer than Lambda's 15-minute limit on one invocation, so the function would be stopped first; write '15m' or less, and move longer work to Glue, ECS or Batch`;
    return [{ path, message }];
  }
  return [];
}

function checkRetryFields({ path, retry }: RetryLevel): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const fields = [
    [
      'interval',
      RETRY_INTERVAL_MAX_MS,
      'IntervalSeconds',
      "at most 99999999 seconds (about 1157 days); write a shorter one, like '1h'",
    ],
    ['maxDelay', RETRY_MAX_DELAY_MAX_MS, 'MaxDelaySeconds', "at most 366 days; write '366d' or less"],
  ] as const;
  for (const [field, maxMs, aslName, limit] of fields) {
    const ms = durationOf(retry[field]);
    if (ms === undefined) continue;
    const written = String(retry[field]);
    const problem = wholeSecondsProblem(written, ms, 'Step Functions counts retry waits in whole seconds');
    if (problem) issues.push({ path: `${path}.${field}`, message: problem });
    else if (ms > maxMs)
      issues.push({
        path: `${path}.${field}`,
        message: `'${written}' is longer than Step Functions allows for a retrier's ${aslName}, ${limit}`,
      });
  }
  return issues;
}

/** A maxDelay below the interval would cut every wait to maxDelay; reported where either is set. */
function checkRetryOrder({ path, retry }: RetryLevel, inherited: Inherited): SpecIssue[] {
  const intervalMs = durationOf(retry.interval);
  const maxDelayMs = durationOf(retry.maxDelay);
  if (intervalMs === undefined && maxDelayMs === undefined) return [];
  const interval = intervalMs ?? inherited.intervalMs;
  const maxDelay = maxDelayMs ?? inherited.maxDelayMs;
  if (maxDelay >= interval) return [];
  const intervalText =
    intervalMs === undefined
      ? `${formatDuration(interval)} ${inherited.intervalFrom}`
      : `'${String(retry.interval)}'`;
  if (maxDelayMs !== undefined) {
    return [
      {
        path: `${path}.maxDelay`,
        message: `'${String(retry.maxDelay)}' is shorter than interval (${intervalText}); maxDelay caps every wait, so each retry would wait only ${formatDuration(maxDelay)}; make maxDelay at least ${formatDuration(interval)}, or shorten interval`,
      },
    ];
  }
  return [
    {
      path: `${path}.interval`,
      message: `'${String(retry.interval)}' is longer than maxDelay (${formatDuration(maxDelay)} ${inherited.maxDelayFrom}), which caps every wait, so each retry would wait only ${formatDuration(maxDelay)}; set maxDelay to at least '${String(retry.interval)}' beside it, or shorten interval`,
    },
  ];
}

function wholeSecondsProblem(written: string, ms: number, why: string): string | undefined {
  if (ms < SECOND_MS)
    return `'${written}' is shorter than a second; ${why}, at least 1, so write '1s' or more`;
  if (ms % SECOND_MS !== 0)
    return `'${written}' is not a whole number of seconds; ${why}, so write '${Math.ceil(ms / SECOND_MS)}s'`;
  return undefined;
}

/** A duration in the largest unit that writes it whole: '90s', '5m', '2h', '3d'. */
function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', DAY_MS],
    ['h', 3_600_000],
    ['m', MINUTE_MS],
    ['s', SECOND_MS],
  ] as const) {
    if (ms % size === 0) return `'${ms / size}${unit}'`;
  }
  return `'${ms}ms'`;
}

function durationOf(value: unknown): number | undefined {
  return typeof value === 'string' ? parseDuration(value) : undefined;
}

function objectOrEmpty(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
