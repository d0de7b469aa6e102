import type { S3ObjectCreatedTrigger } from '../types.ts';

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
