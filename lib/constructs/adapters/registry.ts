import type { ServiceKind, ServiceRun } from '../../spec/adapters/registry.ts';
import { ATHENA_QUERY_BINDING } from './athena-query.ts';
import { BATCH_JOB_BINDING } from './batch-job.ts';
import { ECS_TASK_BINDING } from './ecs-task.ts';
import { EMR_SERVERLESS_JOB_BINDING } from './emr-serverless-job.ts';
import { GLUE_JOB_BINDING } from './glue-job.ts';
import { HTTP_CALL_BINDING } from './http-call.ts';
import { NESTED_PIPELINE_BINDING } from './nested-pipeline.ts';
import type { ServiceBinding } from './service-binding.ts';

/** The construct part of every service adapter, by kind; `SERVICE_ADAPTERS` holds the spec part. */
export const SERVICE_BINDINGS: { [K in ServiceKind]: ServiceBinding<Extract<ServiceRun, { kind: K }>> } = {
  glueJob: GLUE_JOB_BINDING,
  athenaQuery: ATHENA_QUERY_BINDING,
  emrServerlessJob: EMR_SERVERLESS_JOB_BINDING,
  httpCall: HTTP_CALL_BINDING,
  ecsTask: ECS_TASK_BINDING,
  batchJob: BATCH_JOB_BINDING,
  pipeline: NESTED_PIPELINE_BINDING,
};

export function serviceBinding<R extends ServiceRun>(run: R): ServiceBinding<R> {
  return SERVICE_BINDINGS[run.kind as ServiceKind] as unknown as ServiceBinding<R>;
}
