import type { ScheduleTrigger } from '../types.ts';

export interface ScheduleOptions {
  /** IANA time zone the expression is read in, such as 'Europe/Berlin'. @default 'UTC' */
  readonly timezone?: string;
}

/**
 * Runs the pipeline on an EventBridge Scheduler schedule: `cron(0 2 * * ? *)`, `rate(1 hour)` or
 * `at(2026-12-01T00:00:00)`. Each run's `logicalTime` is its schedule slot.
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 */
export function schedule(expression: string, options: ScheduleOptions = {}): ScheduleTrigger {
  return { kind: 'schedule', expression, timezone: options.timezone ?? 'UTC' };
}
