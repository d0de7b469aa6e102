export { type RunMetricName, STEPWISE_NAMESPACE } from '../names.ts';
export type { EcsTaskNetwork } from './adapters/ecs-task.ts';
export { AlertTopic } from './alert-topic.ts';
export {
  type BucketAccess,
  type DataBucketRef,
  grantBucketAccess,
  READ_BUCKET_ACTIONS,
  READ_OBJECT_ACTIONS,
  UnmappedBucketError,
  WRITE_OBJECT_ACTIONS,
} from './data-access.ts';
export { DataBucket, type DataBucketProps } from './data-bucket.ts';
export { DeadLetterQueue, type DeadLetterQueueProps } from './dead-letter-queue.ts';
export { HandlerFunction, type HandlerFunctionProps } from './handler-function.ts';
export { LedgerTable, type LedgerTableProps } from './ledger-table.ts';
export { Pipeline, type PipelineProps } from './pipeline.ts';
export type { PipelineMetrics } from './pipeline-metrics.ts';
export { PipelineStack, type PipelineStackProps } from './pipeline-stack.ts';
export { type PipelineRegistration, StepwisePlatform } from './platform.ts';
