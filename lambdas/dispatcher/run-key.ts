import { createHash, randomUUID } from 'node:crypto';
import type { TriggerEnvelope } from './envelope.ts';

/** One upstream run that an `afterPipeline` run follows. */
export interface UpstreamRun {
  readonly pipeline: string;
  readonly runId: string;
}

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
  | { type: 'manual'; input?: unknown }
  | { type: 'pipeline'; upstreams: UpstreamRun[]; logicalTime: string }
  | { type: 'event'; source: string; detailType: string; id: string; detail: unknown };

/** Everything a run is started with. Deterministic for every trigger but a manual one without a key, so a replay is a duplicate. */
export interface RunRequest {
  readonly pipeline: string;
  /** Identifies the trigger: the same key never processes twice. */
  readonly runKey: string;
  /** The execution name: deterministic from the run key, at most 80 characters of [A-Za-z0-9-_]. */
  readonly runId: string;
  readonly logicalTime: string;
  readonly trigger: Trigger;
}

/**
 * The run a trigger asks for. A `pipeline` envelope is read as a single upstream here, keyed by the
 * upstream's run id; a join (more than one upstream) goes through {@link joinRequest} once every
 * upstream has arrived.
 */
export function runRequest(envelope: TriggerEnvelope, now: () => Date = () => new Date()): RunRequest {
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
        logicalTime:
          envelope.event.time === undefined ? now().toISOString() : isoInstant(envelope.event.time),
        trigger,
      };
    }
    case 'schedule': {
      // One slot is one key however it is written: 02:00:00Z, 02:00:00.000Z and 03:00:00+01:00 are equal.
      const time = isoInstant(envelope.time);
      const runKey = `schedule:${time}`;
      return {
        pipeline: envelope.pipeline,
        runKey,
        runId: executionName('schedule', time, runKey),
        logicalTime: time,
        trigger: {
          type: 'schedule',
          time,
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
    case 'pipeline': {
      const { pipeline, runId, logicalTime } = envelope.event.detail;
      const runKey = `after:${pipeline}/${runId}`;
      const time = isoInstant(logicalTime);
      return {
        pipeline: envelope.pipeline,
        runKey,
        runId: executionName('after', pipeline, runKey),
        logicalTime: time,
        trigger: { type: 'pipeline', upstreams: [{ pipeline, runId }], logicalTime: time },
      };
    }
    case 'event': {
      const { event } = envelope;
      const runKey = `event:${event.id}`;
      return {
        pipeline: envelope.pipeline,
        runKey,
        runId: executionName('event', event['detail-type'], runKey),
        logicalTime: event.time === undefined ? now().toISOString() : isoInstant(event.time),
        trigger: {
          type: 'event',
          source: event.source,
          detailType: event['detail-type'],
          id: event.id,
          detail: event.detail ?? {},
        },
      };
    }
  }
}

/**
 * The run of a join once all its upstreams have finished for one logical time. Keyed by the upstreams
 * and the logical time, not by their run ids: a rerun of one upstream for the same time is a duplicate.
 */
export function joinRequest(
  pipeline: string,
  upstreams: readonly UpstreamRun[],
  logicalTime: string,
): RunRequest {
  const sorted = [...upstreams].sort((a, b) =>
    a.pipeline < b.pipeline ? -1 : a.pipeline > b.pipeline ? 1 : 0,
  );
  const names = sorted.map((u) => u.pipeline);
  const time = isoInstant(logicalTime);
  const runKey = joinRunKey(names, time);
  return {
    pipeline,
    runKey,
    runId: executionName('after', `${names.join('-')}-${time}`, runKey),
    logicalTime: time,
    trigger: { type: 'pipeline', upstreams: sorted, logicalTime: time },
  };
}

/** `after:a,b@2026-11-01T02:00:00.000Z`: the upstreams sorted, so their order in the spec does not matter. */
export function joinRunKey(upstreams: readonly string[], logicalTime: string): string {
  return `after:${[...upstreams].sort().join(',')}@${isoInstant(logicalTime)}`;
}

/** The canonical form of an ISO 8601 instant (validated by the envelope schema before it gets here). */
export function isoInstant(time: string): string {
  return new Date(time).toISOString();
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
