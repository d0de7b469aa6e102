import { PLATFORM_ENVIRONMENT } from '../../lib/names.ts';
import { pipelineConfigs } from '../dispatcher/config.ts';
import type { DispatcherContext } from '../dispatcher/context.ts';
import { recorderClients, recorderDeps } from '../recorder/environment.ts';
import type { RecorderDeps } from '../recorder/record.ts';
import { type ClaimRepair, restartStaleClaims } from './claims.ts';
import { ReconcileError } from './errors.ts';
import { type ReconcileFailure, reconcileRuns } from './reconcile.ts';
import { repairSlots, type SlotRepair } from './slots.ts';

export interface ReconcilerResult {
  readonly checked: number;
  readonly closed: number;
  readonly stillRunning: number;
  /** Slots freed: holders whose execution had ended, or never started. */
  readonly slotsReleased: number;
  /** Queued runs started by the drain after the slot repair. */
  readonly queuedStarted: number;
  /** Triggers claimed but never started, whose start this pass finished (started, queued or settled). */
  readonly claimsRestarted: number;
  readonly errors: number;
}

const clients = recorderClients();

/**
 * The reconciler, on a schedule: closes runs whose execution ended without the recorder hearing of it
 * (see `reconcileRuns`), finishes the starts of triggers claimed but never started (see
 * `restartStaleClaims`), then repairs every pipeline's concurrency slots and drains its queue (see
 * `repairSlots`). Environment: the recorder's, the dispatcher's STEPWISE_PIPELINE_<NAME> variables,
 * RECONCILE_AFTER_MINUTES (default 10), the grace period before a RUNNING run or a CLAIMED claim is
 * checked, and RECONCILE_NOTHING_IN_FLIGHT=1 where no dispatcher can be mid-start (a local command
 * holding the state dir's lock), which lets a slot holder with no execution go on the first pass. Throws at
 * the end if any run or pipeline could not be checked.
 */
export async function handler(): Promise<ReconcilerResult> {
  const olderThanMinutes = minutes(process.env[PLATFORM_ENVIRONMENT.reconcileAfterMinutes]);
  const nothingInFlight = process.env[PLATFORM_ENVIRONMENT.reconcileNothingInFlight] === '1';
  const deps = recorderDeps(clients);
  const summary = await reconcileRuns(deps, { olderThanMinutes });
  const failures: ReconcileFailure[] = [...summary.errors];
  const configs = pipelineConfigs(process.env);
  const before = new Date(deps.now().getTime() - olderThanMinutes * 60_000).toISOString();
  let claims: ClaimRepair | undefined;
  try {
    claims = await restartStaleClaims(dispatcherContext(deps), configs, before);
  } catch (error) {
    failures.push({
      pipeline: '(all)',
      runId: '(claims)',
      executionArn: undefined,
      message: `restarting the claims left CLAIMED: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    });
  }
  const repairs: SlotRepair[] = [];
  for (const [pipeline, config] of configs) {
    try {
      repairs.push(await repairSlots(dispatcherContext(deps), pipeline, config, { nothingInFlight }));
    } catch (error) {
      failures.push({
        pipeline,
        runId: '(slots)',
        executionArn: undefined,
        message: `repairing the slots: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      });
    }
  }
  const result = {
    checked: summary.checked,
    closed: summary.closed,
    stillRunning: summary.stillRunning,
    slotsReleased: repairs.reduce((n, r) => n + r.ended.length + r.neverStarted.length, 0),
    queuedStarted: repairs.reduce((n, r) => n + r.started.length, 0),
    claimsRestarted: claims ? claims.started.length + claims.queued.length + claims.settled.length : 0,
    errors: failures.length,
  };
  console.log(
    JSON.stringify({
      level: failures.length > 0 ? 'error' : 'info',
      message: 'reconciled running runs',
      olderThanMinutes,
      ...result,
      ...(claims && claims.found > 0 ? { claims } : {}),
      repairs: repairs.filter(
        (r) => r.ended.length + r.neverStarted.length + r.suspects.length + r.started.length > 0,
      ),
      failures,
    }),
  );
  if (failures.length > 0) throw new ReconcileError(failures);
  return result;
}

function dispatcherContext(deps: RecorderDeps): DispatcherContext {
  return {
    dynamodb: deps.dynamodb,
    sfn: deps.sfn,
    table: deps.table,
    now: deps.now,
    alerts: { sns: deps.sns, topicArn: deps.alertTopicArn },
  };
}

function minutes(text: string | undefined): number {
  if (text === undefined || text === '') return 10;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(
      `${PLATFORM_ENVIRONMENT.reconcileAfterMinutes} must be a number of minutes, 0 or more; got '${text}'`,
    );
  return value;
}
