import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { RunRow } from '../../lib/ledger/ledger.ts';
import { RUN_FINISHED } from '../../lib/names.ts';

/** What a "Run Finished" event carries; `status` is the ledger status (an aborted run is FAILED). */
export interface RunFinishedDetail {
  readonly pipeline: string;
  readonly runId: string;
  readonly status: string;
  readonly logicalTime?: string;
  readonly runKey?: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly executionArn?: string;
}

/**
 * The "Run Finished" event for the default bus: downstream pipelines (`afterPipeline`) start on it,
 * and the dispatcher frees the run's concurrency slot.
 */
export function runFinishedEntry(row: RunRow, eventBusName: string): PutEventsRequestEntry {
  const detail: RunFinishedDetail = {
    pipeline: row.pipeline,
    runId: row.runId,
    status: row.status,
    ...(row.logicalTime !== undefined ? { logicalTime: row.logicalTime } : {}),
    ...(row.runKey !== undefined ? { runKey: row.runKey } : {}),
    startedAt: row.startedAt,
    ...(row.endedAt !== undefined ? { endedAt: row.endedAt } : {}),
    ...(row.executionArn !== undefined ? { executionArn: row.executionArn } : {}),
  };
  return {
    Source: RUN_FINISHED.source,
    DetailType: RUN_FINISHED.detailType,
    EventBusName: eventBusName,
    ...(row.executionArn !== undefined ? { Resources: [row.executionArn] } : {}),
    Detail: JSON.stringify(detail),
  };
}
