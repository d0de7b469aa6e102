export { BUCKETS_VARIABLE } from './buckets.ts';
export type { TaskContext, TaskHandler, TaskResult } from './define-task.ts';
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
