import { type AttributeValue, QueryCommand } from '@aws-sdk/client-dynamodb';
import { STATUS_INDEX } from '../../lib/names.ts';
import { admit } from '../dispatcher/admission.ts';
import { CLAIMED_STATUS, readClaim } from '../dispatcher/claim.ts';
import type { PipelineConfig } from '../dispatcher/config.ts';
import type { DispatcherContext } from '../dispatcher/context.ts';

export interface ClaimRepair {
  /** Claims left CLAIMED past the grace period. */
  found: number;
  /** Of those, runs now started (or joined to the execution already started). */
  readonly started: string[];
  /** Runs queued behind full slots: the queue now holds them. */
  readonly queued: string[];
  /** Runs that turned out to have run already, or were set aside as unstartable (FAILED, alerted). */
  readonly settled: string[];
  /** Claims of pipelines this reconciler does not serve, left alone. */
  readonly unknown: string[];
}

/**
 * Finishes the starts that no delivery will finish. A dispatcher that claims a run key and stops
 * before the start (a crash, a timeout, a StartExecution throttled through every retry) leaves the
 * claim CLAIMED, and normally the event's redelivery finishes the start. When the event is
 * dead-lettered instead, nothing would: the trigger would stay claimed with no run, and the same
 * trigger sent again would be answered by this claim. So every claim CLAIMED for longer than the grace
 * period (far longer than any dispatcher takes from claim to start) is admitted here exactly as a
 * redelivery admits it: started into a free slot, queued behind full ones, set aside if Step Functions
 * refuses it for good, or marked STARTED if it ran after all.
 */
export async function restartStaleClaims(
  ctx: DispatcherContext,
  configs: ReadonlyMap<string, PipelineConfig>,
  claimedBefore: string,
): Promise<ClaimRepair> {
  const repair: ClaimRepair = { found: 0, started: [], queued: [], settled: [], unknown: [] };
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await ctx.dynamodb.send(
      new QueryCommand({
        TableName: ctx.table,
        IndexName: STATUS_INDEX,
        KeyConditionExpression: '#status = :claimed AND startedAt < :before',
        FilterExpression: 'kind = :runKey',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':claimed': { S: CLAIMED_STATUS },
          ':before': { S: claimedBefore },
          ':runKey': { S: 'runKey' },
        },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    start = page.LastEvaluatedKey;
    for (const item of page.Items ?? []) {
      const pipeline = item.pipeline?.S ?? '';
      const runKey = item.runKey?.S ?? '';
      repair.found++;
      const config = configs.get(pipeline);
      if (!config) {
        repair.unknown.push(`${pipeline}/${item.runId?.S ?? runKey}`);
        continue;
      }
      // The index is read eventually consistently: the claim may have moved on since.
      const claim = await readClaim(ctx, pipeline, runKey);
      if (claim?.state !== 'CLAIMED') continue;
      const admission = await admit(ctx, config, claim, true);
      if (admission.outcome === 'started') repair.started.push(claim.runId);
      else if (admission.outcome === 'queued') repair.queued.push(claim.runId);
      else repair.settled.push(claim.runId);
    }
  } while (start);
  return repair;
}
