import type { S3ObjectCreatedTrigger, TriggerSpec } from '../types.ts';

/**
 * Runs the pipeline when an object lands in a bucket, through S3's "Object Created" EventBridge event.
 * The bucket must send its events to EventBridge.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html
 */
export function s3ObjectCreated(options: {
  readonly bucket: string;
  readonly prefix?: string;
  readonly suffix?: string;
}): S3ObjectCreatedTrigger {
  return { kind: 's3ObjectCreated', ...options };
}

/**
 * Why an object at s3://bucket/key would start no run of the pipeline, or undefined when one of its
 * S3 triggers matches it.
 */
export function s3TriggerMismatch(
  pipeline: { readonly name: string; readonly triggers: readonly TriggerSpec[] },
  bucket: string,
  key: string,
): string | undefined {
  const own = pipeline.triggers.filter((t): t is S3ObjectCreatedTrigger => t.kind === 's3ObjectCreated');
  const matches = (t: S3ObjectCreatedTrigger) =>
    t.bucket === bucket && key.startsWith(t.prefix ?? '') && key.endsWith(t.suffix ?? '');
  if (own.some(matches)) return undefined;
  const patterns = own.map((t) => `s3://${t.bucket}/${t.prefix ?? ''}*${t.suffix ?? ''}`);
  return `s3://${bucket}/${key} matches no trigger of pipeline '${pipeline.name}'${
    patterns.length
      ? `; its S3 triggers are ${patterns.join(', ')}`
      : ', which has no S3 trigger; use --input instead'
  }`;
}
