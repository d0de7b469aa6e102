import { ATHENA_QUERY, type AthenaQueryRun } from './athena-query.ts';
import { BATCH_JOB, type BatchJobRun } from './batch-job.ts';
import { ECS_TASK, type EcsTaskRun } from './ecs-task.ts';
import { EMR_SERVERLESS_JOB, type EmrServerlessJobRun } from './emr-serverless-job.ts';
import { GLUE_JOB, type GlueJobRun } from './glue-job.ts';
import { HTTP_CALL, type HttpCallRun } from './http-call.ts';
import { NESTED_PIPELINE, type NestedPipelineRun } from './nested-pipeline.ts';
import type { ServiceAdapter } from './service.ts';

/**
 * Every task adapter beyond Lambda, by kind: the one place an adapter is registered. The spec check,
 * the compiler, the constructs and the local engine all look an adapter up here.
 */
export const SERVICE_ADAPTERS = {
  glueJob: GLUE_JOB,
  athenaQuery: ATHENA_QUERY,
  emrServerlessJob: EMR_SERVERLESS_JOB,
  httpCall: HTTP_CALL,
  ecsTask: ECS_TASK,
  batchJob: BATCH_JOB,
  pipeline: NESTED_PIPELINE,
} as const satisfies { [K in ServiceRun['kind']]: ServiceAdapter<Extract<ServiceRun, { kind: K }>> };

/** A task run by a service rather than a Lambda function. */
export type ServiceRun =
  | GlueJobRun
  | EcsTaskRun
  | BatchJobRun
  | NestedPipelineRun
  | AthenaQueryRun
  | EmrServerlessJobRun
  | HttpCallRun;

export type ServiceKind = ServiceRun['kind'];

export function serviceAdapter<R extends ServiceRun>(run: R): ServiceAdapter<R> {
  return SERVICE_ADAPTERS[run.kind as ServiceKind] as unknown as ServiceAdapter<R>;
}

/** Whether a task's run is a service adapter's (not Lambda's). */
export function isServiceRun(run: { readonly kind: string }): run is ServiceRun {
  return run.kind in SERVICE_ADAPTERS;
}

/** The adapter whose integration a Task state's Resource calls, if any. */
export function adapterForResource(resource: string): ServiceAdapter<ServiceRun> | undefined {
  const integration = resource.replace(/^arn:[^:]+:states:::/, '');
  return Object.values(SERVICE_ADAPTERS).find((a) => a.integration === integration) as
    | ServiceAdapter<ServiceRun>
    | undefined;
}
