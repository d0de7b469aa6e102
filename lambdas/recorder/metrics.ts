import type { RunRow } from '../../lib/ledger/ledger.ts';
import type { TaskAttempt } from '../../lib/ledger/task-attempts.ts';
import { PIPELINE_DIMENSION, type RunMetricName, STEPWISE_NAMESPACE } from '../../lib/names.ts';

/**
 * One CloudWatch embedded-metric-format line per finished run: CloudWatch Logs turns the numbers into
 * metrics in namespace `stepwise` with dimension `Pipeline`, and the alarms watch those. The run id
 * and execution ARN ride along as plain fields, for Logs Insights.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export function runMetrics(
  row: RunRow,
  attempts: readonly TaskAttempt[],
  now: Date,
): Record<string, unknown> {
  const perTask = new Map<string, number>();
  for (const a of attempts) perTask.set(a.task, (perTask.get(a.task) ?? 0) + 1);
  const retries = [...perTask.values()].reduce((sum, n) => sum + n - 1, 0);
  const end = row.endedAt ?? now.toISOString();
  const values: Record<RunMetricName, number> = {
    RunsSucceeded: row.status === 'SUCCEEDED' ? 1 : 0,
    RunsFailed: row.status === 'FAILED' ? 1 : 0,
    RunsQuarantined: row.status === 'QUARANTINED' ? 1 : 0,
    RunsTimedOut: row.status === 'TIMED_OUT' ? 1 : 0,
    TaskRetries: retries,
    TaskFailures: attempts.filter((a) => a.status === 'FAILED').length,
    RunDuration: Math.max(0, Date.parse(end) - Date.parse(row.startedAt)),
  };
  return {
    _aws: {
      Timestamp: now.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: STEPWISE_NAMESPACE,
          Dimensions: [[PIPELINE_DIMENSION]],
          Metrics: Object.keys(values).map((name) => ({
            Name: name,
            Unit: name === 'RunDuration' ? 'Milliseconds' : 'Count',
          })),
        },
      ],
    },
    [PIPELINE_DIMENSION]: row.pipeline,
    ...values,
    runId: row.runId,
    status: row.status,
    executionArn: row.executionArn,
  };
}
