import * as z from 'zod/mini';

/**
 * What reaches the dispatcher. Each EventBridge rule or schedule wraps its event with the pipeline it
 * is for; the CLI sends the same shapes for manual runs and backfills.
 */

/** The spec's name rule, checked again here: the name becomes part of ledger keys and a variable name. */
const pipelineName = z
  .string()
  .check(z.regex(/^[a-z][a-z0-9-]{0,39}$/, 'a pipeline name is [a-z][a-z0-9-]*, at most 40 characters'));

/** Times that become run keys must be unambiguous: ISO 8601 with `Z` or an offset, never local time. */
const isoTime = z.iso.datetime({ offset: true });

const s3Envelope = z.object({
  kind: z.literal('s3'),
  pipeline: pipelineName,
  event: z.object({
    time: z.optional(isoTime),
    detail: z.object({
      bucket: z.object({ name: z.string().check(z.minLength(1)) }),
      object: z.object({
        key: z.string().check(z.minLength(1)),
        size: z.optional(z.number()),
        etag: z.optional(z.string()),
        'version-id': z.optional(z.string()),
        sequencer: z.optional(z.string()),
      }),
    }),
  }),
});

const scheduleEnvelope = z.object({
  kind: z.literal('schedule'),
  pipeline: pipelineName,
  /** The slot's scheduled time, such as EventBridge Scheduler's `<aws.scheduler.scheduled-time>`. */
  time: isoTime,
  expression: z.optional(z.string()),
});

const manualEnvelope = z.object({
  kind: z.literal('manual'),
  pipeline: pipelineName,
  input: z.optional(z.unknown()),
  /** A caller-chosen idempotency key; without one every manual run is new. */
  runKey: z.optional(z.string().check(z.minLength(1))),
});

/** The detail of the recorder's "Run Finished" event; `status` is the ledger status. */
const runFinishedDetail = z.object({
  pipeline: pipelineName,
  runId: z.string().check(z.minLength(1)),
  status: z.string(),
  logicalTime: z.optional(z.string()),
  runKey: z.optional(z.string()),
  startedAt: z.optional(z.string()),
  endedAt: z.optional(z.string()),
  executionArn: z.optional(z.string()),
});

/** An upstream's "Run Finished" event, for an `afterPipeline` trigger: its logical time is the join key. */
const pipelineEnvelope = z.object({
  kind: z.literal('pipeline'),
  pipeline: pipelineName,
  /** Every pipeline this one waits for; more than one makes a join on the upstreams' logical time. */
  upstreams: z.array(pipelineName).check(z.minLength(1)),
  event: z.object({
    id: z.optional(z.string()),
    detail: z.extend(runFinishedDetail, { logicalTime: isoTime }),
  }),
});

/** Any EventBridge event matched by an `onEvent` pattern. Its id is the run key. */
const eventEnvelope = z.object({
  kind: z.literal('event'),
  pipeline: pipelineName,
  event: z.object({
    id: z.string().check(z.minLength(1)),
    source: z.string(),
    'detail-type': z.string(),
    time: z.optional(isoTime),
    detail: z.optional(z.unknown()),
  }),
});

/** A run of some pipeline finished: free its concurrency slot and start what is queued. */
const finishedEnvelope = z.object({
  kind: z.literal('finished'),
  event: z.object({ id: z.optional(z.string()), detail: runFinishedDetail }),
});

export const envelopeSchema = z.discriminatedUnion('kind', [
  s3Envelope,
  scheduleEnvelope,
  manualEnvelope,
  pipelineEnvelope,
  eventEnvelope,
  finishedEnvelope,
]);
export type Envelope = z.infer<typeof envelopeSchema>;
/** An envelope that asks for a run (everything but `finished`). */
export type TriggerEnvelope = Exclude<Envelope, { kind: 'finished' }>;
