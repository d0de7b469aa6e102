import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { PipelineMetrics } from './pipeline-metrics.ts';

export interface PipelineDashboardProps {
  readonly metrics: PipelineMetrics;
  readonly alarms: readonly cloudwatch.IAlarm[];
}

const PERIOD = Duration.minutes(5);
const WIDTH = 12;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard per pipeline: runs by outcome, duration (p50 and p95), task retries,
 * quarantines, and the state of its alarms. Named `<stack>-<pipeline>-<region>`, since dashboard
 * names are global to the account.
 */
export class PipelineDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    const { metrics } = props;
    const sum = { period: PERIOD, statistic: cloudwatch.Stats.SUM };
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-${metrics.pipelineName}-${Aws.REGION}`,
      defaultInterval: Duration.days(7),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Runs by status',
            width: WIDTH,
            height: HEIGHT,
            stacked: true,
            left: [
              metrics.metricSucceeded({ ...sum, label: 'Succeeded', color: cloudwatch.Color.GREEN }),
              metrics.metricFailed({ ...sum, label: 'Failed', color: cloudwatch.Color.RED }),
              metrics.metricTimedOut({ ...sum, label: 'Timed out', color: cloudwatch.Color.ORANGE }),
              metrics.metricQuarantined({ ...sum, label: 'Quarantined', color: cloudwatch.Color.PURPLE }),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Run duration',
            width: WIDTH,
            height: HEIGHT,
            left: [
              metrics.metricTime({ period: PERIOD, statistic: cloudwatch.Stats.p(50), label: 'p50' }),
              metrics.metricTime({ period: PERIOD, statistic: cloudwatch.Stats.p(95), label: 'p95' }),
            ],
            leftYAxis: { label: 'ms', showUnits: false, min: 0 },
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Task retries',
            width: WIDTH,
            height: HEIGHT,
            left: [metrics.metricTaskRetries({ ...sum, label: 'Retries' })],
          }),
          new cloudwatch.GraphWidget({
            title: 'Quarantined runs',
            width: WIDTH,
            height: HEIGHT,
            left: [
              metrics.metricQuarantined({ ...sum, label: 'Quarantined', color: cloudwatch.Color.PURPLE }),
            ],
          }),
        ],
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            width: 2 * WIDTH,
            height: 3,
            alarms: [...props.alarms],
          }),
        ],
      ],
    });
  }
}
