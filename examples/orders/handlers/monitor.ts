import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { defineTask } from 'stepwise-cdk/task';
import type { PublishOutput } from './publish.ts';

const s3 = new S3Client({});

// Non-critical: a failure here warns and alerts, but the run still succeeds.
export const handler = defineTask(async ({ inputs }) => {
  const { uri, rows } = inputs.publish as PublishOutput;
  if (rows.ingested !== rows.transformed) {
    throw new Error(
      `row counts disagree: ingest counted ${rows.ingested}, transform aggregated ${rows.transformed}`,
    );
  }
  const { hostname: bucket, pathname } = new URL(uri);
  const summary = await s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: decodeURIComponent(pathname.slice(1)) }),
  );
  return { rows: rows.ingested, summaryBytes: summary.ContentLength ?? 0 };
});
