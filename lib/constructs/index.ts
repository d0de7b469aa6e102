export { AlertTopic } from './alert-topic.ts';
export { DataBucket, type DataBucketProps } from './data-bucket.ts';
export { HandlerFunction, type HandlerFunctionProps } from './handler-function.ts';
export { LedgerTable, type LedgerTableProps } from './ledger-table.ts';
export { type BucketRef, Pipeline, type PipelineProps } from './pipeline.ts';
export { PipelineStack, type PipelineStackProps } from './pipeline-stack.ts';
export { StepwisePlatform } from './platform.ts';
