import type { ServiceKind, ServiceRun } from '../../spec/adapters/registry.ts';
import { BATCH_JOB_BINDING } from './batch-job.ts';
import { ECS_TASK_BINDING } from './ecs-task.ts';
import { GLUE_JOB_BINDING } from './glue-job.ts';
import { NESTED_PIPELINE_BINDING } from './nested-pipeline.ts';
import type { ServiceBinding } from './service-binding.ts';

/** The construct part of every service adapter, by kind; `SERVICE_ADAPTERS` holds the spec part. */
export const SERVICE_BINDINGS: { [K in ServiceKind]: ServiceBinding<Extract<ServiceRun, { kind: K }>> } = {
  glueJob: GLUE_JOB_BINDING,
  ecsTask: ECS_TASK_BINDING,
  batchJob: BATCH_JOB_BINDING,
  pipeline: NESTED_PIPELINE_BINDING,
};

export function serviceBinding<R extends ServiceRun>(run: R): ServiceBinding<R> {
  return SERVICE_BINDINGS[run.kind as ServiceKind] as unknown as ServiceBinding<R>;
}
