import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LEDGER_KEY_PREFIX, type LedgerKey, ledgerKeys, STATUS_INDEX } from '../names.ts';
import { causeMessage, type TaskAttempt } from './task-attempts.ts';

export type RunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'QUARANTINED' | 'DEDUPLICATED' | 'TIMED_OUT';
export type TaskStatus = 'SUCCEEDED' | 'FAILED' | 'SKIPPED' | 'QUARANTINED';
export const RUN_STATUSES: readonly RunStatus[] = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'QUARANTINED',
  'DEDUPLICATED',
  'TIMED_OUT',
];

/** A run row, as the state machine and dispatcher write it. */
export interface RunRow {
  readonly pk: string;
  readonly sk: string;
  readonly pipeline: string;
  readonly runId: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly endedAt: string | undefined;
  readonly trigger: unknown;
  readonly runKey: string | undefined;
  readonly logicalTime: string | undefined;
  readonly executionArn: string | undefined;
  readonly failedTask: string | undefined;
  readonly error: string | undefined;
  readonly errorCause: string | undefined;
  readonly reason: string | undefined;
  readonly quarantineBucket: string | undefined;
  readonly quarantineKey: string | undefined;
  readonly warnings: readonly string[];
  readonly tasks: readonly string[];
  readonly transitions: number | undefined;
  readonly duplicateOf: string | undefined;
  /** Epoch seconds, as text: the TTL the state machine wrote, copied onto attempt rows. */
  readonly expiresAt: string | undefined;
  /** When the recorder sent this run's alert and "Run Finished" event; set after sending. */
  readonly notifiedAt: string | undefined;
  /** The execution's redrive count when it was notified: each redrive that ends is notified again. */
  readonly notifiedRedrives: number | undefined;
}

export interface TaskReport {
  readonly id: string;
  readonly status: TaskStatus;
  readonly attempts: number;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly error?: string;
}

/** The `run --json` and `runs --json` object: one run with its tasks. */
export interface RunReport {
  readonly runId: string;
  readonly pipeline: string;
  readonly status: RunStatus;
  readonly trigger: unknown;
  readonly tasks: readonly TaskReport[];
  readonly transitions: number;
  readonly durationMs: number;
  readonly startedAt: string;
  readonly quarantine?: { readonly bucket: string; readonly key: string; readonly reason: string };
  readonly warnings?: readonly string[];
  readonly error?: {
    readonly task: string | undefined;
    readonly error: string | undefined;
    readonly message: string | undefined;
  };
  readonly duplicateOf?: string;
}

const s = (item: Record<string, AttributeValue>, key: string) => item[key]?.S;

export function parseRunRow(item: Record<string, AttributeValue>): RunRow {
  const trigger = s(item, 'trigger');
  let parsedTrigger: unknown = trigger;
  try {
    parsedTrigger = trigger === undefined ? undefined : JSON.parse(trigger);
  } catch {
    // keep the raw text: a ledger row is never dropped for a field we cannot read
  }
  return {
    pk: s(item, 'pk') as string,
    sk: s(item, 'sk') as string,
    pipeline: s(item, 'pipeline') as string,
    runId: s(item, 'runId') as string,
    status: s(item, 'status') as RunStatus,
    startedAt: s(item, 'startedAt') as string,
    endedAt: s(item, 'endedAt'),
    trigger: parsedTrigger,
    runKey: s(item, 'runKey'),
    logicalTime: s(item, 'logicalTime'),
    executionArn: s(item, 'executionArn'),
    failedTask: s(item, 'failedTask'),
    error: s(item, 'error'),
    errorCause: s(item, 'errorCause'),
    reason: s(item, 'reason'),
    quarantineBucket: s(item, 'quarantineBucket'),
    quarantineKey: s(item, 'quarantineKey'),
    warnings: item.warnings?.SS ?? [],
    tasks: (item.tasks?.L ?? []).map((v) => v.S as string),
    transitions: item.transitions?.N === undefined ? undefined : Number(item.transitions.N),
    duplicateOf: s(item, 'duplicateOf'),
    expiresAt: item.expiresAt?.N,
    notifiedAt: s(item, 'notifiedAt'),
    notifiedRedrives: item.notifiedRedrives?.N === undefined ? undefined : Number(item.notifiedRedrives.N),
  };
}

export function parseAttemptRow(item: Record<string, AttributeValue>): TaskAttempt {
  const duration = item.durationMs?.N;
  return {
    task: s(item, 'task') as string,
    attempt: Number(item.attempt?.N ?? 1),
    status: s(item, 'status') as TaskAttempt['status'],
    startedAt: s(item, 'startedAt') as string,
    endedAt: s(item, 'endedAt'),
    durationMs: duration === undefined ? undefined : Number(duration),
    error: s(item, 'error'),
    cause: s(item, 'cause'),
  };
}

/**
 * Writes task attempts idempotently: the same attempt always lands on the same key with the same
 * attributes, so writing a history twice changes nothing. `expiresAt` (epoch seconds) is the run's TTL.
 */
export async function writeAttempts(
  client: DynamoDBClient,
  table: string,
  run: { pipeline: string; runId: string; expiresAt?: string | undefined },
  attempts: readonly TaskAttempt[],
): Promise<void> {
  const items = attempts.map((a) => {
    const key = ledgerKeys.attempt(run.runId, a.task, a.attempt);
    const item: Record<string, AttributeValue> = {
      pk: { S: key.pk },
      sk: { S: key.sk },
      kind: { S: 'attempt' },
      pipeline: { S: run.pipeline },
      runId: { S: run.runId },
      task: { S: a.task },
      attempt: { N: String(a.attempt) },
      status: { S: a.status },
      startedAt: { S: a.startedAt },
    };
    if (a.endedAt !== undefined) item.endedAt = { S: a.endedAt };
    if (a.durationMs !== undefined) item.durationMs = { N: String(a.durationMs) };
    if (a.error !== undefined) item.error = { S: a.error };
    if (a.cause !== undefined) item.cause = { S: a.cause.slice(0, 32_000) };
    if (run.expiresAt !== undefined) item.expiresAt = { N: run.expiresAt };
    return { PutRequest: { Item: item } };
  });
  for (let i = 0; i < items.length; i += 25) {
    let pending: typeof items | undefined = items.slice(i, i + 25);
    for (let tries = 0; pending && pending.length > 0; tries++) {
      const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
      pending = result.UnprocessedItems?.[table] as typeof items | undefined;
      if (pending?.length && tries > 8)
        throw new Error(`ledger: ${pending.length} task attempt rows could not be written`);
      if (pending?.length) await new Promise((r) => setTimeout(r, 50 * 2 ** tries));
    }
  }
}

/** Every item a query matches, page by page, in the query's order. */
async function* queryItems(
  client: DynamoDBClient,
  input: QueryCommandInput,
): AsyncGenerator<Record<string, AttributeValue>> {
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    yield* page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start);
}

interface RowFilter {
  readonly expression: string;
  readonly names?: Record<string, string>;
  readonly values: Record<string, AttributeValue>;
}

/** Run rows of a pipeline, newest first. */
function runRows(
  client: DynamoDBClient,
  table: string,
  pipeline: string,
  filter: RowFilter | undefined,
): AsyncGenerator<Record<string, AttributeValue>> {
  return queryItems(client, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :run)',
    ExpressionAttributeValues: {
      ':pk': { S: ledgerKeys.runsOf(pipeline) },
      ':run': { S: LEDGER_KEY_PREFIX.run },
      ...filter?.values,
    },
    ...(filter ? { FilterExpression: filter.expression } : {}),
    ...(filter?.names ? { ExpressionAttributeNames: filter.names } : {}),
    ScanIndexForward: false,
  });
}

export async function findRun(
  client: DynamoDBClient,
  table: string,
  pipeline: string,
  runId: string,
): Promise<RunRow | undefined> {
  const filter: RowFilter = { expression: 'runId = :id', values: { ':id': { S: runId } } };
  for await (const item of runRows(client, table, pipeline, filter)) return parseRunRow(item);
  return undefined;
}

/** Runs of a pipeline, newest first. */
export async function listRuns(
  client: DynamoDBClient,
  table: string,
  pipeline: string,
  options: { status?: RunStatus; limit?: number } = {},
): Promise<RunRow[]> {
  const limit = options.limit ?? 20;
  const filter: RowFilter | undefined = options.status
    ? {
        expression: '#status = :status',
        names: { '#status': 'status' },
        values: { ':status': { S: options.status } },
      }
    : undefined;
  const rows: RunRow[] = [];
  for await (const item of runRows(client, table, pipeline, filter)) {
    rows.push(parseRunRow(item));
    if (rows.length >= limit) break;
  }
  return rows;
}

export async function readAttempts(
  client: DynamoDBClient,
  table: string,
  runId: string,
): Promise<TaskAttempt[]> {
  const attempts: TaskAttempt[] = [];
  const query: QueryCommandInput = {
    TableName: table,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :task)',
    ExpressionAttributeValues: {
      ':pk': { S: ledgerKeys.attemptsOf(runId) },
      ':task': { S: LEDGER_KEY_PREFIX.task },
    },
  };
  for await (const item of queryItems(client, query)) attempts.push(parseAttemptRow(item));
  return attempts;
}

/**
 * Closes a run the state machine could not close itself (a timeout), and records what only history
 * knows. `trigger`, when given, replaces the trigger the state machine wrote: locally that copy went
 * through aws-local-stepfunctions' States.JsonToString, which drops every backslash, so a trigger
 * holding a quote or a backslash would no longer parse. `close` applies only to a row still RUNNING,
 * and `close.failedTask` only when the row names none, unless `close.replaces`: a redriven execution
 * that ended again replaces the ending the recorder wrote before. The row must exist: this never
 * creates a partial one.
 */
export async function completeRunRow(
  client: DynamoDBClient,
  table: string,
  row: RunRow,
  fields: {
    tasks: readonly string[];
    transitions: number;
    trigger?: unknown;
    close?: {
      status: RunStatus;
      endedAt: string;
      error?: string;
      cause?: string;
      failedTask?: string;
      replaces?: boolean;
    };
  },
): Promise<void> {
  const values: Record<string, AttributeValue> = {
    ':tasks': { L: fields.tasks.map((t) => ({ S: t })) },
    ':transitions': { N: String(fields.transitions) },
  };
  let expression = 'SET tasks = :tasks, transitions = :transitions';
  const names: Record<string, string> = {};
  if (fields.trigger !== undefined) {
    expression += ', #trigger = :trigger';
    names['#trigger'] = 'trigger';
    values[':trigger'] = { S: JSON.stringify(fields.trigger) };
  }
  if (fields.close && (row.status === 'RUNNING' || fields.close.replaces)) {
    expression += ', #status = :status, endedAt = :endedAt';
    names['#status'] = 'status';
    values[':status'] = { S: fields.close.status };
    values[':endedAt'] = { S: fields.close.endedAt };
    if (fields.close.error) {
      expression += ', #error = :error';
      names['#error'] = 'error';
      values[':error'] = { S: fields.close.error };
    }
    if (fields.close.cause) {
      expression += ', errorCause = :cause';
      values[':cause'] = { S: fields.close.cause.slice(0, 32_000) };
    }
    if (fields.close.failedTask && (row.failedTask === undefined || fields.close.replaces)) {
      expression += ', failedTask = :failedTask';
      values[':failedTask'] = { S: fields.close.failedTask };
    }
  }
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: { S: row.pk }, sk: { S: row.sk } },
      UpdateExpression: expression,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: values,
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    }),
  );
}

/** A run row by its key, read consistently: the recorder reads what it has just written. */
export async function getRun(
  client: DynamoDBClient,
  table: string,
  key: LedgerKey,
): Promise<RunRow | undefined> {
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: table,
      Key: { pk: { S: key.pk }, sk: { S: key.sk } },
      ConsistentRead: true,
    }),
  );
  return Item?.kind?.S === 'run' ? parseRunRow(Item) : undefined;
}

/** A run row the state machine never wrote, because the execution ended before `Record run start`. */
export interface MissingRunRow {
  readonly key: LedgerKey;
  readonly pipeline: string;
  readonly runId: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly executionArn: string;
  readonly logicalTime: string | undefined;
  readonly runKey: string | undefined;
  readonly trigger: unknown;
  readonly error: string | undefined;
  readonly cause: string | undefined;
  readonly expiresAt: string | undefined;
}

/**
 * Writes the row of a run that ended before recording its start, so that the failure is listed like
 * any other and its alert is sent once. Never overwrites a row that exists; returns whether it wrote.
 */
export async function putMissingRunRow(
  client: DynamoDBClient,
  table: string,
  row: MissingRunRow,
): Promise<boolean> {
  const item: Record<string, AttributeValue> = {
    pk: { S: row.key.pk },
    sk: { S: row.key.sk },
    kind: { S: 'run' },
    pipeline: { S: row.pipeline },
    runId: { S: row.runId },
    status: { S: row.status },
    startedAt: { S: row.startedAt },
    endedAt: { S: row.endedAt },
    executionArn: { S: row.executionArn },
  };
  if (row.logicalTime !== undefined) item.logicalTime = { S: row.logicalTime };
  if (row.runKey !== undefined) item.runKey = { S: row.runKey };
  if (row.trigger !== undefined) item.trigger = { S: JSON.stringify(row.trigger) };
  if (row.error !== undefined) item.error = { S: row.error };
  if (row.cause !== undefined) item.errorCause = { S: row.cause.slice(0, 32_000) };
  if (row.expiresAt !== undefined) item.expiresAt = { N: row.expiresAt };
  try {
    await client.send(
      new PutItemCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Marks a run notified for the execution's `redrives`-th ending. Conditional on the mark the caller
 * read (`previous`, undefined for none), so that of two recorders racing on one run only the first
 * marks it; returns whether this call did.
 */
export async function markNotified(
  client: DynamoDBClient,
  table: string,
  key: LedgerKey,
  mark: { at: string; redrives: number; previous: string | undefined },
): Promise<boolean> {
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: key.pk }, sk: { S: key.sk } },
        UpdateExpression: 'SET notifiedAt = :at, notifiedRedrives = :redrives',
        ConditionExpression:
          mark.previous === undefined
            ? 'attribute_exists(pk) AND attribute_not_exists(notifiedAt)'
            : 'notifiedAt = :previous',
        ExpressionAttributeValues: {
          ':at': { S: mark.at },
          ':redrives': { N: String(mark.redrives) },
          ...(mark.previous === undefined ? {} : { ':previous': { S: mark.previous } }),
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Run rows still RUNNING that started before `before` (an ISO time), oldest first, every page. Attempt
 * rows share the index (they have a status and a start too), so only `kind = 'run'` items come back.
 */
export async function* runningRunsStartedBefore(
  client: DynamoDBClient,
  table: string,
  before: string,
  options: { pageSize?: number } = {},
): AsyncGenerator<RunRow> {
  const query: QueryCommandInput = {
    TableName: table,
    IndexName: STATUS_INDEX,
    KeyConditionExpression: '#status = :running AND startedAt < :before',
    FilterExpression: 'kind = :run',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: {
      ':running': { S: 'RUNNING' },
      ':before': { S: before },
      ':run': { S: 'run' },
    },
    ...(options.pageSize ? { Limit: options.pageSize } : {}),
  };
  for await (const item of queryItems(client, query)) yield parseRunRow(item);
}

/** A run row and its attempt rows, as the CLI reports them. */
export function runReport(
  row: RunRow,
  attempts: readonly TaskAttempt[],
  taskOrder: readonly string[] = row.tasks,
): RunReport {
  const order = taskOrder.length > 0 ? taskOrder : [...new Set(attempts.map((a) => a.task))];
  const tasks: TaskReport[] = order.map((id) => {
    const mine = attempts.filter((a) => a.task === id).sort((a, b) => a.attempt - b.attempt);
    const last = mine.at(-1);
    if (!last) return { id, status: 'SKIPPED', attempts: 0, startedAt: null, endedAt: null };
    const quarantinedHere = row.status === 'QUARANTINED' && row.failedTask === id;
    const status: TaskStatus = quarantinedHere
      ? 'QUARANTINED'
      : last.status === 'SUCCEEDED'
        ? 'SUCCEEDED'
        : 'FAILED';
    const message = quarantinedHere && row.reason !== undefined ? row.reason : causeMessage(last.cause);
    return {
      id,
      status,
      attempts: mine.length,
      startedAt: (mine[0] as TaskAttempt).startedAt,
      endedAt: last.endedAt ?? null,
      ...(status !== 'SUCCEEDED' && message !== undefined ? { error: message } : {}),
    };
  });
  const end = row.endedAt ?? row.startedAt;
  return {
    runId: row.runId,
    pipeline: row.pipeline,
    status: row.status,
    trigger: row.trigger,
    tasks,
    transitions: row.transitions ?? 0,
    durationMs: Math.max(0, Date.parse(end) - Date.parse(row.startedAt)),
    startedAt: row.startedAt,
    ...(row.status === 'QUARANTINED'
      ? {
          quarantine: {
            bucket: row.quarantineBucket ?? '',
            key: row.quarantineKey ?? '',
            reason: row.reason ?? '',
          },
        }
      : {}),
    ...(row.warnings.length > 0 ? { warnings: row.warnings } : {}),
    ...(row.status === 'FAILED' || row.status === 'TIMED_OUT'
      ? { error: { task: row.failedTask, error: row.error, message: causeMessage(row.errorCause) } }
      : {}),
    ...(row.duplicateOf ? { duplicateOf: row.duplicateOf } : {}),
  };
}
