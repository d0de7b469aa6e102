import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** A pipeline's metrics, as `Pipeline` offers them: run outcomes from AWS/States and from stepwise. */
export interface PipelineMetrics {
  /**
   * The pipeline's name, as the spec gives it: the value of the `Pipeline` dimension of stepwise's
   * own metrics.
   * @see README.md, "Deploying"
   */
  readonly pipelineName: string;
  /**
   * Runs started (AWS/States ExecutionsStarted), summed over 5 minutes.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
   */
  metricStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Executions that succeeded (AWS/States ExecutionsSucceeded), summed over 5 minutes; quarantined
   * runs included.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
   */
  metricSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Runs that failed (AWS/States ExecutionsFailed), summed over 5 minutes.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
   */
  metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Runs stopped at the pipeline's timeout (AWS/States ExecutionsTimedOut), summed over 5 minutes.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
   */
  metricTimedOut(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Executions Step Functions throttled (AWS/States ExecutionThrottled), summed over 5 minutes.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
   */
  metricThrottled(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Run duration in milliseconds (AWS/States ExecutionTime), averaged over 5 minutes.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
   */
  metricTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Quarantined runs (stepwise RunsQuarantined, from the recorder), summed over 5 minutes.
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
   */
  metricQuarantined(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Task attempts beyond the first (stepwise TaskRetries, from the recorder), summed over 5 minutes.
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
   */
  metricTaskRetries(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}
