import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DataError, defineTask } from 'stepwise-cdk/task';
import {
  currencyTotals,
  dailyTotals,
  type Order,
  type OrdersSource,
  parseOrdersCsv,
  sourceObjects,
} from './orders-csv.ts';
import type { ValidateOutput } from './validate.ts';

const s3 = new S3Client({});

export interface TransformOutput {
  readonly uri: string;
  readonly days: readonly string[];
  /** Amount per currency over the whole source. */
  readonly totals: Record<string, number>;
  /** Rows aggregated here, and rows ingest counted, for the monitor to compare. */
  readonly rows: number;
  readonly ingestedRows: number;
}

export const handler = defineTask(async ({ run, inputs, buckets }): Promise<TransformOutput> => {
  // The state machine runs this task only after the gate passed.
  const { source } = inputs.validate as Extract<ValidateOutput, { pass: true }>;
  const orders: Order[] = [];
  for (const { key, versionId } of sourceObjects(source)) {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: source.bucket, Key: key, VersionId: versionId }),
    );
    const parsed = parseOrdersCsv((await object.Body?.transformToString()) ?? '');
    if (!parsed.ok)
      throw new DataError(`s3://${source.bucket}/${key} changed after validation: ${parsed.reason}`);
    orders.push(...parsed.orders);
  }
  const daily = dailyTotals(orders);
  const bucket = buckets.raw;
  if (bucket === undefined) throw new Error("the spec must declare writes: ['raw'] for transform");
  const key = processedKey(source);
  const body = { pipeline: run.pipeline, runId: run.id, source: sourceUris(source), daily };
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(body, null, 2),
      ContentType: 'application/json',
    }),
  );
  return {
    uri: `s3://${bucket}/${key}`,
    days: [...new Set(daily.map(({ day }) => day))],
    totals: currencyTotals(daily),
    rows: orders.length,
    ingestedRows: source.rows,
  };
});

/** `orders/orders-2026-11-01.csv` becomes `processed/orders-2026-11-01.json`; a day's files, one file. */
function processedKey(source: OrdersSource): string {
  if ('day' in source) return `processed/daily/${source.day}.json`;
  return `processed/${source.key.replace(/^orders\//, '').replace(/\.csv$/, '')}.json`;
}

function sourceUris(source: OrdersSource): string[] {
  return sourceObjects(source).map(({ key }) => `s3://${source.bucket}/${key}`);
}
