import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { ResolvedTask } from '../../spec/types.ts';
import type { DataBucketRef } from '../data-access.ts';
import type { EcsTaskNetwork } from './ecs-task.ts';

/** What a service adapter's construct part is given for one task. */
export interface BindContext {
  /** The `Pipeline` construct: the scope for anything the adapter creates (a cluster, a log group). */
  readonly scope: Construct;
  readonly task: ResolvedTask;
  /** The real bucket behind a bucket name the spec uses. */
  readonly bucket: (name: string) => DataBucketRef;
  /**
   * `Pipeline`'s `ecs`: where its ECS tasks run.
   * @default - the stack's own cluster, made by the first ecsTask
   */
  readonly ecs?: EcsTaskNetwork | undefined;
}

/** What the state machine needs for one task run by a service. */
export interface Binding {
  /**
   * Values for the placeholders the adapter's state uses (`context.substitution(key)`), by key.
   * @default - none
   */
  readonly substitutions?: Readonly<Record<string, string>>;
  /** What the state machine's role must be allowed to call: least privilege, on the task's resources. */
  readonly statements: readonly iam.PolicyStatement[];
  /**
   * The wildcard resources of `statements` (a job run id, a result key unknown until run time), each
   * with why it can be no narrower: the state machine's role acknowledges each for cdk-nag's
   * AwsSolutions-IAM5, so any other wildcard still fails the synth.
   * @default - none
   */
  readonly wildcards?: readonly { readonly resource: string; readonly reason: string }[];
}

/**
 * The construct part of a service adapter (its spec part is in `lib/spec/adapters/`): it creates what
 * the task runs on, when the spec does not pass it in, and grants the state machine its calls.
 */
export interface ServiceBinding<R> {
  bind(run: R, context: BindContext): Binding;
}
