import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ledgerKeys } from '../../lib/names.ts';
import type { DispatcherContext, PendingRun } from './context.ts';
import type { RunRequest } from './run-key.ts';
import { closedRunItem } from './run-row.ts';

/**
 * A run key's claim moves CLAIMED -> STARTED, or CLAIMED -> QUEUED -> STARTED. A claim left CLAIMED
 * means a dispatcher stopped between the claim and the start (or is still on its way): whoever sees it
 * finishes the start, a redelivery of its trigger or else the reconciler, which finds it in the
 * ledger's byStatus index (see {@link CLAIMED_STATUS}). FAILED: Step Functions refused to start the run
 * for good (access denied, input too large, no such state machine); the run is recorded FAILED with the
 * reason, and never retried.
 */
export type ClaimState = 'CLAIMED' | 'QUEUED' | 'STARTED' | 'FAILED';

export interface Claim extends PendingRun {
  readonly state: ClaimState;
}

/**
 * While a claim is CLAIMED it carries `status: 'CLAIMED'` and `startedAt: <claimedAt>`, the keys of the
 * ledger's byStatus index, so that the reconciler can list the claims whose dispatcher stopped before
 * the start and whose event will never come again (dead-lettered after Lambda's retries, a schedule
 * that fires once). Every move out of CLAIMED removes `status`, and the claim leaves the sparse index.
 */
export const CLAIMED_STATUS = 'CLAIMED';

export function claimKey(pipeline: string, runKey: string): Record<string, AttributeValue> {
  const { pk, sk } = ledgerKeys.claim(pipeline, runKey);
  return { pk: { S: pk }, sk: { S: sk } };
}

/**
 * Claims the run key with a conditional put. When someone holds it already, returns their claim, read
 * consistently, so the caller can tell a finished duplicate from an unfinished start.
 */
export async function claimRunKey(
  ctx: DispatcherContext,
  run: PendingRun,
  expiresAt: number,
): Promise<{ claimed: true } | { claimed: false; existing: Claim }> {
  // Twice at most: the existing claim can only vanish between the put and the read by TTL expiry.
  for (let attempt = 0; ; attempt++) {
    try {
      await ctx.dynamodb.send(
        new PutItemCommand({
          TableName: ctx.table,
          Item: {
            ...claimKey(run.pipeline, run.runKey),
            kind: { S: 'runKey' },
            pipeline: { S: run.pipeline },
            runKey: { S: run.runKey },
            runId: { S: run.runId },
            state: { S: 'CLAIMED' },
            claimedAt: { S: run.claimedAt },
            status: { S: CLAIMED_STATUS },
            startedAt: { S: run.claimedAt },
            input: { S: run.input },
            expiresAt: { N: String(expiresAt) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const existing = await readClaim(ctx, run.pipeline, run.runKey);
    if (existing) return { claimed: false, existing };
    if (attempt > 0)
      throw new Error(
        `the claim of run key ${run.runKey} of ${run.pipeline} keeps vanishing; is its TTL in the past?`,
      );
  }
}

export async function readClaim(
  ctx: DispatcherContext,
  pipeline: string,
  runKey: string,
): Promise<Claim | undefined> {
  const { Item: item } = await ctx.dynamodb.send(
    new GetItemCommand({ TableName: ctx.table, Key: claimKey(pipeline, runKey), ConsistentRead: true }),
  );
  if (!item) return undefined;
  return {
    pipeline,
    runKey,
    runId: item.runId?.S ?? '',
    claimedAt: item.claimedAt?.S ?? '',
    input: item.input?.S ?? '',
    state: (item.state?.S ?? 'STARTED') as ClaimState,
  };
}

/** The run waits in the queue. Only a CLAIMED claim moves: a drainer may have started the run already. */
export async function markQueued(ctx: DispatcherContext, run: PendingRun): Promise<void> {
  try {
    await ctx.dynamodb.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: claimKey(run.pipeline, run.runKey),
        UpdateExpression: 'SET #state = :queued REMOVE #status',
        ConditionExpression: '#state = :claimed',
        ExpressionAttributeNames: { '#state': 'state', '#status': 'status' },
        ExpressionAttributeValues: { ':queued': { S: 'QUEUED' }, ':claimed': { S: 'CLAIMED' } },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/**
 * The run's execution exists. `executionArn` is absent when Step Functions refused a second start.
 * A FAILED claim stays FAILED, and a claim gone (expired) is not brought back as a fragment.
 */
export async function markStarted(
  ctx: DispatcherContext,
  run: PendingRun,
  executionArn: string | undefined,
): Promise<void> {
  try {
    await ctx.dynamodb.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: claimKey(run.pipeline, run.runKey),
        UpdateExpression: `SET #state = :started, runStartedAt = if_not_exists(runStartedAt, :now)${executionArn ? ', executionArn = :arn' : ''} REMOVE #status`,
        ConditionExpression: 'attribute_exists(pk) AND #state <> :failed',
        ExpressionAttributeNames: { '#state': 'state', '#status': 'status' },
        ExpressionAttributeValues: {
          ':started': { S: 'STARTED' },
          ':failed': { S: 'FAILED' },
          ':now': { S: ctx.now().toISOString() },
          ...(executionArn ? { ':arn': { S: executionArn } } : {}),
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/**
 * The run can never start: its claim ends FAILED with the reason. Returns false when the run started
 * after all (another dispatcher's start went through), in which case nothing is marked.
 */
export async function markFailed(ctx: DispatcherContext, run: PendingRun, reason: string): Promise<boolean> {
  try {
    await ctx.dynamodb.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: claimKey(run.pipeline, run.runKey),
        UpdateExpression:
          'SET #state = :failed, failedAt = if_not_exists(failedAt, :now), reason = :reason REMOVE #status',
        ConditionExpression: 'attribute_exists(pk) AND #state <> :started',
        ExpressionAttributeNames: { '#state': 'state', '#status': 'status' },
        ExpressionAttributeValues: {
          ':failed': { S: 'FAILED' },
          ':started': { S: 'STARTED' },
          ':now': { S: ctx.now().toISOString() },
          ':reason': { S: reason },
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
 * Writes the DEDUPLICATED run row that records a repeated trigger, and returns its run id. The id is
 * unique per delivery, so two duplicates in the same millisecond are two rows.
 */
export async function recordDuplicate(
  ctx: DispatcherContext,
  request: RunRequest,
  duplicateOf: string,
  expiresAt: number,
): Promise<string> {
  const now = ctx.now().toISOString();
  const runId = `${duplicateOf.slice(0, 60)}-dup-${randomUUID().slice(0, 8)}`;
  const item = closedRunItem(
    {
      pipeline: request.pipeline,
      runId,
      status: 'DEDUPLICATED',
      startedAt: now,
      endedAt: now,
      runKey: request.runKey,
      trigger: request.trigger,
      logicalTime: request.logicalTime,
      expiresAt,
    },
    { duplicateOf: { S: duplicateOf } },
  );
  await ctx.dynamodb.send(new PutItemCommand({ TableName: ctx.table, Item: item }));
  return runId;
}
