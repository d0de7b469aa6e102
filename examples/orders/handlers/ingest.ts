import { GetObjectCommand, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { DataError, defineTask } from 'stepwise-cdk/task';
import { countOrderRows, type OrdersSource } from './orders-csv.ts';

const s3 = new S3Client({});

export const handler = defineTask(async ({ run, buckets }): Promise<OrdersSource> => {
  const { trigger } = run;
  if (trigger.type === 's3') {
    const { bucket, key, versionId } = trigger;
    const size = await measure(bucket, key, versionId);
    return versionId === undefined ? { bucket, key, ...size } : { bucket, key, versionId, ...size };
  }
  // Declared in the spec (reads: ['raw']): the deployed bucket's real name.
  const bucket = buckets.raw;
  if (bucket === undefined) throw new Error("the spec must declare reads: ['raw'] for ingest");
  if (trigger.type === 'manual') {
    const key = manualKey(trigger.input);
    return { bucket, key, ...(await measure(bucket, key)) };
  }
  // A schedule slot or an upstream run: every orders file named for the logical day.
  const day = run.logicalTime.slice(0, 10);
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: 'orders/' })) {
    for (const { Key } of page.Contents ?? []) {
      if (Key?.endsWith('.csv') && Key.includes(day)) keys.push(Key);
    }
  }
  let rows = 0;
  let bytes = 0;
  for (const key of keys.sort()) {
    const size = await measure(bucket, key);
    rows += size.rows;
    bytes += size.bytes;
  }
  return { bucket, day, keys, rows, bytes };
});

async function measure(bucket: string, key: string, versionId?: string) {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  const text = (await object.Body?.transformToString()) ?? '';
  const bytes = Buffer.byteLength(text);
  if (bytes === 0) throw new DataError(`s3://${bucket}/${key} is empty`);
  const rows = countOrderRows(text);
  if (rows === 0) throw new DataError(`s3://${bucket}/${key} has no orders, only a header`);
  return { rows, bytes };
}

function manualKey(input: unknown): string {
  const { key } = (input ?? {}) as { key?: unknown };
  if (typeof key === 'string' && key !== '') return key;
  throw new DataError(
    `a manual run needs --input '{"key":"orders/<file>.csv"}' (an object in the raw bucket), received ${JSON.stringify(input)}`,
  );
}
