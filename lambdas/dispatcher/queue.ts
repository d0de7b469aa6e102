import {
  type AttributeValue,
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { ledgerKeys } from '../../lib/names.ts';
import type { DispatcherContext, PendingRun } from './context.ts';

/**
 * Runs waiting for a concurrency slot: `QUEUE#<pipeline>`, sorted by `<queuedAt>#<runId>`. The queued
 * time is the claim's time, not the moment of queueing: a retried enqueue then writes the same item
 * instead of a second one, and runs leave the queue in the order their triggers arrived.
 */
function queueKey(run: Pick<PendingRun, 'pipeline' | 'runId' | 'claimedAt'>): Record<string, AttributeValue> {
  const { pk, sk } = ledgerKeys.queued(run.pipeline, run.claimedAt, run.runId);
  return { pk: { S: pk }, sk: { S: sk } };
}

/** Queued runs never expire: a run waiting for a slot must not vanish however long it waits. */
export async function enqueue(ctx: DispatcherContext, run: PendingRun): Promise<void> {
  await ctx.dynamodb.send(
    new PutItemCommand({
      TableName: ctx.table,
      Item: {
        ...queueKey(run),
        kind: { S: 'queued' },
        pipeline: { S: run.pipeline },
        runId: { S: run.runId },
        runKey: { S: run.runKey },
        claimedAt: { S: run.claimedAt },
        queuedAt: { S: ctx.now().toISOString() },
        input: { S: run.input },
      },
    }),
  );
}

/** The oldest queued runs, read consistently: a drain must see every run queued before it began. */
export async function oldestQueued(
  ctx: DispatcherContext,
  pipeline: string,
  limit: number,
): Promise<PendingRun[]> {
  const { Items: items = [] } = await ctx.dynamodb.send(
    new QueryCommand({
      TableName: ctx.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: ledgerKeys.queueOf(pipeline) } },
      ConsistentRead: true,
      ScanIndexForward: true,
      Limit: limit,
    }),
  );
  return items.map((item) => ({
    pipeline,
    runId: item.runId?.S ?? '',
    runKey: item.runKey?.S ?? '',
    claimedAt: item.claimedAt?.S ?? '',
    input: item.input?.S ?? '',
  }));
}

/** Removes the run from the queue; idempotent. */
export async function dequeue(ctx: DispatcherContext, run: PendingRun): Promise<void> {
  await ctx.dynamodb.send(new DeleteItemCommand({ TableName: ctx.table, Key: queueKey(run) }));
}
