import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** The CloudWatch namespace of the metrics the recorder and dispatcher print as EMF lines. */
export const STEPWISE_NAMESPACE = 'stepwise';

/** Metrics the recorder prints once per finished run, with the dimension `Pipeline`. */
export type RunMetricName =
  | 'RunsSucceeded'
  | 'RunsFailed'
  | 'RunsQuarantined'
  | 'RunsTimedOut'
  | 'TaskRetries'
  | 'TaskFailures'
  | 'RunDuration';

/**
 * One of a pipeline's own metrics, summed over 5 minutes unless `props` says otherwise, as
 * aws-cdk-lib's `StateMachine.metric()` does for the AWS/States ones.
 */
export function pipelineMetric(
  pipeline: string,
  metricName: RunMetricName,
  props: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: STEPWISE_NAMESPACE,
    metricName,
    dimensionsMap: { Pipeline: pipeline },
    statistic: cloudwatch.Stats.SUM,
    period: Duration.minutes(5),
    ...props,
  });
}
