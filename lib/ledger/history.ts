import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { type LedgerKey, SPLIT_PART_STATE_PREFIX } from '../names.ts';
import type { TaskAttempt } from './task-attempts.ts';

/**
 * Task attempts from a Step Functions execution history, as GetExecutionHistory returns it. Pure, so
 * the recorder's rows can be checked against hand-written histories.
 *
 * The AWS shapes this reads (Step Functions API reference, `HistoryEvent`; SDK type
 * `HistoryEvent` from `@aws-sdk/client-sfn`):
 * - every event has `id` (numbered from 1 in order), `previousEventId` (0 or absent for the first),
 *   `timestamp` and `type`.
 * - `TaskStateEntered` (and every `*StateEntered`) carries `stateEnteredEventDetails {name, input}`;
 *   `*StateExited` carries `stateExitedEventDetails {name, output}`, `output` a JSON string (present
 *   unless the history was read with `includeExecutionData: false`).
 * - A Task state whose Resource is a Lambda function ARN logs `LambdaFunctionScheduled`
 *   (`lambdaFunctionScheduledEventDetails {resource, input, timeoutInSeconds}`), then
 *   `LambdaFunctionStarted`, then one of `LambdaFunctionSucceeded` (`…SucceededEventDetails {output}`),
 *   `LambdaFunctionFailed`, `LambdaFunctionTimedOut`, or `LambdaFunctionStartFailed` (each with
 *   `…EventDetails {error, cause}`). `LambdaFunctionScheduleFailed {error, cause}` replaces the
 *   Scheduled event when the invocation could not even be scheduled.
 * - `previousEventId` links each of these to the event before it *in the same state*: the first
 *   Scheduled event points at its `TaskStateEntered`, a retry's Scheduled event at the previous
 *   attempt's Failed/TimedOut event. Branches of a Parallel state log interleaved, so the chain, not
 *   the order, says which state an event belongs to.
 * - `TaskStateAborted` ends a state whose Parallel branch was cancelled; `ExecutionSucceeded`,
 *   `ExecutionFailed {error, cause}`, `ExecutionTimedOut {error, cause}` and `ExecutionAborted
 *   {error, cause}` end the execution.
 * - A redriven execution keeps one history: the earlier events, `ExecutionRedriven
 *   {redriveCount}`, then the states that run again, their attempts counting on from the earlier ones.
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
 * @see https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html
 */
export interface ExecutionHistorySummary {
  /** One per `LambdaFunctionScheduled` (or unscheduled `LambdaFunctionScheduleFailed`), in order. */
  readonly attempts: TaskAttempt[];
  /** The states entered: the number of `*StateEntered` events. */
  readonly transitions: number;
  /** The run row's key, as the `Start run` state settled it; undefined when that state never exited. */
  readonly ledgerKey: LedgerKey | undefined;
  /** How many times the execution was redriven: its `ExecutionRedriven` events. */
  readonly redrives: number;
  /**
   * The executions of a split pipeline's parts (states `Part <n>`), in the order they ended: their
   * histories hold the attempts of the tasks they ran. None for a pipeline that is not split.
   */
  readonly parts: readonly string[];
}

/** The compiled state machine's first state; its output is `{ run, ledger: {pk, sk}, results }`. */
export const START_RUN_STATE = 'Start run';

type Failure = { readonly error?: string | undefined; readonly cause?: string | undefined };

/** The events that end an attempt unsuccessfully, and where each keeps its error and cause. */
const FAILURE_DETAILS: Partial<Record<string, (e: HistoryEvent) => Failure | undefined>> = {
  LambdaFunctionFailed: (e) => e.lambdaFunctionFailedEventDetails,
  LambdaFunctionTimedOut: (e) => e.lambdaFunctionTimedOutEventDetails,
  LambdaFunctionStartFailed: (e) => e.lambdaFunctionStartFailedEventDetails,
  LambdaFunctionScheduleFailed: (e) => e.lambdaFunctionScheduleFailedEventDetails,
  TaskFailed: (e) => e.taskFailedEventDetails,
  TaskTimedOut: (e) => e.taskTimedOutEventDetails,
  TaskStartFailed: (e) => e.taskStartFailedEventDetails,
  TaskSubmitFailed: (e) => e.taskSubmitFailedEventDetails,
};

/**
 * The service integrations stepwise's own states call (the ledger, latches, the quarantine): their
 * Task events are bookkeeping, not attempts of a pipeline task. Any other integration a Task state
 * calls is a task adapter's (Glue, ECS, Athena, ...), and its attempts are counted as Lambda's are.
 */
const OWN_INTEGRATIONS = new Set([
  'dynamodb:putItem',
  'dynamodb:updateItem',
  'dynamodb:getItem',
  'dynamodb:updateItem.waitForTaskToken',
  'sfn:sendTaskSuccess',
  's3:copyObject',
  's3:deleteObject',
]);

/** Whether a TaskScheduled event starts an attempt of a pipeline task (an adapter's service call). */
function isAdapterCall(event: HistoryEvent): boolean {
  const details = event.taskScheduledEventDetails;
  // Step Functions always names the integration; an event that does not is not counted as an attempt.
  if (details?.resourceType === undefined || details.resource === undefined) return false;
  const service = details.resourceType.replace(/^aws-sdk:/, '');
  return !OWN_INTEGRATIONS.has(`${service}:${details.resource}`);
}

/** Events of a task attempt after its start: a Lambda function's, or a service integration's. */
function isAttemptEvent(type: string): boolean {
  return type.startsWith('LambdaFunction') || (type.startsWith('Task') && !type.startsWith('TaskState'));
}

/** How an execution ended, for the attempts still open at that moment. */
const EXECUTION_ENDS: Partial<Record<string, (e: HistoryEvent) => Failure>> = {
  ExecutionTimedOut: (e) => ({
    error: e.executionTimedOutEventDetails?.error ?? 'States.Timeout',
    cause: e.executionTimedOutEventDetails?.cause ?? 'the execution timed out while this attempt was running',
  }),
  ExecutionAborted: (e) => ({
    error: 'States.Aborted',
    cause:
      e.executionAbortedEventDetails?.cause ?? 'the execution was stopped while this attempt was running',
  }),
  ExecutionFailed: () => ({
    error: 'States.Aborted',
    cause: 'the execution failed elsewhere while this attempt was running',
  }),
  ExecutionSucceeded: () => ({
    error: 'States.Aborted',
    cause: 'the execution ended while this attempt was running',
  }),
};

export function summarizeExecutionHistory(history: readonly HistoryEvent[]): ExecutionHistorySummary {
  const events = [...history].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  const attempts: TaskAttempt[] = [];
  /** The task state each event belongs to, for TaskStateEntered and the Lambda events after it. */
  const stateOf = new Map<number, string>();
  /** The attempt each Lambda event belongs to, as an index into `attempts`. */
  const attemptOf = new Map<number, number>();
  const open = new Set<number>();
  const tries = new Map<string, number>();
  let transitions = 0;
  let ledgerKey: LedgerKey | undefined;
  let redrives = 0;
  const parts: string[] = [];

  const start = (task: string, at: string): number => {
    const attempt = (tries.get(task) ?? 0) + 1;
    tries.set(task, attempt);
    attempts.push({
      task,
      attempt,
      status: 'RUNNING',
      startedAt: at,
      endedAt: undefined,
      durationMs: undefined,
      error: undefined,
      cause: undefined,
    });
    open.add(attempts.length - 1);
    return attempts.length - 1;
  };
  /** Closes an open attempt: SUCCEEDED without a failure, else FAILED with its error and cause. */
  const finish = (index: number, at: string, failure: Failure | undefined) => {
    if (!open.delete(index)) return;
    const current = attempts[index] as TaskAttempt;
    attempts[index] = {
      ...current,
      status: failure ? 'FAILED' : 'SUCCEEDED',
      endedAt: at,
      durationMs: Math.max(0, Date.parse(at) - Date.parse(current.startedAt)),
      error: failure?.error,
      cause: failure?.cause,
    };
  };

  for (const event of events) {
    const id = event.id ?? 0;
    const previous = event.previousEventId ?? 0;
    const type = event.type ?? '';
    const at = (event.timestamp ?? new Date(0)).toISOString();
    // Every Lambda event after the first one of a state inherits that state from its predecessor.
    const state = stateOf.get(previous);
    const attempt = attemptOf.get(previous);
    if (type.endsWith('StateEntered')) transitions++;
    if (type === 'ExecutionRedriven') redrives++;

    if (type === 'TaskStateEntered' && event.stateEnteredEventDetails?.name !== undefined) {
      stateOf.set(id, event.stateEnteredEventDetails.name);
    } else if (type.endsWith('StateExited') && event.stateExitedEventDetails?.name === START_RUN_STATE) {
      ledgerKey ??= readLedgerKey(event.stateExitedEventDetails.output);
    } else if (type === 'LambdaFunctionScheduled' || (type === 'TaskScheduled' && isAdapterCall(event))) {
      if (state === undefined) continue; // not under a task state: nothing in this history to name it by
      stateOf.set(id, state);
      // A part of a split pipeline is no task: its own history holds its tasks' attempts.
      if (state.startsWith(SPLIT_PART_STATE_PREFIX)) continue;
      attemptOf.set(id, start(state, at));
    } else if (type === 'TaskStateAborted') {
      if (attempt !== undefined)
        finish(attempt, at, { error: 'States.Aborted', cause: 'its Parallel branch was cancelled' });
    } else if (isAttemptEvent(type) && state?.startsWith(SPLIT_PART_STATE_PREFIX)) {
      stateOf.set(id, state);
      const part = partExecutionArn(event);
      if (part !== undefined && !parts.includes(part)) parts.push(part);
    } else if (isAttemptEvent(type)) {
      if (state !== undefined) stateOf.set(id, state);
      const details = FAILURE_DETAILS[type];
      // A failure event without details is still a failure.
      const failure = details ? (details(event) ?? {}) : undefined;
      if (attempt !== undefined) {
        attemptOf.set(id, attempt);
        if (failure || type === 'LambdaFunctionSucceeded' || type === 'TaskSucceeded')
          finish(attempt, at, failure);
      } else if (type === 'LambdaFunctionScheduleFailed' && state !== undefined) {
        // Never scheduled, so no Scheduled event opened it: an attempt that failed at once.
        const index = start(state, at);
        attemptOf.set(id, index);
        finish(index, at, failure);
      }
    } else {
      const end = EXECUTION_ENDS[type]?.(event);
      if (end) for (const index of [...open]) finish(index, at, end);
    }
  }
  return { attempts, transitions, ledgerKey, redrives, parts };
}

/**
 * The part's execution, from `states:startExecution.sync:2`'s events: the StartExecution response
 * (TaskSubmitted), the execution's description (TaskSucceeded), or the description in the cause
 * (TaskFailed), each JSON holding `ExecutionArn`.
 */
function partExecutionArn(event: HistoryEvent): string | undefined {
  const texts = [
    event.taskSubmittedEventDetails?.output,
    event.taskSucceededEventDetails?.output,
    event.taskFailedEventDetails?.cause,
  ];
  for (const text of texts) {
    if (text === undefined) continue;
    try {
      const arn = (JSON.parse(text) as { ExecutionArn?: unknown }).ExecutionArn;
      if (typeof arn === 'string') return arn;
    } catch {
      // not JSON: a failure to start, which started no execution
    }
  }
  return undefined;
}

/**
 * A split run's attempts: the parent's own, then each part's in the order the parts ran. A task's
 * attempts are numbered on across parts that ran it again (a retry group's, a redrive's), so each
 * keeps a row of its own.
 */
export function withPartAttempts(
  own: ExecutionHistorySummary,
  parts: readonly ExecutionHistorySummary[],
): ExecutionHistorySummary {
  const tries = new Map<string, number>();
  const attempts = [...own.attempts, ...parts.flatMap((part) => part.attempts)].map((attempt) => {
    const number = (tries.get(attempt.task) ?? 0) + 1;
    tries.set(attempt.task, number);
    return { ...attempt, attempt: number };
  });
  const transitions = parts.reduce((sum, part) => sum + part.transitions, own.transitions);
  return { ...own, attempts, transitions };
}

/** The `ledger` of the `Start run` output: `{ run, ledger: {pk, sk}, results }` as a JSON string. */
function readLedgerKey(output: string | undefined): LedgerKey | undefined {
  if (output === undefined) return undefined;
  try {
    const ledger = (JSON.parse(output) as { ledger?: { pk?: unknown; sk?: unknown } }).ledger;
    return typeof ledger?.pk === 'string' && typeof ledger.sk === 'string'
      ? { pk: ledger.pk, sk: ledger.sk }
      : undefined;
  } catch {
    return undefined;
  }
}
