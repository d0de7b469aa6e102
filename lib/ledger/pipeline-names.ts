import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { LEDGER_KEY_PREFIX, ledgerKeys } from '../names.ts';

/**
 * The names of the pipelines with at least one run row, sorted. It scans the whole table, so it is
 * for the local ledger: to name the pipelines it knows when asked for one that has no runs.
 */
export async function pipelinesWithRuns(client: DynamoDBClient, table: string): Promise<string[]> {
  const names = new Set<string>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: 'pk',
        FilterExpression: 'begins_with(pk, :pipeline) AND begins_with(sk, :run)',
        ExpressionAttributeValues: {
          ':pipeline': { S: LEDGER_KEY_PREFIX.pipeline },
          ':run': { S: LEDGER_KEY_PREFIX.run },
        },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const pk = item.pk?.S;
      if (pk) names.add(ledgerKeys.pipelineOf(pk));
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return [...names].sort();
}
