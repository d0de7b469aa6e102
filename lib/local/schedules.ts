import { randomUUID } from 'node:crypto';
import { retryPolicyOf } from './event-rules.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, type Template } from './template.ts';

/** What EventBridge Scheduler fills in for one invocation, besides the scheduled time. */
export interface ScheduleInvocation {
  /** `<aws.scheduler.execution-id>`. @default - a fresh UUID */
  readonly executionId?: string;
  /** `<aws.scheduler.attempt-number>`, counting from 1. @default 1 */
  readonly attemptNumber?: number;
}

/** An `AWS::Scheduler::Schedule`, with its target resolved to a local ARN. */
export interface LocalSchedule {
  readonly logicalId: string;
  /** The schedule's `Name`, or locally its logical id. */
  readonly name: string;
  readonly groupName: string;
  readonly arn: string;
  /** `at(...)`, `rate(...)` or `cron(...)`, as written. */
  readonly expression: string;
  /** The IANA time zone the expression is read in. @default 'UTC' */
  readonly timezone: string;
  /** False when the template deploys the schedule with `State: DISABLED`. */
  readonly enabled: boolean;
  readonly targetArn: string;
  /**
   * What the target receives for the slot at `scheduledTime` (write it as Scheduler does,
   * `2026-11-01T02:00:00Z`): the target's `Input` with Scheduler's context attributes filled in, parsed
   * as JSON when it is JSON, else the text.
   */
  readonly input: (scheduledTime: string, invocation?: ScheduleInvocation) => unknown;
  /** The target's `RetryPolicy`, for a runtime that retries failed invocations. */
  readonly retryPolicy?: { readonly maximumRetryAttempts?: number; readonly maximumEventAgeSeconds?: number };
}

/** The schedules a template deploys through EventBridge Scheduler. */
export function readSchedules(template: Template, resolve: (value: unknown) => unknown): LocalSchedule[] {
  const schedules: LocalSchedule[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Scheduler::Schedule') continue;
    const props = resource.Properties ?? {};
    const target = (props.Target ?? {}) as Record<string, unknown>;
    const name = typeof props.Name === 'string' ? props.Name : logicalId;
    const groupName = props.GroupName === undefined ? 'default' : String(resolve(props.GroupName));
    const arn = `arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT}:schedule/${groupName}/${name}`;
    const inputText = target.Input === undefined ? undefined : String(resolve(target.Input));
    const retryPolicy = retryPolicyOf(target);
    schedules.push({
      logicalId,
      name,
      groupName,
      arn,
      expression: String(resolve(props.ScheduleExpression)),
      timezone:
        props.ScheduleExpressionTimezone === undefined ? 'UTC' : String(props.ScheduleExpressionTimezone),
      enabled: props.State === undefined || props.State === 'ENABLED',
      targetArn: String(resolve(target.Arn)),
      input: (scheduledTime, invocation = {}) =>
        inputText === undefined ? {} : scheduleInput(inputText, { scheduledTime, arn, ...invocation }),
      ...(retryPolicy ? { retryPolicy } : {}),
    });
  }
  return schedules;
}

/**
 * Scheduler replaces its context attributes as plain text, wherever they stand in the input; CDK's
 * `ContextAttribute` writes them inside JSON strings.
 */
function scheduleInput(
  text: string,
  values: { scheduledTime: string; arn: string } & ScheduleInvocation,
): unknown {
  const attributes: Record<string, string> = {
    '<aws.scheduler.scheduled-time>': values.scheduledTime,
    '<aws.scheduler.execution-id>': values.executionId ?? randomUUID(),
    '<aws.scheduler.attempt-number>': String(values.attemptNumber ?? 1),
    '<aws.scheduler.schedule-arn>': values.arn,
  };
  const filled = text.replace(
    /<aws\.scheduler\.(?:scheduled-time|execution-id|attempt-number|schedule-arn)>/g,
    (placeholder) => attributes[placeholder] as string,
  );
  try {
    return JSON.parse(filled);
  } catch {
    return filled;
  }
}
