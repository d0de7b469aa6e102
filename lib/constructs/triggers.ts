import { TimeZone } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import type { S3ObjectCreatedTrigger, ScheduleTrigger, TriggerSpec } from '../spec/types.ts';

/** Wires one trigger to the dispatcher. One function per trigger kind, chosen by `kind`. */
export function addTrigger(
  scope: Construct,
  id: string,
  pipeline: string,
  trigger: TriggerSpec,
  dispatcher: lambda.IFunction,
): void {
  switch (trigger.kind) {
    case 'schedule':
      addSchedule(scope, id, pipeline, trigger, dispatcher);
      return;
    case 's3ObjectCreated':
      addS3ObjectCreated(scope, id, pipeline, trigger, dispatcher);
      return;
  }
}

/** An EventBridge Scheduler schedule in the spec's time zone; the slot time becomes the run's logical time. */
function addSchedule(
  scope: Construct,
  id: string,
  pipeline: string,
  trigger: ScheduleTrigger,
  dispatcher: lambda.IFunction,
): void {
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
  });
  role.addToPolicy(
    new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [dispatcher.functionArn] }),
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
      }),
    },
  });
}

/** An EventBridge rule on S3 "Object Created" events for the bucket, matching the prefix and suffix. */
function addS3ObjectCreated(
  scope: Construct,
  id: string,
  pipeline: string,
  trigger: S3ObjectCreatedTrigger,
  dispatcher: lambda.IFunction,
): void {
  const key = `${trigger.prefix ?? ''}*${trigger.suffix ?? ''}`;
  new events.Rule(scope, id, {
    description: `stepwise: runs pipeline '${pipeline}' when s3://${trigger.bucket}/${key} is created`,
    eventPattern: {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: { bucket: { name: [trigger.bucket] }, object: { key: [{ wildcard: key }] } },
    },
    targets: [
      new targets.LambdaFunction(dispatcher, {
        event: events.RuleTargetInput.fromObject({
          kind: 's3',
          pipeline,
          event: events.EventField.fromPath('$'),
        }),
        retryAttempts: 8,
      }),
    ],
  });
}
