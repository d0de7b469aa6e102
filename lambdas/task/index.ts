export { BUCKETS_VARIABLE } from './buckets.ts';
export type { SchemaTaskContext, TaskContext, TaskHandler, TaskResult, TaskSchemas } from './define-task.ts';
export { defineTask } from './define-task.ts';
export {
  DataError,
  GateOutputError,
  TaskEnvironmentError,
  TaskEventError,
  TaskOutputError,
  ThrownValueError,
} from './errors.ts';
export type {
  EventRunTrigger,
  ManualRunTrigger,
  PipelineRunTrigger,
  RunInfo,
  RunTrigger,
  S3RunTrigger,
  ScheduleRunTrigger,
  TaskEvent,
} from './event.ts';
export type { LogFields, TaskLogger } from './log.ts';
export { LOG_LEVEL_VARIABLE } from './log.ts';
export type { InvocationContext, RetryDelay } from './retryable-error.ts';
export { RetryableError } from './retryable-error.ts';
export type { StandardSchemaV1 } from './standard-schema.ts';
