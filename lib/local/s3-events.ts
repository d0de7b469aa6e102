import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from './event-rules.ts';
import type { AccessModel } from './iam/access-model.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './template.ts';

/** What S3 reports of an object it created. */
export interface CreatedObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly versionId?: string | undefined;
  /** The API call that created it: PutObject, CopyObject, CompleteMultipartUpload. */
  readonly reason: 'PutObject' | 'CopyObject' | 'CompleteMultipartUpload';
}

let sequence = 0;

/**
 * "Object Created" as S3 sends it to EventBridge for a bucket with EventBridge notifications on. The
 * key is as stored, not URL-encoded (unlike S3's own notification records).
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
 */
export function objectCreatedEvent(object: CreatedObject): EventBridgeEvent {
  // The sequencer orders events for one key: a hex string that grows with each event.
  const sequencer = `${Date.now().toString(16)}${(++sequence).toString(16).padStart(6, '0')}`.toUpperCase();
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: LOCAL_ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LOCAL_REGION,
    resources: [`arn:aws:s3:::${object.bucket}`],
    detail: {
      version: '0',
      bucket: { name: object.bucket },
      object: {
        key: object.key,
        size: object.size,
        etag: object.etag.replace(/"/g, ''),
        ...(object.versionId ? { 'version-id': object.versionId } : {}),
        sequencer,
      },
      'request-id': randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase(),
      requester: LOCAL_ACCOUNT,
      'source-ip-address': '127.0.0.1',
      reason: object.reason,
    },
  };
}

/**
 * Whether S3 sends this bucket's events to EventBridge. A bucket the template defines does so only
 * with EventBridge notifications on; one it does not define (imported by name) is taken to, since a
 * trigger on it needs them on and nothing here can look.
 */
export function sendsEventsToEventBridge(access: AccessModel, bucket: string): boolean {
  return access.buckets.get(bucket)?.eventBridge ?? true;
}
