import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { defineTask } from 'stepwise-cdk/task';
import type { TransformOutput } from './transform.ts';

const s3 = new S3Client({});

export interface PublishOutput {
  readonly uri: string;
  /** Carried on for the monitor, which sees only this task's output. */
  readonly rows: { readonly ingested: number; readonly transformed: number };
}

export const handler = defineTask(async ({ run, inputs, buckets }): Promise<PublishOutput> => {
  const transform = inputs.transform as TransformOutput;
  const bucket = buckets.raw;
  if (bucket === undefined) throw new Error("the spec must declare writes: ['raw'] for publish");
  // Partitioned by logical time, so a rerun or a backfill of the same day overwrites its own summary.
  const key = `published/${run.logicalTime.slice(0, 10)}/summary.json`;
  const summary = {
    pipeline: run.pipeline,
    runId: run.id,
    logicalTime: run.logicalTime,
    processed: transform.uri,
    days: transform.days,
    totals: transform.totals,
    orders: transform.rows,
  };
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(summary, null, 2),
      ContentType: 'application/json',
    }),
  );
  return {
    uri: `s3://${bucket}/${key}`,
    rows: { ingested: transform.ingestedRows, transformed: transform.rows },
  };
});
