import type * as events from 'aws-cdk-lib/aws-events';
import type { ServiceRun } from './adapters/registry.ts';
import type { DurationText } from './duration.ts';

/**
 * How a task's work is done: a Lambda function for light work, or a service (Glue, ECS, Athena, ...)
 * for heavy work. Each adapter kind lives in `lib/spec/adapters/`.
 */
export type TaskRun = LambdaRun | ServiceRun;

export interface LambdaRun {
  readonly kind: 'lambda';
  /** Handler file, relative to the spec file until `definePipeline` resolves it to an absolute path. */
  readonly entry: string;
  /** Environment variables the function is deployed with. */
  readonly env?: Readonly<Record<string, string>>;
  /** @default 512 */
  readonly memoryMb?: number;
  /** Data buckets the task reads, by the name `Pipeline`'s `buckets` maps to a real bucket. */
  readonly reads?: readonly string[];
  /** Data buckets the task writes, by the name `Pipeline`'s `buckets` maps to a real bucket. */
  readonly writes?: readonly string[];
}

/** What starts a run. Each trigger kind lives in `lib/spec/triggers/`. */
export type TriggerSpec = ScheduleTrigger | S3ObjectCreatedTrigger | AfterPipelineTrigger | OnEventTrigger;

export interface ScheduleTrigger {
  readonly kind: 'schedule';
  /** `cron(...)`, `rate(...)` or `at(...)`, as EventBridge Scheduler takes it. */
  readonly expression: string;
  /** IANA time zone the expression is read in. @default 'UTC' */
  readonly timezone: string;
}

export interface S3ObjectCreatedTrigger {
  readonly kind: 's3ObjectCreated';
  readonly bucket: string;
  readonly prefix?: string;
  readonly suffix?: string;
}

export interface AfterPipelineTrigger {
  readonly kind: 'afterPipeline';
  /**
   * The pipelines whose success starts a run. With more than one, the run starts once every one of
   * them has succeeded for the same logical time (a join).
   */
  readonly upstreams: readonly string[];
}

/** An EventBridge event pattern, in the shape aws-cdk-lib's `events.EventPattern` takes. */
export type EventPatternSpec = events.EventPattern;

export interface OnEventTrigger {
  readonly kind: 'onEvent';
  /** Events on the account's default bus that start a run. */
  readonly pattern: EventPatternSpec;
}

export type JitterStrategy = 'full' | 'none';

export interface RetrySpec {
  /** Total tries, the first one included. `1` means no retry. */
  readonly attempts?: number;
  /** Wait before the first retry. */
  readonly interval?: DurationText;
  /** Multiplier applied to the wait after each retry. */
  readonly backoff?: number;
  /** Upper bound on any one wait. */
  readonly maxDelay?: DurationText;
  readonly jitter?: JitterStrategy;
}

export interface TaskRetrySpec extends RetrySpec {
  /** On failure, re-run the chain from this upstream task through this one, as a group. */
  readonly from?: string;
}

export interface TaskSpec {
  readonly run: TaskRun;
  readonly after?: readonly string[];
  /** The task returns `{ pass, reason? }`; `pass: false` quarantines the run. */
  readonly gate?: boolean;
  readonly retry?: TaskRetrySpec;
  /** A non-critical task's failure is recorded as a warning and the run carries on. @default true */
  readonly critical?: boolean;
  readonly timeout?: DurationText;
  /** Static values handed to the handler as `ctx.params`. */
  readonly params?: Readonly<Record<string, unknown>>;
}

export interface QuarantineSpec {
  /** Key prefix the bad object is moved under. */
  readonly prefix: string;
  /** Bucket to move it to. @default the bucket it came from */
  readonly bucket?: string;
}

export interface PipelineSpec {
  readonly name: string;
  readonly description?: string;
  readonly triggers?: readonly TriggerSpec[];
  readonly defaults?: { readonly retry?: RetrySpec; readonly timeout?: DurationText };
  readonly tasks: Readonly<Record<string, TaskSpec>>;
  readonly quarantine?: QuarantineSpec;
  /** @default 10 */
  readonly maxConcurrentRuns?: number;
  /** Limit on a whole run. @default '2h' */
  readonly timeout?: DurationText;
  /**
   * How long a run may take before an alarm goes off; shorter than `timeout`, which stops the run.
   * @default - no duration alarm
   */
  readonly sla?: DurationText;
  /**
   * How long the ledger keeps a run and its task attempts, counted from the run's start, in whole days
   * (rounded up). DynamoDB's time to live then deletes them.
   * @default '365d'
   */
  readonly retention?: DurationText;
}

/** A retry policy with every field settled, durations in milliseconds. */
export interface ResolvedRetry {
  readonly attempts: number;
  readonly intervalMs: number;
  readonly backoff: number;
  readonly maxDelayMs: number | undefined;
  readonly jitter: JitterStrategy;
}

export interface ResolvedTask {
  readonly id: string;
  readonly run: TaskRun;
  readonly after: readonly string[];
  readonly gate: boolean;
  readonly critical: boolean;
  readonly retry: ResolvedRetry;
  readonly retryFrom: string | undefined;
  readonly timeoutMs: number;
  readonly params: Readonly<Record<string, unknown>>;
}

/** A checked pipeline: what `definePipeline` returns and what the compiler takes. */
export interface PipelineDefinition {
  readonly name: string;
  readonly description: string | undefined;
  /** Absolute path of the spec module, when known. Handler entries are resolved against it. */
  readonly specFile: string | undefined;
  readonly triggers: readonly TriggerSpec[];
  /** Tasks in the order the spec lists them. */
  readonly tasks: readonly ResolvedTask[];
  readonly quarantine: QuarantineSpec;
  readonly maxConcurrentRuns: number;
  readonly timeoutMs: number;
  /** The duration alarm's threshold, when the spec sets `sla`. */
  readonly slaMs: number | undefined;
  /** Days the ledger keeps a run's rows, at least 1. */
  readonly retentionDays: number;
}
