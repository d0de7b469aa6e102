import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** A pipeline's metrics, as `Pipeline` offers them: run outcomes from AWS/States and from stepwise. */
export interface PipelineMetrics {
  readonly pipelineName: string;
  metricStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricTimedOut(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricThrottled(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricQuarantined(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricTaskRetries(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}
