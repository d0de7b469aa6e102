import type { EventPatternSpec, OnEventTrigger } from '../types.ts';

/**
 * Runs the pipeline on events of the account's default EventBridge bus that match a pattern, written
 * as for aws-cdk-lib's `events.Rule`: `{ source: ['my.app'], detailType: ['Export Ready'],
 * detail: { table: ['orders'] } }`. Each event triggers at most one run (its run key is the event id).
 * To run after another stepwise pipeline, use `afterPipeline` instead.
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 */
export function onEvent(pattern: EventPatternSpec): OnEventTrigger {
  return { kind: 'onEvent', pattern };
}
