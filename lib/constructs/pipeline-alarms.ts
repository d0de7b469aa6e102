import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { PipelineMetrics } from './pipeline-metrics.ts';

export interface PipelineAlarmsProps {
  readonly metrics: PipelineMetrics;
  /** The duration alarm's threshold, or undefined for no duration alarm. */
  readonly slaMs: number | undefined;
  readonly alertTopic: sns.ITopic;
}

const PERIOD = Duration.minutes(5);

/**
 * A pipeline's alarms, each publishing to the alert topic: any failed, timed-out, throttled or
 * quarantined run in five minutes, and, with an SLA, any run that took longer. A period with no runs
 * has no data, and that is not a breach.
 */
export function addPipelineAlarms(scope: Construct, props: PipelineAlarmsProps): cloudwatch.Alarm[] {
  const { metrics, slaMs } = props;
  const name = metrics.pipelineName;
  const named = "; the recorder's alert on the topic names each run";
  const anyIn = (id: string, metric: cloudwatch.Metric, what: string) =>
    new cloudwatch.Alarm(scope, id, {
      alarmDescription: `stepwise: pipeline '${name}' ${what}`,
      metric,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  const alarms = [
    anyIn('FailedAlarm', metrics.metricFailed({ period: PERIOD }), `had a failed run in 5 minutes${named}`),
    anyIn(
      'TimedOutAlarm',
      metrics.metricTimedOut({ period: PERIOD }),
      `had a run time out in 5 minutes${named}`,
    ),
    anyIn(
      'ThrottledAlarm',
      metrics.metricThrottled({ period: PERIOD }),
      'had executions throttled by Step Functions in 5 minutes; check the account quotas',
    ),
    anyIn(
      'QuarantinedAlarm',
      metrics.metricQuarantined({ period: PERIOD }),
      `quarantined a run in 5 minutes${named}`,
    ),
  ];
  if (slaMs !== undefined) {
    alarms.push(
      new cloudwatch.Alarm(scope, 'SlaAlarm', {
        alarmDescription: `stepwise: a run of pipeline '${name}' took longer than its SLA of ${formatMs(slaMs)}`,
        // ExecutionTime is in milliseconds and reported when an execution ends.
        metric: metrics.metricTime({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: slaMs,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }
  const action = new actions.SnsAction(props.alertTopic);
  for (const alarm of alarms) alarm.addAlarmAction(action);
  return alarms;
}

function formatMs(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
