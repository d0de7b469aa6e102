import { Duration, TimeZone } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { RUN_FINISHED } from '../names.ts';
import type {
  AfterPipelineTrigger,
  OnEventTrigger,
  S3ObjectCreatedTrigger,
  ScheduleTrigger,
  TriggerSpec,
} from '../spec/types.ts';

/** Where a trigger's events go: the dispatcher, and the queue for what cannot be delivered. */
export interface TriggerTarget {
  readonly pipeline: string;
  readonly dispatcher: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
}

/** Wires one trigger to the dispatcher. One function per trigger kind, chosen by `kind`. */
export function addTrigger(scope: Construct, id: string, trigger: TriggerSpec, target: TriggerTarget): void {
  switch (trigger.kind) {
    case 'schedule':
      addSchedule(scope, id, trigger, target);
      return;
    case 's3ObjectCreated':
      addS3ObjectCreated(scope, id, trigger, target);
      return;
    case 'afterPipeline':
      addAfterPipeline(scope, id, trigger, target);
      return;
    case 'onEvent':
      addOnEvent(scope, id, trigger, target);
      return;
  }
}

/** An EventBridge Scheduler schedule in the spec's time zone; the slot time becomes the run's logical time. */
function addSchedule(scope: Construct, id: string, trigger: ScheduleTrigger, target: TriggerTarget): void {
  const { pipeline, dispatcher, deadLetterQueue } = target;
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
  });
  role.addToPolicy(
    new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [dispatcher.functionArn] }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [deadLetterQueue.queueArn] }),
  );
  new scheduler.Schedule(scope, id, {
    description: `stepwise: runs pipeline '${pipeline}' on ${trigger.expression} (${trigger.timezone})`,
    schedule: scheduler.ScheduleExpression.expression(trigger.expression, TimeZone.of(trigger.timezone)),
    // A target of our own: the stock LambdaInvoke target grants the function ARN with a version wildcard.
    target: {
      bind: () => ({
        arn: dispatcher.functionArn,
        role,
        input: scheduler.ScheduleTargetInput.fromObject({
          kind: 'schedule',
          pipeline,
          time: scheduler.ContextAttribute.scheduledTime,
          expression: trigger.expression,
        }),
        retryPolicy: { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 86_400 },
        deadLetterConfig: { arn: deadLetterQueue.queueArn },
      }),
    },
  });
}

/** An EventBridge rule on S3 "Object Created" events for the bucket, matching the prefix and suffix. */
function addS3ObjectCreated(
  scope: Construct,
  id: string,
  trigger: S3ObjectCreatedTrigger,
  target: TriggerTarget,
): void {
  const key = `${trigger.prefix ?? ''}*${trigger.suffix ?? ''}`;
  new events.Rule(scope, id, {
    description: `stepwise: runs pipeline '${target.pipeline}' when s3://${trigger.bucket}/${key} is created`,
    eventPattern: {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: { bucket: { name: [trigger.bucket] }, object: { key: [{ wildcard: key }] } },
    },
    targets: [dispatcherTarget(target, { kind: 's3', pipeline: target.pipeline })],
  });
}

/**
 * A rule on the "Run Finished" events of the upstream pipelines' successful runs. The dispatcher
 * joins them: with several upstreams, a run starts once all have succeeded for one logical time.
 */
function addAfterPipeline(
  scope: Construct,
  id: string,
  trigger: AfterPipelineTrigger,
  target: TriggerTarget,
): void {
  new events.Rule(scope, id, {
    description: `stepwise: runs pipeline '${target.pipeline}' after ${trigger.upstreams.map((u) => `'${u}'`).join(' and ')} succeeded`,
    eventPattern: {
      source: [RUN_FINISHED.source],
      detailType: [RUN_FINISHED.detailType],
      detail: { pipeline: [...trigger.upstreams], status: ['SUCCEEDED'] },
    },
    targets: [
      dispatcherTarget(target, {
        kind: 'pipeline',
        pipeline: target.pipeline,
        upstreams: [...trigger.upstreams],
      }),
    ],
  });
}

/** A rule with the spec's own pattern, on the default bus. */
function addOnEvent(scope: Construct, id: string, trigger: OnEventTrigger, target: TriggerTarget): void {
  new events.Rule(scope, id, {
    description: `stepwise: runs pipeline '${target.pipeline}' on matching events`,
    eventPattern: trigger.pattern,
    targets: [dispatcherTarget(target, { kind: 'event', pipeline: target.pipeline })],
  });
}

/**
 * The dispatcher as a rule target: the envelope's fields and the whole event under `event`. Lambda is
 * invoked asynchronously, so EventBridge retries only failed deliveries; the rest is the dispatcher's.
 */
function dispatcherTarget(target: TriggerTarget, envelope: Record<string, unknown>): events.IRuleTarget {
  return new targets.LambdaFunction(target.dispatcher, {
    event: events.RuleTargetInput.fromObject({ ...envelope, event: events.EventField.fromPath('$') }),
    retryAttempts: 8,
    maxEventAge: Duration.hours(24),
    deadLetterQueue: target.deadLetterQueue,
  });
}
