import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { defineTask } from 'stepwise-cdk/task';
import { type OrdersSource, parseOrdersCsv, sourceObjects } from './orders-csv.ts';

const s3 = new S3Client({});

/** A passing gate hands ingest's reference on, since the tasks after it see only this output. */
export type ValidateOutput = { pass: true; source: OrdersSource } | { pass: false; reason: string };

export const handler = defineTask(async ({ inputs }): Promise<ValidateOutput> => {
  const source = inputs.ingest as OrdersSource;
  const objects = sourceObjects(source);
  const reasons: string[] = [];
  for (const { key, versionId } of objects) {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: source.bucket, Key: key, VersionId: versionId }),
    );
    const parsed = parseOrdersCsv((await object.Body?.transformToString()) ?? '');
    if (!parsed.ok) reasons.push(objects.length === 1 ? parsed.reason : `${key}: ${parsed.reason}`);
  }
  return reasons.length === 0 ? { pass: true, source } : { pass: false, reason: reasons.join('; ') };
});
