import {
  type AttributeValue,
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ledgerKeys } from '../../lib/names.ts';
import type { DispatcherContext } from './context.ts';

/**
 * A pipeline's concurrency slots: one item whose `active` string set holds the run ids that may be
 * running. `maxConcurrentRuns` bounds the set's size; DynamoDB applies each conditional update to one
 * item atomically, so two dispatchers can never both take the last slot.
 *
 * Taking a slot is idempotent per run id (a retried or racing start of one run takes one slot), so the
 * item also remembers which runs gave theirs back: `released` and `releasedBefore`, two string sets
 * that each span at least {@link RELEASED_MEMORY_SECONDS}. A run in either set cannot take a slot. That
 * is what stops a dispatcher acting on a stale read (a queue item or a claim read before the run
 * started, finished and released its slot) from putting the finished run back into `active`, where
 * nothing would ever take it out again.
 */
function slotsKey(pipeline: string): Record<string, AttributeValue> {
  const { pk, sk } = ledgerKeys.slots(pipeline);
  return { pk: { S: pk }, sk: { S: sk } };
}

/**
 * How long a released run is remembered, at least. A stale read is acted on within the invocation that
 * made it, and no Lambda invocation lasts longer than 15 minutes (the dispatcher's own timeout is far
 * shorter). The memory costs item size, which every slot update pays for in write units: two
 * generations of 15 minutes hold the runs released in the last 15 to 30 minutes.
 */
export const RELEASED_MEMORY_SECONDS = 900;

/**
 * Takes a slot for the run, and returns whether it holds one. Taking it again for a run that holds one
 * succeeds without taking a second, so a retried or racing start of the same run is harmless; a run
 * that released its slot gets none. A refusal means every slot is taken by other runs, or the run
 * released its own: {@link readSlots} tells which, when it matters.
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
          'NOT contains(released, :runId) AND NOT contains(releasedBefore, :runId) AND ' +
          '(attribute_not_exists(active) OR size(active) < :max OR contains(active, :runId))',
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

/**
 * Frees the run's slot and remembers that it did. Idempotent: freeing a slot the run does not hold
 * changes nothing but the memory. Call it only once the run's execution has closed, or can never start.
 */
export async function releaseSlot(ctx: DispatcherContext, pipeline: string, runId: string): Promise<void> {
  const now = Math.floor(ctx.now().getTime() / 1000);
  const run = { ':run': { SS: [runId] } };
  // Once the newer memory is older than the retention, it becomes the older one and the older one is
  // forgotten: every released run is remembered between one and two retention periods.
  try {
    await ctx.dynamodb.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: slotsKey(pipeline),
        UpdateExpression:
          'DELETE active :run ADD released :run SET releasedSince = if_not_exists(releasedSince, :now)',
        ConditionExpression: 'attribute_not_exists(releasedSince) OR releasedSince > :expired',
        ExpressionAttributeValues: {
          ...run,
          ':now': { N: String(now) },
          ':expired': { N: String(now - RELEASED_MEMORY_SECONDS) },
        },
      }),
    );
    return;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  const { released } = await readSlotsItem(ctx, pipeline);
  // Rotate, conditional on the generation just read, so two rotating releases forget nothing twice.
  try {
    await ctx.dynamodb.send(
      new UpdateItemCommand({
        TableName: ctx.table,
        Key: slotsKey(pipeline),
        UpdateExpression:
          released.length > 0
            ? 'DELETE active :run SET released = :run, releasedBefore = :previous, releasedSince = :now'
            : 'DELETE active :run SET released = :run, releasedSince = :now REMOVE releasedBefore',
        ConditionExpression: 'releasedSince <= :expired',
        ExpressionAttributeValues: {
          ...run,
          ':now': { N: String(now) },
          ':expired': { N: String(now - RELEASED_MEMORY_SECONDS) },
          ...(released.length > 0 ? { ':previous': { SS: released } } : {}),
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // Another release rotated first: the plain release now applies.
    await releaseSlot(ctx, pipeline, runId);
  }
}

export interface Slots {
  /** The runs holding a slot. */
  readonly active: string[];
  /** Every run remembered as having released its slot. */
  readonly released: string[];
  /** Runs the reconciler found holding a slot without an execution, on its previous pass. */
  readonly unstarted: string[];
}

/** The slots item, read consistently. */
export async function readSlots(ctx: DispatcherContext, pipeline: string): Promise<Slots> {
  const item = await readSlotsItem(ctx, pipeline);
  return {
    active: item.active,
    released: [...item.released, ...item.releasedBefore],
    unstarted: item.unstarted,
  };
}

async function readSlotsItem(ctx: DispatcherContext, pipeline: string) {
  const { Item: item = {} } = await ctx.dynamodb.send(
    new GetItemCommand({ TableName: ctx.table, Key: slotsKey(pipeline), ConsistentRead: true }),
  );
  return {
    active: item.active?.SS ?? [],
    released: item.released?.SS ?? [],
    releasedBefore: item.releasedBefore?.SS ?? [],
    unstarted: item.unstarted?.SS ?? [],
  };
}

/**
 * Frees a slot held by a run whose execution never started, without remembering the run: it has not
 * happened, so a later drain of its queue item may take a slot for it again and start it.
 */
export async function forgetHolder(ctx: DispatcherContext, pipeline: string, runId: string): Promise<void> {
  await ctx.dynamodb.send(
    new UpdateItemCommand({
      TableName: ctx.table,
      Key: slotsKey(pipeline),
      UpdateExpression: 'DELETE active :run',
      ExpressionAttributeValues: { ':run': { SS: [runId] } },
    }),
  );
}

/**
 * Records the reconciler's suspects: runs holding a slot with no execution. A run still a suspect on
 * the next pass (minutes later, longer than any dispatcher takes from slot to start) never started.
 */
export async function setUnstarted(
  ctx: DispatcherContext,
  pipeline: string,
  runIds: string[],
): Promise<void> {
  await ctx.dynamodb.send(
    new UpdateItemCommand({
      TableName: ctx.table,
      Key: slotsKey(pipeline),
      UpdateExpression: runIds.length > 0 ? 'SET unstarted = :runs' : 'REMOVE unstarted',
      ...(runIds.length > 0 ? { ExpressionAttributeValues: { ':runs': { SS: runIds } } } : {}),
    }),
  );
}
