import {
  type AttributeValue,
  ConditionalCheckFailedException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DispatcherContext } from './context.ts';

/**
 * A pipeline's concurrency slots: one item whose `active` string set holds the run ids that may be
 * running. `maxConcurrentRuns` bounds the set's size; DynamoDB applies each conditional update to one
 * item atomically, so two dispatchers can never both take the last slot.
 */
function slotsKey(pipeline: string): Record<string, AttributeValue> {
  return { pk: { S: `SLOTS#${pipeline}` }, sk: { S: 'SLOTS' } };
}

/**
 * Takes a slot for the run, or returns false when all are taken. Taking it again for a run that holds
 * one succeeds without taking a second, so a retried or racing start of the same run is harmless.
 */
export async function acquireSlot(
  ctx: DispatcherContext,
  pipeline: string,
  runId: string,
  maxConcurrentRuns: number,
): Promise<boolean> {
  try {
    await ctx.dynamodb.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: slotsKey(pipeline),
        UpdateExpression: 'ADD active :run',
        ConditionExpression:
          'attribute_not_exists(active) OR size(active) < :max OR contains(active, :runId)',
        ExpressionAttributeValues: {
          ':run': { SS: [runId] },
          ':runId': { S: runId },
          ':max': { N: String(maxConcurrentRuns) },
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Frees the run's slot. Idempotent: freeing a slot the run does not hold changes nothing. */
export async function releaseSlot(ctx: DispatcherContext, pipeline: string, runId: string): Promise<void> {
  await ctx.dynamodb.send(
    new UpdateItemCommand({
      TableName: ctx.table,
      Key: slotsKey(pipeline),
      UpdateExpression: 'DELETE active :run',
      ExpressionAttributeValues: { ':run': { SS: [runId] } },
    }),
  );
}
