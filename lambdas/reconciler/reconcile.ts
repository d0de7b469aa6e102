import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { runningRunsStartedBefore } from '../../lib/ledger/ledger.ts';
import { type RecorderDeps, recordExecution } from '../recorder/record.ts';

export interface ReconcileFailure {
  readonly pipeline: string;
  readonly runId: string;
  readonly executionArn: string | undefined;
  readonly message: string;
}

export interface ReconcileSummary {
  /** Run rows RUNNING for longer than the grace period. */
  readonly checked: number;
  /** Of those, runs whose execution had ended: recorded and closed as the recorder would. */
  readonly closed: number;
  /** Of those, runs whose execution is still running: left alone. */
  readonly stillRunning: number;
  readonly errors: readonly ReconcileFailure[];
}

/**
 * Closes the runs whose end the recorder missed. Status-change events are best effort, so a run row
 * can stay RUNNING after its execution ended; every run RUNNING for longer than `olderThanMinutes` is
 * checked against its execution, and an ended one goes through `recordExecution`, exactly as if its
 * event had arrived. One run that cannot be checked does not stop the others: its error is collected.
 */
export async function reconcileRuns(
  deps: RecorderDeps,
  options: { readonly olderThanMinutes: number; readonly pageSize?: number },
): Promise<ReconcileSummary> {
  const before = new Date(deps.now().getTime() - options.olderThanMinutes * 60_000).toISOString();
  let checked = 0;
  let closed = 0;
  let stillRunning = 0;
  const errors: ReconcileFailure[] = [];
  const runs = runningRunsStartedBefore(deps.dynamodb, deps.table, before, {
    ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
  });
  for await (const run of runs) {
    checked++;
    const failure = (message: string) =>
      errors.push({ pipeline: run.pipeline, runId: run.runId, executionArn: run.executionArn, message });
    if (run.executionArn === undefined) {
      failure('the run row has no executionArn, so its execution cannot be found');
      continue;
    }
    try {
      const execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn: run.executionArn }));
      if (execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE') {
        stillRunning++;
        continue;
      }
      const result = await recordExecution(run.executionArn, deps);
      if (result.outcome === 'running') stillRunning++;
      else closed++;
    } catch (error) {
      failure(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
  }
  return { checked, closed, stillRunning, errors };
}
