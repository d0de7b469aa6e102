import * as z from 'zod/mini';
import { explainIssue } from '../dispatcher/issues.ts';
import { recorderClients, recorderDeps } from './environment.ts';
import { statusChangeEvent } from './event.ts';
import { type RecordResult, recordExecution } from './record.ts';

export type RecorderOutcome = RecordResult | { readonly outcome: 'ignored'; readonly reason: string };

const clients = recorderClients();
const ENDED = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * The recorder: on a "Step Functions Execution Status Change" event of an ended execution, records its
 * task attempts, completes the run row, alerts, prints metrics and emits "Run Finished" (see
 * `recordExecution`). A malformed event can never succeed, so it is logged as an error and dropped
 * rather than retried; any other failure throws, and Lambda's retries and the dead-letter queue take
 * over.
 */
export async function handler(event: unknown): Promise<RecorderOutcome> {
  const parsed = statusChangeEvent.safeParse(event, { error: explainIssue });
  if (!parsed.success) {
    const reason = `malformed status-change event: ${z.prettifyError(parsed.error)}`;
    log('error', reason, { event });
    return { outcome: 'ignored', reason };
  }
  const { executionArn, status } = parsed.data.detail;
  if (!ENDED.has(status)) return { outcome: 'ignored', reason: `execution is ${status}, not ended` };
  const result = await recordExecution(executionArn, recorderDeps(clients));
  log('info', 'recorded execution', { ...result });
  return result;
}

function log(level: 'info' | 'error', message: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, message, ...fields }));
}
