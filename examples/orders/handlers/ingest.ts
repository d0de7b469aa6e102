import { GetObjectCommand, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { DataError, defineTask } from 'stepwise-cdk/task';
import { countOrderRows, type OrdersSource } from './orders-csv.ts';

const s3 = new S3Client({});

export const handler = defineTask(async ({ run }): Promise<OrdersSource> => {
  const { trigger } = run;
  if (trigger.type === 's3') {
    const { bucket, key, versionId } = trigger;
    const size = await measure(bucket, key, versionId);
    return versionId === undefined ? { bucket, key, ...size } : { bucket, key, versionId, ...size };
  }
  if (trigger.type === 'manual') {
    const { bucket, key } = manualObject(trigger.input);
    return { bucket, key, ...(await measure(bucket, key)) };
  }
  // A schedule slot or an upstream run: every orders file named for the logical day.
  const bucket = dataBucket();
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

function manualObject(input: unknown): { bucket: string; key: string } {
  const { bucket = dataBucket(), key } = (input ?? {}) as { bucket?: unknown; key?: unknown };
  if (typeof bucket === 'string' && typeof key === 'string') return { bucket, key };
  throw new DataError(
    `a manual run needs --input '{"bucket":"raw","key":"orders/<file>.csv"}', received ${JSON.stringify(input)}`,
  );
}

function dataBucket(): string {
  const bucket = process.env.DATA_BUCKET;
  if (bucket === undefined || bucket === '') throw new Error('DATA_BUCKET is not set in the environment');
  return bucket;
}
