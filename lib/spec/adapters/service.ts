import type { JsonObject, Retrier } from '../../compile/asl.ts';
import type { ResolvedRetry, ResolvedTask } from '../types.ts';

/** Fields every service adapter's run has besides its own. */
export interface ServiceRunFields {
  /**
   * A handler that `stepwise run` runs in the service's place: it receives the request the state
   * machine sends the service (the Task state's Parameters) and returns what the service's `.sync`
   * integration would (a Glue job run, an ECS task, ...). Throwing fails the attempt, which is retried
   * as the service's failure would be. The path is relative to the spec file.
   *
   * Without one, `stepwise run` refuses the pipeline before it starts, naming the task. It is never
   * deployed: `cdk deploy` ships the service call.
   * @default - none: the pipeline runs on AWS only
   */
  readonly local?: string;
}

/** What the compiler needs to know about the run, beyond the adapter's own fields. */
export interface AdapterStateContext {
  readonly task: ResolvedTask;
  /** The pipeline's name. */
  readonly pipeline: string;
  /**
   * A placeholder the `Pipeline` construct fills in through DefinitionSubstitutions with what the
   * adapter's construct part returns under `key` (an ARN, a cluster, a subnet list).
   */
  readonly substitution: (key: string) => string;
}

/** The adapter-specific part of a Task state. */
export interface AdapterState {
  /** The integration's ARN, such as `arn:${Partition}:states:::glue:startJobRun.sync`. */
  readonly Resource: string;
  /** The request sent to the service. */
  readonly Parameters: JsonObject;
  /** The service's small result (ids, states, counts, URIs), which the tasks downstream get as inputs. */
  readonly ResultSelector?: JsonObject;
}

/**
 * A task adapter beyond Lambda: how a task run by a service is checked, compiled and retried. Each
 * lives in its own file in `lib/spec/adapters/`, is listed in `SERVICE_ADAPTERS`, and has a construct
 * part in `lib/constructs/adapters/` that creates and grants what it uses.
 */
export interface ServiceAdapter<R extends { readonly kind: string }> {
  readonly kind: R['kind'];
  /** How the spec calls it, for messages: `glueJob('nightly-load')`. */
  readonly example: string;
  /** The integration, as Step Functions names it: `glue:startJobRun.sync`. */
  readonly integration: string;
  /** The adapter's own fields (all but `kind` and `local`), as a zod shape for the spec check. */
  readonly fields: Record<string, unknown>;
  /**
   * Rules between the adapter's fields that a field's own schema cannot say (one of two fields, a
   * valid combination), each naming the field it is reported at; the spec check reports them with
   * every other problem.
   * @default - none
   */
  problems?(run: R): readonly { readonly field: string; readonly message: string }[];
  /** The Task state's Resource, Parameters and ResultSelector. */
  state(run: R, context: AdapterStateContext): AdapterState;
  /**
   * Why the `.sync` integration fails a finished result (an ECS task whose essential container exited
   * non-zero), as Step Functions does, so that a stand-in returning such a result fails the task locally
   * too (States.TaskFailed).
   * @default - none: only a stand-in that throws fails the task
   */
  failure?(result: unknown): string | undefined;
  /**
   * Retries of the service's transient errors (throttling, capacity), before and apart from the
   * task's own policy.
   */
  readonly serviceRetry: Retrier;
  /** The task's retry policy when neither the task nor the pipeline's `defaults.retry` sets one. */
  readonly retry: ResolvedRetry;
  /** The task's timeout when the task sets none: services run longer than Lambda's 15 minutes. */
  readonly timeoutMs: number;
  /**
   * The calls the integration makes as the state machine's role, for the local IAM check, from the
   * request the state sends. ARNs use `partition`, `region` and `account`.
   */
  calls(
    request: JsonObject,
    env: ArnEnvironment,
  ): readonly { action: string; resource: string; context?: Readonly<Record<string, string>> }[];
  /**
   * The data buckets the run names (an output location, say), by the field that names each: every one
   * must be mapped by `Pipeline`'s `buckets`, as a Lambda task's `reads` and `writes` are.
   * @default - none
   */
  buckets?(run: R): readonly { readonly name: string; readonly field: string }[];
  /**
   * Settles the checked run against the spec file: reads what the run names there (a query's `.sql`
   * file) into the run that is compiled. Problems are reported by the run's field, like `file`.
   * @default - the run as written
   */
  resolve?(run: R, specFile: string | undefined): ResolvedRun<R>;
}

/** A run settled against its spec file, or what stops it, by field. */
export type ResolvedRun<R> =
  | { readonly run: R }
  | { readonly issues: readonly { readonly field: string; readonly message: string }[] };

export interface ArnEnvironment {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** Partition, region and account placeholders an adapter's ARNs use; the construct fills them in. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
export const PARTITION = '${Partition}';

/** The run's identity, which every adapter hands the service so the work can be traced to its run. */
export const RUN_CONTEXT = {
  runId: '$.run.id',
  pipeline: '$.run.pipeline',
  logicalTime: '$.run.logicalTime',
} as const;
