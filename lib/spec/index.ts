export { type LambdaOptions, lambda } from './adapters/lambda.ts';
export { type DefinePipelineOptions, definePipeline } from './define-pipeline.ts';
export { type DurationText, parseDuration } from './duration.ts';
export { SpecError, type SpecIssue } from './errors.ts';
export { afterPipeline } from './triggers/after-pipeline.ts';
export { onEvent } from './triggers/on-event.ts';
export { s3ObjectCreated } from './triggers/s3-object-created.ts';
export { type ScheduleOptions, schedule } from './triggers/schedule.ts';
export type * from './types.ts';
