import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod/mini';
import { type Alert, alertFor, blamedTask } from '../../lib/ledger/alert-message.ts';
import { summarizeExecutionHistory, withPartAttempts } from '../../lib/ledger/history.ts';
import {
  completeRunRow,
  findRun,
  getRun,
  markNotified,
  putMissingRunRow,
  type RunRow,
  type RunStatus,
  writeAttempts,
} from '../../lib/ledger/ledger.ts';
import type { TaskAttempt } from '../../lib/ledger/task-attempts.ts';
import { type LedgerKey, ledgerKeys } from '../../lib/names.ts';
import { RunFinishedEventError } from './errors.ts';
import { runMetrics } from './metrics.ts';
import { runFinishedEntry } from './run-finished.ts';

export interface RecorderDeps {
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly sns: SNSClient;
  readonly eventBridge: EventBridgeClient;
  readonly table: string;
  readonly alertTopicArn: string;
  readonly eventBusName: string;
  /** Where the EMF line goes: stdout in Lambda, which CloudWatch Logs reads. */
  readonly print: (line: string) => void;
  readonly now: () => Date;
}

export type EndedStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export type RecordResult =
  | { readonly outcome: 'running'; readonly executionArn: string; readonly executionStatus: string }
  | {
      readonly outcome: 'recorded';
      readonly executionArn: string;
      readonly executionStatus: EndedStatus;
      readonly pipeline: string;
      readonly runId: string;
      /** The ledger status the run ended with. */
      readonly status: RunStatus;
      readonly attempts: number;
      /** The run row was missing (the execution ended before `Record run start`) and is written now. */
      readonly createdRow: boolean;
      /** The run row was still RUNNING and the recorder closed it. */
      readonly closedRow: boolean;
      /** This call sent the run's notifications: alert (if any), EMF line, "Run Finished". */
      readonly notified: boolean;
      readonly alerted: boolean;
    };

const ENDED: ReadonlySet<string> = new Set<EndedStatus>(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * Records one ended execution in the ledger and tells the world, for the recorder (on a status-change
 * event) and the reconciler (on a run whose event went missing):
 * 1. its task attempts, one row each, from the whole history;
 * 2. its run row, found by the ledger key `Start run` settled (or by pipeline and run id), or written
 *    whole if the execution ended before `Record run start`;
 * 3. unless the row says this ending was notified before (`notifiedAt`, and `notifiedRedrives` as
 *    many as the execution's redrives): the alert, one EMF line, the "Run Finished" event;
 * 4. the row completed: tasks and transitions, and closed if the state machine could not close it (a
 *    timeout, an abort, a failure in the failure path); then `notifiedAt`.
 *
 * Every write lands on the same key with the same values, so a redelivered event changes nothing and,
 * finding `notifiedAt`, sends nothing. The one gap is a crash after sending and before marking: the
 * retry sends again. That is deliberate: marking first would turn the same crash into an alert that is
 * never sent, and a duplicate alert costs less than a silent failure (at least once, not at most once).
 */
export async function recordExecution(executionArn: string, deps: RecorderDeps): Promise<RecordResult> {
  const execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
  const executionStatus = execution.status ?? 'RUNNING';
  if (!ENDED.has(executionStatus)) return { outcome: 'running', executionArn, executionStatus };
  const ended = executionStatus as EndedStatus;

  const own = summarizeExecutionHistory(await readHistory(deps.sfn, executionArn));
  // A split pipeline's tasks ran in its parts' executions (lib/compile/split.ts): their attempts too.
  const parts = await Promise.all(
    own.parts.map(async (part) => summarizeExecutionHistory(await readHistory(deps.sfn, part))),
  );
  const history = withPartAttempts(own, parts);
  const run = runOf(execution, executionArn);
  await writeAttempts(deps.dynamodb, deps.table, run, history.attempts);

  const ending = endingOf(execution, ended, history.attempts);
  const endedAt = (execution.stopDate ?? deps.now()).toISOString();
  const found =
    (history.ledgerKey && (await getRun(deps.dynamodb, deps.table, history.ledgerKey))) ??
    (await findRun(deps.dynamodb, deps.table, run.pipeline, run.runId));
  let createdRow = false;
  let key: LedgerKey;
  if (found) {
    key = { pk: found.pk, sk: found.sk };
  } else {
    const startedAt = (execution.startDate ?? deps.now()).toISOString();
    key = history.ledgerKey ?? ledgerKeys.run(run.pipeline, startedAt, run.runId);
    createdRow = await putMissingRunRow(deps.dynamodb, deps.table, {
      key,
      pipeline: run.pipeline,
      runId: run.runId,
      status: ending.status,
      startedAt,
      endedAt,
      executionArn,
      logicalTime: run.logicalTime,
      runKey: run.runKey,
      trigger: run.trigger,
      error: ending.error,
      cause: ending.cause,
      expiresAt: run.expiresAt,
    });
  }
  const row = found ?? (await mustGetRun(deps, key));
  // A redrive ends the execution again, and that ending is news: downstream runs and the concurrency
  // slot wait on its Run Finished, and failing again deserves another alert.
  const redrives = Math.max(execution.redriveCount ?? 0, history.redrives);
  const notify = row.notifiedAt === undefined || (row.notifiedRedrives ?? 0) < redrives;
  // The state machine closes only a run that succeeds or is quarantined; a failure ends the execution
  // at the failed task, so the recorder closes it, and closes it again when a redrive fails again.
  const endedAgain = notify && row.notifiedAt !== undefined && ended !== 'SUCCEEDED' && reopenable(row);
  const closedRow = row.status === 'RUNNING' || endedAgain;
  const final = closedRow ? closed(row, ending, endedAt, endedAgain) : row;
  const result = {
    outcome: 'recorded',
    executionArn,
    executionStatus: ended,
    pipeline: final.pipeline,
    runId: final.runId,
    status: final.status,
    attempts: history.attempts.length,
    createdRow,
    closedRow,
  } as const;

  const alert = notify
    ? alertFor({
        pipeline: final.pipeline,
        runId: final.runId,
        status: ended === 'ABORTED' && final.status === 'FAILED' ? 'ABORTED' : final.status,
        executionArn,
        ledgerKey: key,
        failedTask: final.failedTask,
        error: final.error ?? ending.error,
        cause: final.errorCause ?? ending.cause,
        reason: final.reason,
        quarantine:
          final.quarantineBucket === undefined
            ? undefined
            : { bucket: final.quarantineBucket, key: final.quarantineKey ?? '' },
        warnings: final.warnings,
        attempts: history.attempts,
      })
    : undefined;
  if (notify) await sendNotifications(deps, final, alert, history.attempts);

  // Closing comes after sending: a run whose notifications failed stays RUNNING, so the reconciler
  // tries it again on its next round even if no event is ever redelivered.
  await completeRunRow(deps.dynamodb, deps.table, row, {
    tasks: [...new Set([...row.tasks, ...history.attempts.map((a) => a.task)])],
    transitions: history.transitions,
    ...(run.trigger !== undefined ? { trigger: run.trigger } : {}),
    ...(closedRow
      ? {
          close: {
            status: ending.status,
            endedAt,
            ...(ending.error !== undefined ? { error: ending.error } : {}),
            ...(ending.cause !== undefined ? { cause: ending.cause } : {}),
            ...(ending.task !== undefined ? { failedTask: ending.task } : {}),
            ...(endedAgain ? { replaces: true } : {}),
          },
        }
      : {}),
  });
  if (notify)
    await markNotified(deps.dynamodb, deps.table, key, {
      at: deps.now().toISOString(),
      redrives,
      previous: final.notifiedAt,
    });
  return { ...result, notified: notify, alerted: alert !== undefined };
}

/** The alert (if any), the EMF line and the "Run Finished" event, in that order. */
async function sendNotifications(
  deps: RecorderDeps,
  row: RunRow,
  alert: Alert | undefined,
  attempts: readonly TaskAttempt[],
): Promise<void> {
  if (alert)
    await deps.sns.send(
      new PublishCommand({ TopicArn: deps.alertTopicArn, Subject: alert.subject, Message: alert.message }),
    );
  deps.print(JSON.stringify(runMetrics(row, attempts, deps.now())));
  const put = await deps.eventBridge.send(
    new PutEventsCommand({ Entries: [runFinishedEntry(row, deps.eventBusName)] }),
  );
  if ((put.FailedEntryCount ?? 0) > 0) {
    const entry = put.Entries?.[0];
    throw new RunFinishedEventError(
      `EventBridge refused the "Run Finished" event of run ${row.runId} (${row.pipeline}): ${entry?.ErrorCode ?? 'no code'}: ${entry?.ErrorMessage ?? 'no message'}`,
    );
  }
}

/** The run row as `completeRunRow` will close it: what the notifications describe before it is written. */
function closed(row: RunRow, ending: Ending, endedAt: string, replaces: boolean): RunRow {
  return {
    ...row,
    status: ending.status,
    endedAt,
    error: ending.error || row.error,
    errorCause: ending.cause ? ending.cause.slice(0, 32_000) : row.errorCause,
    failedTask: (replaces ? ending.task : undefined) ?? row.failedTask ?? ending.task,
  };
}

/** A row the recorder closed on an earlier ending of the execution, which a redrive then ran on. */
function reopenable(row: RunRow): boolean {
  return row.status === 'FAILED' || row.status === 'TIMED_OUT';
}

/** Every event of the execution, page after page; the API's largest page is 1 000 events. */
async function readHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 1000,
        includeExecutionData: true,
        ...(nextToken !== undefined ? { nextToken } : {}),
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** The dispatcher's execution input: `{ run: { id, pipeline, trigger, logicalTime, key, expiresAt } }`. */
const executionInput = z.object({
  run: z.object({
    id: z.optional(z.string()),
    pipeline: z.optional(z.string()),
    trigger: z.optional(z.unknown()),
    logicalTime: z.optional(z.string()),
    key: z.optional(z.string()),
    expiresAt: z.optional(z.union([z.string(), z.number()])),
  }),
});

interface RunIdentity {
  readonly pipeline: string;
  readonly runId: string;
  readonly logicalTime: string | undefined;
  readonly runKey: string | undefined;
  readonly trigger: unknown;
  readonly expiresAt: string | undefined;
}

/**
 * Who the execution ran for, from its input. An execution started by hand with other input still gets
 * recorded: under its own name, and under its state machine's name for a pipeline.
 */
function runOf(execution: DescribeExecutionOutput, executionArn: string): RunIdentity {
  let input: unknown;
  try {
    input = JSON.parse(execution.input ?? '{}');
  } catch {
    input = {};
  }
  const parsed = executionInput.safeParse(input);
  const run = parsed.success ? parsed.data.run : {};
  const expiresAt = run.expiresAt === undefined ? undefined : String(run.expiresAt);
  return {
    pipeline: run.pipeline ?? execution.stateMachineArn?.split(':')[6] ?? 'unknown',
    runId: run.id ?? execution.name ?? executionArn.split(':').at(-1) ?? executionArn,
    logicalTime: run.logicalTime,
    runKey: run.key,
    trigger: run.trigger,
    // A TTL that is not whole epoch seconds would make DynamoDB refuse every attempt row.
    expiresAt: expiresAt !== undefined && /^\d{1,12}$/.test(expiresAt) ? expiresAt : undefined,
  };
}

interface Ending {
  readonly status: RunStatus;
  readonly error: string | undefined;
  readonly cause: string | undefined;
  readonly task: string | undefined;
}

/** How the ledger records an ended execution: an abort is a failure with error `States.Aborted`. */
function endingOf(
  execution: DescribeExecutionOutput,
  status: EndedStatus,
  attempts: readonly TaskAttempt[],
): Ending {
  const cause = execution.cause || undefined;
  switch (status) {
    case 'SUCCEEDED':
      return { status: 'SUCCEEDED', error: undefined, cause: undefined, task: undefined };
    case 'FAILED':
      return {
        status: 'FAILED',
        error: execution.error || undefined,
        cause,
        task: blamedTask({ status: 'FAILED', failedTask: undefined, attempts }),
      };
    case 'TIMED_OUT':
      return {
        status: 'TIMED_OUT',
        error: execution.error || 'States.Timeout',
        cause,
        task: blamedTask({ status: 'TIMED_OUT', failedTask: undefined, attempts }),
      };
    case 'ABORTED':
      return {
        status: 'FAILED',
        error: 'States.Aborted',
        cause,
        task: blamedTask({ status: 'ABORTED', failedTask: undefined, attempts }),
      };
  }
}

async function mustGetRun(deps: RecorderDeps, key: LedgerKey): Promise<RunRow> {
  const row = await getRun(deps.dynamodb, deps.table, key);
  if (!row)
    throw new Error(
      `ledger: run row ${key.pk} / ${key.sk} is not in table ${deps.table} right after the recorder wrote it`,
    );
  return row;
}
