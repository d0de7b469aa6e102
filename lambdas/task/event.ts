import * as z from 'zod/mini';
import { TaskEventError } from './errors.ts';

/** A new object in S3 started the run. */
export interface S3RunTrigger {
  readonly type: 's3';
  readonly bucket: string;
  readonly key: string;
  /** Present when the bucket is versioned. */
  readonly versionId?: string;
  readonly etag?: string;
  /** The object's size in bytes, when the event carried it. */
  readonly size?: number;
}

/** A schedule slot started the run. */
export interface ScheduleRunTrigger {
  readonly type: 'schedule';
  /** The slot's scheduled time, ISO 8601. */
  readonly time: string;
  /** The schedule expression, such as `cron(0 2 * * ? *)`. */
  readonly expression?: string;
}

/**
 * Upstream runs that succeeded started this run (`afterPipeline`). One upstream, or, for a join, one
 * run of each upstream, all for the same logical time.
 */
export interface PipelineRunTrigger {
  readonly type: 'pipeline';
  readonly upstreams: readonly { readonly pipeline: string; readonly runId: string }[];
  /** The upstream runs' logical time, ISO 8601: this run's logical time too. */
  readonly logicalTime: string;
}

/** An event matching the pipeline's `onEvent` pattern started the run. */
export interface EventRunTrigger {
  readonly type: 'event';
  readonly source: string;
  readonly detailType: string;
  /** The EventBridge event id: the run key, so a redelivered event never runs twice. */
  readonly id: string;
  readonly detail: unknown;
}

/** Someone started the run by hand (`stepwise run`, a backfill, the console). */
export interface ManualRunTrigger {
  readonly type: 'manual';
  /** Whatever the caller passed, such as `stepwise run --input JSON`. */
  readonly input?: unknown;
}

/** What started a run. Narrow it on `type`. */
export type RunTrigger =
  | S3RunTrigger
  | ScheduleRunTrigger
  | PipelineRunTrigger
  | EventRunTrigger
  | ManualRunTrigger;

/** The run a task attempt belongs to. */
export interface RunInfo {
  readonly id: string;
  /** The pipeline's name. */
  readonly pipeline: string;
  readonly trigger: RunTrigger;
  /**
   * The time the run stands for, ISO 8601: the schedule slot, the backfill date, or when the trigger
   * fired. Partition data by this, not by the wall clock, so reruns and backfills write the same place.
   */
  readonly logicalTime: string;
}

/**
 * The event each task Lambda receives. The compiled state machine builds it with `Parameters`.
 */
export interface TaskEvent {
  readonly run: RunInfo;
  /** The task's id in the spec. */
  readonly task: string;
  /** True when the task is a gate, whose output must be `{ pass: boolean, reason?: string }`. */
  readonly gate: boolean;
  /** Outputs of the direct upstream tasks, by task id. */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** The task's static `params` from the spec; `{}` when it has none. */
  readonly params: Readonly<Record<string, unknown>>;
  /** `$$.State.RetryCount`: 0 on the first try. */
  readonly retryCount: number;
}

const nonEmptyString = () => z.string().check(z.minLength(1));
const isoDateTime = () => z.iso.datetime({ offset: true });

const triggerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('s3'),
    bucket: nonEmptyString(),
    key: nonEmptyString(),
    versionId: z.exactOptional(z.string()),
    etag: z.exactOptional(z.string()),
    size: z.exactOptional(z.int().check(z.nonnegative())),
  }),
  z.object({ type: z.literal('schedule'), time: isoDateTime(), expression: z.exactOptional(z.string()) }),
  z.object({
    type: z.literal('pipeline'),
    upstreams: z
      .array(z.object({ pipeline: nonEmptyString(), runId: nonEmptyString() }))
      .check(z.minLength(1)),
    logicalTime: isoDateTime(),
  }),
  z.object({
    type: z.literal('event'),
    source: nonEmptyString(),
    detailType: nonEmptyString(),
    id: nonEmptyString(),
    detail: z.unknown(),
  }),
  z.object({ type: z.literal('manual'), input: z.exactOptional(z.unknown()) }),
]);

// Annotated with the interface so that the schema and the documented types cannot drift apart.
const taskEventSchema: z.ZodMiniType<TaskEvent> = z.object({
  run: z.object({
    id: nonEmptyString(),
    pipeline: nonEmptyString(),
    trigger: triggerSchema,
    logicalTime: isoDateTime(),
  }),
  task: nonEmptyString(),
  gate: z.boolean(),
  inputs: z.record(z.string(), z.unknown()),
  params: z.record(z.string(), z.unknown()),
  retryCount: z.int().check(z.nonnegative()),
});

/**
 * Checks an incoming Lambda event against the task event contract.
 *
 * @throws TaskEventError listing every problem with its path.
 */
export function parseTaskEvent(event: unknown): TaskEvent {
  const result = taskEventSchema.safeParse(event, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues;
  const heading =
    isRecord(event) && typeof event.task === 'string'
      ? `malformed event for task '${event.task}'`
      : 'malformed task event';
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  throw new TaskEventError(
    [
      `${heading} (${count}):`,
      ...issues.map((issue) => `  ${formatPath(issue.path)}: ${describeIssue(issue)}`),
      'The compiled state machine builds this event: deploy the handler and the state machine from the same stepwise version.',
    ].join('\n'),
  );
}

// zod/mini ships no messages (every issue says "Invalid input"), so the wording lives here.
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `missing, expected ${article(issue.expected)}`;
      return `expected ${article(issue.expected)}, received ${preview(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      return `must be at least ${issue.minimum}, received ${preview(issue.input)}`;
    case 'invalid_format':
      return `expected an ISO 8601 date-time such as "2026-11-01T02:00:00Z", received ${preview(issue.input)}`;
    case 'invalid_union': {
      // zod reports the discriminator's allowed values as `options`, which its issue type omits.
      const options = 'options' in issue && Array.isArray(issue.options) ? issue.options : undefined;
      if (issue.discriminator === undefined || options === undefined) return issue.message;
      const expected = options.map((option) => JSON.stringify(option)).join(', ');
      const value = isRecord(issue.input) ? issue.input[issue.discriminator] : undefined;
      if (value === undefined) return `missing, expected one of ${expected}`;
      return `expected one of ${expected}, received ${preview(value)}`;
    }
    default:
      return issue.message;
  }
}

const articles: Record<string, string> = {
  int: 'an integer',
  object: 'an object',
  record: 'an object',
  array: 'an array',
};

function article(expected: string): string {
  return articles[expected] ?? `a ${expected}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'event';
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const name = String(segment);
      if (/^[A-Za-z_$][\w$]*$/.test(name)) return index === 0 ? name : `.${name}`;
      return `[${JSON.stringify(name)}]`;
    })
    .join('');
}

/** A short rendering of a received value for error messages. */
export function preview(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json === undefined) return Object.prototype.toString.call(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
