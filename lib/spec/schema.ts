import * as z from 'zod';
import { DURATION_HINT, parseDuration } from './duration.ts';
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

const lambdaRun = z.strictObject({
  kind: z.literal('lambda'),
  entry: z.string().min(1),
  env: z.record(z.string(), z.string()).optional(),
  memoryMb: z.int().min(128).max(10240).optional(),
});

const task = z.strictObject({
  run: z.discriminatedUnion('kind', [lambdaRun], {
    error: "expected a task adapter such as lambda('./handlers/ingest.ts')",
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

const trigger = z.discriminatedUnion('kind', [scheduleTrigger, s3ObjectCreatedTrigger], {
  error: "expected a trigger such as schedule('cron(0 2 * * ? *)') or s3ObjectCreated({ bucket, prefix })",
});

export const pipelineSchema = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  triggers: z.array(trigger).optional(),
  defaults: z.strictObject({ retry: retry.optional(), timeout: duration.optional() }).optional(),
  tasks: z.record(z.string(), task),
  quarantine: z.strictObject({ prefix: z.string().min(1), bucket: z.string().optional() }).optional(),
  maxConcurrentRuns: z.int().min(1).max(1000).optional(),
  timeout: duration.optional(),
});

export type ParsedPipeline = z.infer<typeof pipelineSchema>;
