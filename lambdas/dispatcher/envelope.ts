import * as z from 'zod/mini';

/**
 * What reaches the dispatcher. Each EventBridge rule or schedule wraps its event with the pipeline it
 * is for; the CLI sends the same shapes for manual runs and backfills.
 */
const s3Envelope = z.object({
  kind: z.literal('s3'),
  pipeline: z.string(),
  event: z.object({
    time: z.optional(z.string()),
    detail: z.object({
      bucket: z.object({ name: z.string() }),
      object: z.object({
        key: z.string(),
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
  pipeline: z.string(),
  time: z.string(),
  expression: z.optional(z.string()),
});

const manualEnvelope = z.object({
  kind: z.literal('manual'),
  pipeline: z.string(),
  input: z.optional(z.unknown()),
  /** A caller-chosen idempotency key; without one every manual run is new. */
  runKey: z.optional(z.string()),
});

export const envelopeSchema = z.discriminatedUnion('kind', [s3Envelope, scheduleEnvelope, manualEnvelope]);
export type Envelope = z.infer<typeof envelopeSchema>;
