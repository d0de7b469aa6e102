import { recorderClients, recorderDeps } from '../recorder/environment.ts';
import { ReconcileError } from './errors.ts';
import { reconcileRuns } from './reconcile.ts';

export interface ReconcilerResult {
  readonly checked: number;
  readonly closed: number;
  readonly stillRunning: number;
  readonly errors: number;
}

const clients = recorderClients();

/**
 * The reconciler, on a schedule: closes runs whose execution ended without the recorder hearing of it
 * (see `reconcileRuns`). Environment: the recorder's, plus RECONCILE_AFTER_MINUTES (default 10), the
 * grace period before a RUNNING run is checked. Throws at the end if any run could not be checked.
 */
export async function handler(): Promise<ReconcilerResult> {
  const olderThanMinutes = minutes(process.env.RECONCILE_AFTER_MINUTES);
  const summary = await reconcileRuns(recorderDeps(clients), { olderThanMinutes });
  const result = {
    checked: summary.checked,
    closed: summary.closed,
    stillRunning: summary.stillRunning,
    errors: summary.errors.length,
  };
  console.log(
    JSON.stringify({
      level: summary.errors.length > 0 ? 'error' : 'info',
      message: 'reconciled running runs',
      olderThanMinutes,
      ...result,
      failures: summary.errors,
    }),
  );
  if (summary.errors.length > 0) throw new ReconcileError(summary.errors);
  return result;
}

function minutes(text: string | undefined): number {
  if (text === undefined || text === '') return 10;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`RECONCILE_AFTER_MINUTES must be a number of minutes, 0 or more; got '${text}'`);
  return value;
}
