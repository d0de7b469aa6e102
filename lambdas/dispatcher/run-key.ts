import { createHash, randomUUID } from 'node:crypto';
import type { Envelope } from './envelope.ts';

export type Trigger =
  | {
      type: 's3';
      bucket: string;
      key: string;
      versionId?: string;
      etag?: string;
      size?: number;
      copySource: string;
    }
  | { type: 'schedule'; time: string; expression?: string }
  | { type: 'manual'; input?: unknown };

/** Everything a run is started with. Deterministic for S3 and schedule triggers, so a replay is a duplicate. */
export interface RunRequest {
  readonly pipeline: string;
  /** Identifies the trigger: the same key never processes twice. */
  readonly runKey: string;
  /** The execution name: deterministic from the run key, at most 80 characters of [A-Za-z0-9-_]. */
  readonly runId: string;
  readonly logicalTime: string;
  readonly trigger: Trigger;
}

export function runRequest(envelope: Envelope, now: () => Date = () => new Date()): RunRequest {
  switch (envelope.kind) {
    case 's3': {
      const { bucket, object } = envelope.event.detail;
      const versionId = object['version-id'];
      const version = versionId ?? object.etag ?? object.sequencer ?? 'unversioned';
      const trigger: Trigger = {
        type: 's3',
        bucket: bucket.name,
        key: object.key,
        ...(versionId === undefined ? {} : { versionId }),
        ...(object.etag === undefined ? {} : { etag: object.etag }),
        ...(object.size === undefined ? {} : { size: object.size }),
        copySource: copySource(bucket.name, object.key, versionId),
      };
      const runKey = `s3:${bucket.name}/${object.key}@${version}`;
      return {
        pipeline: envelope.pipeline,
        runKey,
        runId: executionName('s3', object.key, runKey),
        logicalTime: envelope.event.time ?? now().toISOString(),
        trigger,
      };
    }
    case 'schedule': {
      const runKey = `schedule:${envelope.time}`;
      return {
        pipeline: envelope.pipeline,
        runKey,
        runId: executionName('schedule', envelope.time, runKey),
        logicalTime: envelope.time,
        trigger: {
          type: 'schedule',
          time: envelope.time,
          ...(envelope.expression ? { expression: envelope.expression } : {}),
        },
      };
    }
    case 'manual': {
      const runKey = `manual:${envelope.runKey ?? randomUUID()}`;
      return {
        pipeline: envelope.pipeline,
        runKey,
        runId: executionName('manual', envelope.runKey ?? '', runKey),
        logicalTime: now().toISOString(),
        trigger: { type: 'manual', ...(envelope.input === undefined ? {} : { input: envelope.input }) },
      };
    }
  }
}

/** `s3-orders-2026-11-01.csv-3f2a9c1b0d4e`: readable, unique by hash, within Step Functions' name rules. */
export function executionName(kind: string, readable: string, runKey: string): string {
  const hash = createHash('sha256').update(runKey).digest('hex').slice(0, 12);
  const slug = readable
    .replace(/^.*\//, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80 - kind.length - hash.length - 2);
  return slug ? `${kind}-${slug}-${hash}` : `${kind}-${hash}`;
}

/** The CopySource header S3 CopyObject takes: bucket/key, URL-encoded, with the exact version. */
function copySource(bucket: string, key: string, versionId: string | undefined): string {
  const encodedKey = key.split('/').map(encodeURIComponent).join('/');
  return `${bucket}/${encodedKey}${versionId === undefined ? '' : `?versionId=${encodeURIComponent(versionId)}`}`;
}
