import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Settings of a `DeadLetterQueue`. */
export interface DeadLetterQueueProps {
  /**
   * Where the alarm on a non-empty queue goes.
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
   */
  readonly alertTopic: sns.ITopic;
}

/**
 * Where events go that the platform could not deliver or process: EventBridge rule and schedule
 * targets that ran out of retries, and asynchronous Lambda invocations that failed every attempt. A
 * message here is a trigger that started no run or a run whose end was not recorded, so any message
 * raises an alarm. Encrypted, TLS only, and kept for the 14 days SQS allows, for a redrive.
 */
export class DeadLetterQueue extends Construct {
  /**
   * The queue: the target of EventBridge rules' and schedules' dead letters, and of failed
   * asynchronous Lambda invocations. Its messages are kept 14 days.
   * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-event-delivery.html
   */
  readonly queue: sqs.Queue;
  /**
   * The alarm that goes off when any message is visible in the queue, and notifies `alertTopic`.
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
   */
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.alarm = new cloudwatch.Alarm(this, 'NotEmpty', {
      alarmDescription:
        'stepwise: events reached the dead-letter queue: a trigger that started no run, or a run end that was not recorded. Read the messages, fix the cause, then redrive them.',
      metric: this.queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new actions.SnsAction(props.alertTopic));
  }
}
