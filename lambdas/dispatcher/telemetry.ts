/**
 * The dispatcher's output: one JSON object a line, which CloudWatch Logs Insights queries by field,
 * and embedded-metric-format lines, which CloudWatch turns into metrics without an API call.
 */

import { type DispatcherMetricName, PIPELINE_DIMENSION, STEPWISE_NAMESPACE } from '../../lib/names.ts';

export function log(
  level: 'info' | 'warn' | 'error',
  message: string,
  fields: Record<string, unknown> = {},
): void {
  console.log(JSON.stringify({ level, message, ...fields }));
}

/**
 * One EMF line counting one event. `pipeline` is given only for a pipeline this dispatcher serves: a
 * name taken from a malformed or unknown event would let garbage mint dimension values.
 */
export function countMetric(metric: DispatcherMetricName, pipeline?: string): void {
  console.log(
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: STEPWISE_NAMESPACE,
            Dimensions: [pipeline === undefined ? [] : [PIPELINE_DIMENSION]],
            Metrics: [{ Name: metric, Unit: 'Count' }],
          },
        ],
      },
      ...(pipeline === undefined ? {} : { [PIPELINE_DIMENSION]: pipeline }),
      [metric]: 1,
    }),
  );
}
