import {
  type AttributeValue,
  ConditionalCheckFailedException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ledgerKeys } from '../../lib/names.ts';
import type { DispatcherContext } from './context.ts';
import type { UpstreamRun } from './run-key.ts';

/**
 * Records that one upstream of a join has finished for a logical time, and returns every upstream run
 * that has arrived for that time so far. `arrived` is a string set, so a redelivered event adds nothing;
 * `upstreamRuns` maps each upstream to its latest run, which the downstream run's trigger names.
 */
export async function recordArrival(
  ctx: DispatcherContext,
  pipeline: string,
  logicalTime: string,
  upstream: UpstreamRun,
  expiresAt: number,
): Promise<UpstreamRun[]> {
  const { pk, sk } = ledgerKeys.join(pipeline, logicalTime);
  const key = { pk: { S: pk }, sk: { S: sk } };
  const common = {
    ':upstream': { SS: [upstream.pipeline] },
    ':expiresAt': { N: String(expiresAt) },
    ':kind': { S: 'join' },
  };
  // A map entry can be set only inside an existing map, and one update cannot create the map and set
  // an entry of it. So: set the entry if the map exists, else create the map with it. Creating fails
  // only when another upstream's first arrival created the map meanwhile, and then setting succeeds.
  for (const exists of [true, false, true]) {
    try {
      const { Attributes: item = {} } = await ctx.dynamodb.send(
        new UpdateItemCommand({
          TableName: ctx.table,
          Key: key,
          UpdateExpression: exists
            ? 'ADD arrived :upstream SET upstreamRuns.#upstream = :runId, expiresAt = :expiresAt, kind = :kind'
            : 'ADD arrived :upstream SET upstreamRuns = :runs, expiresAt = :expiresAt, kind = :kind',
          ConditionExpression: exists
            ? 'attribute_exists(upstreamRuns)'
            : 'attribute_not_exists(upstreamRuns)',
          ...(exists ? { ExpressionAttributeNames: { '#upstream': upstream.pipeline } } : {}),
          ExpressionAttributeValues: exists
            ? { ...common, ':runId': { S: upstream.runId } }
            : { ...common, ':runs': { M: { [upstream.pipeline]: { S: upstream.runId } } } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return arrivedRuns(item);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  throw new Error(
    `the join item of ${pipeline} for ${logicalTime} changed under every update; retrying the event`,
  );
}

function arrivedRuns(item: Record<string, AttributeValue>): UpstreamRun[] {
  const runs = item.upstreamRuns?.M ?? {};
  return (item.arrived?.SS ?? []).map((pipeline) => ({ pipeline, runId: runs[pipeline]?.S ?? '' }));
}
