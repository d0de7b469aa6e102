import * as z from 'zod';
import { SERVICE_ADAPTERS } from './adapters/registry.ts';
import { DURATION_HINT, parseDuration } from './duration.ts';
import { checkEventPattern } from './event-pattern.ts';
import { checkScheduleExpression, checkTimezone } from './schedule-expression.ts';

export const PIPELINE_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
export const PIPELINE_NAME_MAX = 40;
export const TASK_ID_PATTERN = /^[a-z][a-z0-9_-]*$/;
/** State names are capped at 80 characters; the compiler adds suffixes such as ' rejected?' to task ids. */
export const TASK_ID_MAX = 64;

const duration = z.string().check((ctx) => {
  if (parseDuration(ctx.value) === undefined) {
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      message: `'${ctx.value}' is not a duration; ${DURATION_HINT}`,
    });
  }
});

const retryFields = {
  attempts: z.int().min(1).max(100).optional(),
  interval: duration.optional(),
  backoff: z.number().min(1).max(10).optional(),
  maxDelay: duration.optional(),
  jitter: z.enum(['full', 'none']).optional(),
};

const retry = z.strictObject(retryFields);
const taskRetry = z.strictObject({ ...retryFields, from: z.string().optional() });

/** A data bucket's name as the spec uses it; locally it is the bucket's name too. */
const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
  error: 'is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)',
});

const lambdaRun = z.strictObject({
  kind: z.literal('lambda'),
  entry: z.string().min(1),
  env: z.record(z.string(), z.string()).optional(),
  memoryMb: z.int().min(128).max(10240).optional(),
  reads: z.array(bucketName).optional(),
  writes: z.array(bucketName).optional(),
});

/** Each service adapter's run: its own fields, and the local stand-in every one may name. */
const serviceRuns = Object.values(SERVICE_ADAPTERS).map((adapter) =>
  z
    .strictObject({
      kind: z.literal(adapter.kind),
      local: z.string().min(1).optional(),
      ...(adapter.fields as Record<string, z.ZodType>),
    })
    .check((ctx) => {
      const run = ctx.value as Record<string, unknown>;
      for (const { field, message } of adapter.problems?.(run as never) ?? [])
        ctx.issues.push({ code: 'custom', input: run[field], path: [field], message });
    }),
);

const task = z.strictObject({
  run: z.discriminatedUnion('kind', [lambdaRun, ...serviceRuns], {
    error: `expected a task adapter such as lambda('./handlers/ingest.ts') or ${Object.values(
      SERVICE_ADAPTERS,
    )
      .map((a) => a.example)
      .join(', ')}`,
  }),
  after: z.array(z.string()).optional(),
  gate: z.boolean().optional(),
  retry: taskRetry.optional(),
  critical: z.boolean().optional(),
  timeout: duration.optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});

const scheduleTrigger = z
  .strictObject({ kind: z.literal('schedule'), expression: z.string(), timezone: z.string() })
  .check((ctx) => {
    const expressionProblem = checkScheduleExpression(ctx.value.expression);
    if (expressionProblem) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value.expression,
        path: ['expression'],
        message: expressionProblem,
      });
    }
    const timezoneProblem = checkTimezone(ctx.value.timezone);
    if (timezoneProblem) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value.timezone,
        path: ['timezone'],
        message: timezoneProblem,
      });
    }
  });

const s3ObjectCreatedTrigger = z.strictObject({
  kind: z.literal('s3ObjectCreated'),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
    error: 'is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)',
  }),
  prefix: z.string().optional(),
  suffix: z.string().optional(),
});

const afterPipelineTrigger = z
  .strictObject({ kind: z.literal('afterPipeline'), upstreams: z.array(z.string()) })
  .check((ctx) => {
    const { upstreams } = ctx.value;
    if (upstreams.length === 0) {
      ctx.issues.push({
        code: 'custom',
        input: upstreams,
        path: ['upstreams'],
        message: "names no pipeline; write afterPipeline('orders') or afterPipeline(['orders', 'sales'])",
      });
    }
    const seen = new Set<string>();
    for (const [index, upstream] of upstreams.entries()) {
      if (!PIPELINE_NAME_PATTERN.test(upstream) || upstream.length > PIPELINE_NAME_MAX) {
        ctx.issues.push({
          code: 'custom',
          input: upstream,
          path: ['upstreams', index],
          message: `'${upstream}' is not a valid pipeline name; name the upstream pipeline as its spec does (lowercase letters, digits and hyphens, starting with a letter, at most ${PIPELINE_NAME_MAX} characters)`,
        });
      } else if (seen.has(upstream)) {
        ctx.issues.push({
          code: 'custom',
          input: upstream,
          path: ['upstreams', index],
          message: `'${upstream}' is listed twice; list each upstream pipeline once`,
        });
      }
      seen.add(upstream);
    }
  });

/** Each top-level field of an event pattern is a list of values or filters, as EventBridge takes it. */
const patternValues = z.array(z.unknown()).optional();

/** aws-cdk-lib's `events.EventPattern`: camelCase `detailType`, rendered as `detail-type`. */
export const EVENT_PATTERN_FIELDS = [
  'version',
  'id',
  'detailType',
  'source',
  'account',
  'time',
  'region',
  'resources',
] as const;

const onEventTrigger = z.strictObject({
  kind: z.literal('onEvent'),
  pattern: z
    .strictObject({
      ...Object.fromEntries(EVENT_PATTERN_FIELDS.map((field) => [field, patternValues])),
      detail: z.record(z.string(), z.unknown()).optional(),
    })
    .check((ctx) => {
      for (const problem of checkEventPattern(ctx.value)) {
        ctx.issues.push({
          code: 'custom',
          input: ctx.value,
          path: [...problem.path],
          message: problem.message,
        });
      }
    }),
});

const trigger = z.discriminatedUnion(
  'kind',
  [scheduleTrigger, s3ObjectCreatedTrigger, afterPipelineTrigger, onEventTrigger],
  {
    error:
      "expected a trigger such as schedule('cron(0 2 * * ? *)'), s3ObjectCreated({ bucket, prefix }), afterPipeline('orders') or onEvent({ source: ['my.app'] })",
  },
);

export const pipelineSchema = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  triggers: z.array(trigger).optional(),
  defaults: z.strictObject({ retry: retry.optional(), timeout: duration.optional() }).optional(),
  tasks: z.record(z.string(), task),
  quarantine: z
    .strictObject({
      prefix: z
        .string()
        .min(1, { error: "is empty; give the key prefix bad objects move under, like 'quarantine/'" }),
      bucket: bucketName.optional(),
    })
    .optional(),
  maxConcurrentRuns: z.int().min(1).max(1000).optional(),
  timeout: duration.optional(),
  sla: duration.optional(),
  retention: duration.optional(),
});

export type ParsedPipeline = z.infer<typeof pipelineSchema>;
