import { markQueued, markStarted } from './claim.ts';
import type { PipelineConfig } from './config.ts';
import type { DispatcherContext, PendingRun } from './context.ts';
import { dequeue, enqueue, oldestQueued } from './queue.ts';
import { acquireSlot, releaseSlot } from './slots.ts';
import { startExecution } from './start.ts';
import { countMetric, log } from './telemetry.ts';

/*
 * maxConcurrentRuns without locks or transactions (dynalite has none), and why it holds when several
 * dispatchers admit, queue and drain the same pipeline at once:
 *
 * - Never twice. A run's execution name is fixed by its run key and its input is fixed at claim time
 *   (stored with the claim and the queue item). Step Functions joins a StartExecution with the same
 *   name and input to the open execution, and refuses it once that execution has closed. However many
 *   dispatchers start a run, one execution exists.
 * - Never over the cap. Every StartExecution of run R follows a successful acquireSlot(R) by the same
 *   dispatcher. That conditional update adds R only while fewer than max ids are active (or R is there
 *   already), and DynamoDB applies it to the one slots item atomically, so `active` never exceeds max.
 *   R leaves `active` only after its execution closed: on its "Run Finished" event, or when
 *   StartExecution says a closed execution of that name exists. So every open execution's id is in
 *   `active`. A stale queue item can put a closed run's id back into `active` for a moment; that only
 *   withholds a slot until the refused start gives it back.
 * - Nothing lost. A queue item is deleted only after its run started (a crash in between leaves it,
 *   and the next drain's start joins or is refused). Every enqueue is followed by a drain, and so is
 *   every release. The queue is read consistently, so for a run queued while a slot is freed either
 *   the releaser's drain reads the queue after the enqueue, or the enqueuer's drain tries the slot
 *   after the release. A drain stops only at an empty queue or full slots (rereading the queue after
 *   any slot it gave back itself), and whatever changes either is followed by another drain.
 */

/** Queued runs read per query while draining. */
const DRAIN_PAGE = 10;

export type Admission =
  | { readonly outcome: 'started'; readonly executionArn: string }
  | { readonly outcome: 'queued' }
  /** Step Functions has a closed execution of this name: the run happened already. */
  | { readonly outcome: 'exists' };

export interface StartedRun {
  readonly runId: string;
  readonly executionArn: string;
}

/**
 * Starts a claimed run if the pipeline has a free slot, else queues it. `recovering` is set when the
 * run was claimed by an earlier delivery that stopped before the start, which may have queued it.
 */
export async function admit(
  ctx: DispatcherContext,
  config: PipelineConfig,
  run: PendingRun,
  recovering: boolean,
): Promise<Admission> {
  if (await acquireSlot(ctx, run.pipeline, run.runId, config.maxConcurrentRuns)) {
    const execution = await startExecution(ctx, config.stateMachineArn, run);
    if (execution) {
      await markStarted(ctx, run, execution.executionArn);
      if (recovering) await dequeue(ctx, run);
      return { outcome: 'started', executionArn: execution.executionArn };
    }
    // The slot just taken belongs to no open execution; give it back, and drain for whoever it held up.
    await releaseSlot(ctx, run.pipeline, run.runId);
    await markStarted(ctx, run, undefined);
    if (recovering) await dequeue(ctx, run);
    await drain(ctx, config, run.pipeline);
    return { outcome: 'exists' };
  }
  await enqueue(ctx, run);
  await markQueued(ctx, run);
  countMetric('QueuedRuns', run.pipeline);
  log('info', 'run queued: every concurrency slot is taken', {
    pipeline: run.pipeline,
    runId: run.runId,
    runKey: run.runKey,
    maxConcurrentRuns: config.maxConcurrentRuns,
  });
  // A slot may have been freed between the failed acquire and the enqueue, by a drain that did not
  // see this run yet: draining now closes that window.
  const started = (await drain(ctx, config, run.pipeline)).find((s) => s.runId === run.runId);
  return started ? { outcome: 'started', executionArn: started.executionArn } : { outcome: 'queued' };
}

/**
 * Starts the oldest queued runs while slots are free, and returns those it started. Safe to run in
 * any number of dispatchers at once (see the argument at the top of this file).
 */
export async function drain(
  ctx: DispatcherContext,
  config: PipelineConfig,
  pipeline: string,
): Promise<StartedRun[]> {
  const started: StartedRun[] = [];
  for (;;) {
    const queued = await oldestQueued(ctx, pipeline, DRAIN_PAGE);
    let released = false;
    for (const run of queued) {
      if (!(await acquireSlot(ctx, pipeline, run.runId, config.maxConcurrentRuns))) return started;
      const execution = await startExecution(ctx, config.stateMachineArn, run);
      if (execution) {
        await markStarted(ctx, run, execution.executionArn);
        started.push({ runId: run.runId, executionArn: execution.executionArn });
        log('info', 'queued run started', { pipeline, runId: run.runId, runKey: run.runKey });
      } else {
        // A stale item: another dispatcher started this run, and it has closed since.
        await releaseSlot(ctx, pipeline, run.runId);
        await markStarted(ctx, run, undefined);
        released = true;
      }
      await dequeue(ctx, run);
    }
    // After a release, read the queue again even if this page was the last: a run queued meanwhile may
    // have found the slots full because of the stale hold just given back.
    if (queued.length < DRAIN_PAGE && !released) return started;
  }
}
