import * as z from 'zod/mini';
import { admit, drain, setAside } from './admission.ts';
import { claimRunKey, recordDuplicate } from './claim.ts';
import { type PipelineConfig, PipelineConfigError, pipelineConfig, pipelineVariable } from './config.ts';
import type { DispatcherContext, PendingRun } from './context.ts';
import { type Envelope, envelopeSchema } from './envelope.ts';
import { explainIssue } from './issues.ts';
import { recordArrival } from './join.ts';
import { slotReleased } from './release.ts';
import { isoInstant, joinRequest, joinRunKey, type RunRequest, runRequest } from './run-key.ts';
import { executionInput, expiresAtSeconds } from './start.ts';
import { countMetric, log } from './telemetry.ts';

export type DispatchResult =
  | { status: 'STARTED'; pipeline: string; runId: string; runKey: string; executionArn: string }
  /** Every concurrency slot is taken; the run starts when one is freed. */
  | { status: 'QUEUED'; pipeline: string; runId: string; runKey: string }
  /** `runId` is the run this trigger repeats; `duplicateRowId` the DEDUPLICATED ledger row written for it. */
  | { status: 'DEDUPLICATED'; pipeline: string; runId: string; runKey: string; duplicateRowId: string }
  /** Step Functions refused the start for good: the run is recorded FAILED with `reason`, and alerted. */
  | { status: 'FAILED'; pipeline: string; runId: string; runKey: string; reason: string }
  /** A join that still misses upstreams for this logical time. */
  | { status: 'WAITING'; pipeline: string; runKey: string; waitingFor: string[] }
  /** A finished run's slot is free again; `started` are the queued runs started into free slots. */
  | { status: 'RELEASED'; pipeline: string; runId: string; started: string[] }
  | { status: 'DROPPED'; reason: string };

/**
 * Turns an event into at most one run: validates it, computes its run key, claims the key with a
 * conditional put, and starts the execution under a name derived from the key, within the pipeline's
 * concurrency limit. A duplicate is recorded in the ledger as DEDUPLICATED and goes no further. A
 * malformed event, or one for a pipeline this dispatcher does not serve, is logged, counted and dropped:
 * retrying it could never succeed.
 */
export async function dispatch(
  ctx: DispatcherContext,
  env: Readonly<Record<string, string | undefined>>,
  event: unknown,
): Promise<DispatchResult> {
  const parsed = envelopeSchema.safeParse(event, { error: explainIssue });
  if (!parsed.success) return drop(`malformed trigger event: ${z.prettifyError(parsed.error)}`, event);
  const envelope = parsed.data;
  const pipeline = envelope.kind === 'finished' ? envelope.event.detail.pipeline : envelope.pipeline;
  const config = configOf(env, pipeline);
  if (!config)
    return drop(
      `no pipeline named '${pipeline}' is deployed with this dispatcher: its environment has no ${pipelineVariable(pipeline)}`,
      event,
    );
  switch (envelope.kind) {
    case 'finished':
      return slotReleased(ctx, config, envelope.event.detail);
    case 'pipeline':
      return afterPipeline(ctx, config, envelope, event);
    default:
      return trigger(ctx, config, runRequest(envelope, ctx.now));
  }
}

/** A malformed variable is a deployment mistake: throw, so the event waits in the DLQ for the fix. */
function configOf(
  env: Readonly<Record<string, string | undefined>>,
  pipeline: string,
): PipelineConfig | undefined {
  try {
    return pipelineConfig(env, pipeline);
  } catch (error) {
    if (error instanceof PipelineConfigError) log('error', error.message, { pipeline });
    throw error;
  }
}

async function afterPipeline(
  ctx: DispatcherContext,
  config: PipelineConfig,
  envelope: Extract<Envelope, { kind: 'pipeline' }>,
  event: unknown,
): Promise<DispatchResult> {
  const { detail } = envelope.event;
  const upstreams = [...new Set(envelope.upstreams)];
  if (!upstreams.includes(detail.pipeline))
    return drop(
      `'${detail.pipeline}' is not an upstream of '${envelope.pipeline}' (its upstreams are ${upstreams.join(', ')}); the rule that sent this event matches too much`,
      event,
      envelope.pipeline,
    );
  if (detail.status !== 'SUCCEEDED')
    return drop(
      `upstream run ${detail.runId} of '${detail.pipeline}' ended ${detail.status}; '${envelope.pipeline}' runs only after a SUCCEEDED one`,
      event,
      envelope.pipeline,
    );
  if (upstreams.length === 1) return trigger(ctx, config, runRequest({ ...envelope, upstreams }, ctx.now));

  const logicalTime = isoInstant(detail.logicalTime);
  const expiresAt = expiresAtSeconds(ctx.now(), config.retentionDays);
  const arrived = (
    await recordArrival(
      ctx,
      envelope.pipeline,
      logicalTime,
      { pipeline: detail.pipeline, runId: detail.runId },
      expiresAt,
    )
  ).filter((run) => upstreams.includes(run.pipeline));
  const waitingFor = upstreams.filter((name) => !arrived.some((run) => run.pipeline === name));
  if (waitingFor.length > 0) {
    const runKey = joinRunKey(upstreams, logicalTime);
    log('info', 'join waiting for upstreams', { pipeline: envelope.pipeline, runKey, waitingFor });
    return { status: 'WAITING', pipeline: envelope.pipeline, runKey, waitingFor };
  }
  // Both last arrivals of a race get here; the run-key claim lets one of them through.
  return trigger(ctx, config, joinRequest(envelope.pipeline, arrived, logicalTime));
}

async function trigger(
  ctx: DispatcherContext,
  config: PipelineConfig,
  request: RunRequest,
): Promise<DispatchResult> {
  const now = ctx.now();
  const expiresAt = expiresAtSeconds(now, config.retentionDays);
  const run: PendingRun = {
    pipeline: request.pipeline,
    runId: request.runId,
    runKey: request.runKey,
    claimedAt: now.toISOString(),
    input: executionInput(request, expiresAt),
  };
  const claim = await claimRunKey(ctx, run, expiresAt);
  if (claim.claimed) return admitted(ctx, config, request, run, false, expiresAt);
  const { existing } = claim;
  if (existing.state === 'CLAIMED') {
    // Its dispatcher stopped between the claim and the start, or is still on its way. Starting with the
    // claim's own name and input either starts the run or joins the execution already started.
    log('warn', 'finishing the start of an earlier delivery of this trigger', {
      pipeline: run.pipeline,
      runId: existing.runId,
      runKey: run.runKey,
      claimedAt: existing.claimedAt,
    });
    return admitted(ctx, config, request, existing, true, expiresAt);
  }
  // A FAILED claim is a run Step Functions refused to start, recorded and alerted: not retried. The
  // delivery that set it aside may have stopped before giving its slot back or leaving the queue.
  if (existing.state === 'FAILED') await setAside(ctx, existing);
  // A delivery that stopped after queueing, or after giving a slot back, may not have drained; this
  // redelivery does it instead (a drain of an empty queue is one read).
  await drain(ctx, config, request.pipeline);
  return duplicate(ctx, request, existing.runId, expiresAt);
}

async function admitted(
  ctx: DispatcherContext,
  config: PipelineConfig,
  request: RunRequest,
  run: PendingRun,
  recovering: boolean,
  expiresAt: number,
): Promise<DispatchResult> {
  const admission = await admit(ctx, config, run, recovering);
  const { pipeline, runId, runKey } = run;
  switch (admission.outcome) {
    case 'started':
      log('info', 'run started', { pipeline, runId, runKey, executionArn: admission.executionArn });
      return { status: 'STARTED', pipeline, runId, runKey, executionArn: admission.executionArn };
    case 'queued':
      return { status: 'QUEUED', pipeline, runId, runKey };
    case 'exists':
      return duplicate(ctx, request, runId, expiresAt);
    case 'failed':
      return { status: 'FAILED', pipeline, runId, runKey, reason: admission.reason };
  }
}

async function duplicate(
  ctx: DispatcherContext,
  request: RunRequest,
  duplicateOf: string,
  expiresAt: number,
): Promise<DispatchResult> {
  const duplicateRowId = await recordDuplicate(ctx, request, duplicateOf, expiresAt);
  countMetric('DeduplicatedRuns', request.pipeline);
  log('info', 'duplicate trigger', {
    pipeline: request.pipeline,
    runKey: request.runKey,
    duplicateOf,
    duplicateRowId,
  });
  return {
    status: 'DEDUPLICATED',
    pipeline: request.pipeline,
    runId: duplicateOf,
    runKey: request.runKey,
    duplicateRowId,
  };
}

/** `pipeline` only when this dispatcher serves it, so it may become a metric dimension. */
function drop(reason: string, event: unknown, pipeline?: string): DispatchResult {
  log('warn', `dropped: ${reason}`, { ...(pipeline === undefined ? {} : { pipeline }), event });
  countMetric('DroppedEvents', pipeline);
  return { status: 'DROPPED', reason };
}
