import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

import { PIPELINE_DIMENSION, type RunMetricName, STEPWISE_NAMESPACE } from '../names.ts';

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
    dimensionsMap: { [PIPELINE_DIMENSION]: pipeline },
    statistic: cloudwatch.Stats.SUM,
    period: Duration.minutes(5),
    ...props,
  });
}
