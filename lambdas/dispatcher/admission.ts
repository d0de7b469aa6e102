import { markQueued, markStarted, readClaim } from './claim.ts';
import type { PipelineConfig } from './config.ts';
import type { DispatcherContext, PendingRun } from './context.ts';
import { parkRun } from './park.ts';
import { dequeue, enqueue, oldestQueued } from './queue.ts';
import { acquireSlot, readSlots, releaseSlot } from './slots.ts';
import { startExecution } from './start.ts';
import { countMetric, log } from './telemetry.ts';

/*
 * maxConcurrentRuns without locks or transactions (dynalite has none), and why it holds when several
 * dispatchers admit, queue and drain the same pipeline at once, and any of them may die between steps:
 *
 * - Never twice. A run's execution name is fixed by its run key and its input is fixed at claim time
 *   (stored with the claim and the queue item). Step Functions joins a StartExecution with the same
 *   name and input to the open execution, and refuses it once that execution has closed. However many
 *   dispatchers start a run, one execution exists.
 * - Never over the cap. Every StartExecution of run R follows a successful acquireSlot(R) by the same
 *   dispatcher. That conditional update adds R only while fewer than max ids are active (or R is there
 *   already), and DynamoDB applies it to the one slots item atomically, so `active` never exceeds max.
 *   R leaves `active` only after its execution closed (its "Run Finished" event, or a start refused
 *   because a closed execution of that name exists), or when it can never start (parkRun).
 * - Never a slot for a run that is over. Taking a slot is idempotent per run, which lets a retried
 *   delivery resume a start. But a dispatcher acting on a stale read (a queue item or a CLAIMED claim
 *   read before the run started, ended and released its slot) would add the finished run to `active`
 *   again, and nothing would ever take it out: its "Run Finished" has come and gone. Once max such
 *   ghosts pile up, the pipeline's queue never moves. So the release also records the run in the slots
 *   item, in the same update, and acquireSlot refuses a recorded run (see slots.ts): the stale read is
 *   refused atomically, not undone afterwards by a step that a crash, a throttled StartExecution or a
 *   Step Functions stand-in that joins closed executions could skip.
 * - Nothing lost. A queue item is deleted only after its run started, was refused for good, or is
 *   known to be over (a crash in between leaves it, and the next drain deals with it). Every enqueue is
 *   followed by a drain, and so is every release. The queue is read consistently, so for a run queued
 *   while a slot is freed either the releaser's drain reads the queue after the enqueue, or the
 *   enqueuer's drain tries the slot after the release. A drain stops only at an empty queue or full
 *   slots (rereading the queue after any slot it gave back itself), and whatever changes either is
 *   followed by another drain. A run that can never start is set aside (parkRun), so it cannot block
 *   the head of the queue.
 */

/** Queued runs read per query while draining. */
const DRAIN_PAGE = 10;

export type Admission =
  | { readonly outcome: 'started'; readonly executionArn: string }
  | { readonly outcome: 'queued' }
  /** The run happened already: Step Functions has a closed execution of this name, or its slot was released. */
  | { readonly outcome: 'exists' }
  /** Step Functions refused the start for good; the run is recorded FAILED and set aside. */
  | { readonly outcome: 'failed'; readonly reason: string };

export interface StartedRun {
  readonly runId: string;
  readonly executionArn: string;
}

export interface Drained {
  /** Queued runs this drain started. */
  readonly started: StartedRun[];
  /** Queued runs this drain set aside because they can never start. */
  readonly failed: { readonly runId: string; readonly reason: string }[];
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
  const acquired = await acquireSlot(ctx, run.pipeline, run.runId, config.maxConcurrentRuns);
  // Refused: all slots are taken, or (only for a claim an earlier delivery made) the run released its
  // own: read as CLAIMED, it has run and ended (or was set aside) since, so the read was stale.
  if (!acquired && recovering && (await readSlots(ctx, run.pipeline)).released.includes(run.runId)) {
    await markStarted(ctx, run, undefined);
    await dequeue(ctx, run);
    return { outcome: 'exists' };
  }
  if (acquired) {
    const start = await startExecution(ctx, config.stateMachineArn, run);
    switch (start.outcome) {
      case 'started':
        await markStarted(ctx, run, start.executionArn);
        if (recovering) await dequeue(ctx, run);
        return start;
      case 'exists':
        // The slot just taken belongs to no open execution; give it back, and drain for whoever it held up.
        await releaseSlot(ctx, run.pipeline, run.runId);
        await markStarted(ctx, run, undefined);
        if (recovering) await dequeue(ctx, run);
        await drain(ctx, config, run.pipeline);
        return start;
      case 'refused':
        await parkRun(ctx, run, start);
        await drain(ctx, config, run.pipeline);
        return { outcome: 'failed', reason: start.reason };
    }
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
  const drained = await drain(ctx, config, run.pipeline);
  const started = drained.started.find((s) => s.runId === run.runId);
  if (started) return { outcome: 'started', executionArn: started.executionArn };
  const failed = drained.failed.find((f) => f.runId === run.runId);
  return failed ? { outcome: 'failed', reason: failed.reason } : { outcome: 'queued' };
}

/**
 * Starts the oldest queued runs while slots are free, and returns those it started and those it set
 * aside. Safe to run in any number of dispatchers at once (see the argument at the top of this file).
 */
export async function drain(
  ctx: DispatcherContext,
  config: PipelineConfig,
  pipeline: string,
): Promise<Drained> {
  const drained: Drained = { started: [], failed: [] };
  for (;;) {
    const queued = await oldestQueued(ctx, pipeline, DRAIN_PAGE);
    if (queued.length === 0) return drained;
    const page = await drainPage(ctx, config, pipeline, queued, drained);
    // After giving a slot back, read the queue again even if this page was the last, or the slots were
    // full: a run queued meanwhile may have found them full because of the hold just given back.
    if (page.gaveBack) continue;
    if (page.full || queued.length < DRAIN_PAGE) return drained;
  }
}

/** Starts what it can of one page of the queue. */
async function drainPage(
  ctx: DispatcherContext,
  config: PipelineConfig,
  pipeline: string,
  queued: readonly PendingRun[],
  drained: Drained,
): Promise<{ full: boolean; gaveBack: boolean }> {
  // Read once a page: most drains find the slots full and stop here, at two reads.
  const slots = await readSlots(ctx, pipeline);
  const holders = new Set(slots.active);
  let gaveBack = false;
  for (const run of queued) {
    if (slots.released.includes(run.runId)) {
      // It ran and ended (or was set aside) before its item was removed.
      await markStarted(ctx, run, undefined);
      await dequeue(ctx, run);
      continue;
    }
    if (holders.size >= config.maxConcurrentRuns && !holders.has(run.runId)) return { full: true, gaveBack };
    // An item whose run started or was set aside is left over from a dispatcher that stopped before
    // removing it, or was read before another drain removed it: remove it, start nothing.
    const claim = await readClaim(ctx, pipeline, run.runKey);
    if (claim?.state === 'STARTED') {
      await dequeue(ctx, run);
      continue;
    }
    if (claim?.state === 'FAILED') {
      await setAside(ctx, run);
      holders.delete(run.runId);
      gaveBack = true;
      continue;
    }
    // Refused: the slots filled since the read, or the run released its own since. Whoever freed a
    // slot since drains after freeing it, with a fresh read.
    if (!(await acquireSlot(ctx, pipeline, run.runId, config.maxConcurrentRuns)))
      return { full: true, gaveBack };
    holders.add(run.runId);
    const start = await startExecution(ctx, config.stateMachineArn, run);
    switch (start.outcome) {
      case 'started':
        await markStarted(ctx, run, start.executionArn);
        drained.started.push({ runId: run.runId, executionArn: start.executionArn });
        log('info', 'queued run started', { pipeline, runId: run.runId, runKey: run.runKey });
        await dequeue(ctx, run);
        break;
      case 'exists':
        // Started by a dispatcher that stopped before marking it, and closed since.
        await releaseSlot(ctx, pipeline, run.runId);
        await markStarted(ctx, run, undefined);
        await dequeue(ctx, run);
        holders.delete(run.runId);
        gaveBack = true;
        break;
      case 'refused':
        await parkRun(ctx, run, start);
        drained.failed.push({ runId: run.runId, reason: start.reason });
        holders.delete(run.runId);
        gaveBack = true;
        break;
    }
  }
  return { full: false, gaveBack };
}

/**
 * Finishes setting aside a run whose claim is FAILED: the dispatcher that marked it may have stopped
 * before giving its slot back or removing it from the queue. Both steps are idempotent.
 */
export async function setAside(ctx: DispatcherContext, run: PendingRun): Promise<void> {
  await releaseSlot(ctx, run.pipeline, run.runId);
  await dequeue(ctx, run);
}
