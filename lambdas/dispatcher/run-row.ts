import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ledgerKeys } from '../../lib/names.ts';

/** A run the dispatcher closes itself, never started: DEDUPLICATED, or FAILED when Step Functions refused it. */
export interface ClosedRun {
  readonly pipeline: string;
  readonly runId: string;
  readonly status: 'DEDUPLICATED' | 'FAILED';
  readonly startedAt: string;
  readonly endedAt: string;
  readonly runKey: string;
  readonly trigger?: unknown;
  readonly logicalTime?: string;
  /** DynamoDB TTL, epoch seconds. */
  readonly expiresAt?: number;
}

/** The ledger's run row for such a run, in the shape the state machine writes for the others. */
export function closedRunItem(
  run: ClosedRun,
  fields: Readonly<Record<string, AttributeValue>>,
): Record<string, AttributeValue> {
  const key = ledgerKeys.run(run.pipeline, run.startedAt, run.runId);
  return {
    pk: { S: key.pk },
    sk: { S: key.sk },
    kind: { S: 'run' },
    pipeline: { S: run.pipeline },
    runId: { S: run.runId },
    status: { S: run.status },
    startedAt: { S: run.startedAt },
    endedAt: { S: run.endedAt },
    runKey: { S: run.runKey },
    ...(run.trigger === undefined ? {} : { trigger: { S: JSON.stringify(run.trigger) } }),
    ...(run.logicalTime === undefined ? {} : { logicalTime: { S: run.logicalTime } }),
    ...(run.expiresAt === undefined ? {} : { expiresAt: { N: String(run.expiresAt) } }),
    ...fields,
  };
}
