import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import * as z from 'zod/mini';
import { envelopeSchema } from './envelope.ts';
import { type RunRequest, runRequest } from './run-key.ts';

export type DispatchResult =
  | { status: 'STARTED'; pipeline: string; runId: string; runKey: string; executionArn: string }
  | { status: 'DEDUPLICATED'; pipeline: string; runId: string; runKey: string }
  | { status: 'DROPPED'; reason: string };

const dynamodb = new DynamoDBClient({});
const sfn = new SFNClient({});

/**
 * Turns a trigger into at most one run: validates it, computes its run key, claims the key with a
 * conditional put, and starts the execution under a name derived from the key. A duplicate is recorded
 * in the ledger as DEDUPLICATED and goes no further. A malformed event is logged and dropped.
 */
export async function handler(event: unknown): Promise<DispatchResult> {
  const parsed = envelopeSchema.safeParse(event);
  if (!parsed.success) return drop(`malformed trigger event: ${z.prettifyError(parsed.error)}`, event);
  const stateMachineArn = process.env[stateMachineVariable(parsed.data.pipeline)];
  if (!stateMachineArn)
    return drop(`no pipeline named '${parsed.data.pipeline}' is deployed with this dispatcher`, event);
  return dispatch(runRequest(parsed.data), stateMachineArn);
}

export function stateMachineVariable(pipeline: string): string {
  return `STATE_MACHINE_${pipeline.toUpperCase().replace(/-/g, '_')}`;
}

async function dispatch(request: RunRequest, stateMachineArn: string): Promise<DispatchResult> {
  const table = process.env.LEDGER_TABLE as string;
  const claimed = await claimRunKey(table, request);
  if (!claimed) {
    await recordDuplicate(table, request);
    log('info', 'duplicate trigger', { pipeline: request.pipeline, runKey: request.runKey });
    return {
      status: 'DEDUPLICATED',
      pipeline: request.pipeline,
      runId: request.runId,
      runKey: request.runKey,
    };
  }
  const input = JSON.stringify({
    run: {
      id: request.runId,
      pipeline: request.pipeline,
      trigger: request.trigger,
      logicalTime: request.logicalTime,
      key: request.runKey,
    },
  });
  try {
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: request.runId, input }),
    );
    return {
      status: 'STARTED',
      pipeline: request.pipeline,
      runId: request.runId,
      runKey: request.runKey,
      executionArn: started.executionArn as string,
    };
  } catch (error) {
    // Same name, different input: an execution for this run key exists already.
    if (error instanceof ExecutionAlreadyExists) {
      await recordDuplicate(table, request);
      return {
        status: 'DEDUPLICATED',
        pipeline: request.pipeline,
        runId: request.runId,
        runKey: request.runKey,
      };
    }
    throw error;
  }
}

/** Claims the run key. Step Functions also dedupes execution names, so a retry after a crash between
 * the claim and the start is safe: the claim is written with the run id and re-used by the retry. */
async function claimRunKey(table: string, request: RunRequest): Promise<boolean> {
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: `RUNKEY#${request.pipeline}#${request.runKey}` },
          sk: { S: 'RUNKEY' },
          kind: { S: 'runKey' },
          runId: { S: request.runId },
          claimedAt: { S: new Date().toISOString() },
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

async function recordDuplicate(table: string, request: RunRequest): Promise<void> {
  const now = new Date().toISOString();
  const runId = `${request.runId}-dup-${Date.now().toString(36)}`;
  await dynamodb.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        pk: { S: `PIPELINE#${request.pipeline}` },
        sk: { S: `RUN#${now}#${runId}` },
        kind: { S: 'run' },
        pipeline: { S: request.pipeline },
        runId: { S: runId },
        status: { S: 'DEDUPLICATED' },
        startedAt: { S: now },
        endedAt: { S: now },
        logicalTime: { S: request.logicalTime },
        runKey: { S: request.runKey },
        duplicateOf: { S: request.runId },
        trigger: { S: JSON.stringify(request.trigger) },
      },
    }),
  );
}

function drop(reason: string, event: unknown): DispatchResult {
  log('warn', reason, { event });
  // An EMF line: CloudWatch turns it into the DroppedEvents metric.
  console.log(
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          { Namespace: 'stepwise', Dimensions: [[]], Metrics: [{ Name: 'DroppedEvents', Unit: 'Count' }] },
        ],
      },
      DroppedEvents: 1,
    }),
  );
  return { status: 'DROPPED', reason };
}

function log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, message, ...fields }));
}
