import { drain } from './admission.ts';
import type { PipelineConfig } from './config.ts';
import type { DispatcherContext } from './context.ts';
import { releaseSlot } from './slots.ts';
import { log } from './telemetry.ts';

/**
 * A run finished: free its slot, then start queued runs into the free slots. A redelivered event frees
 * nothing more and finds nothing more to start.
 */
export async function slotReleased(
  ctx: DispatcherContext,
  config: PipelineConfig,
  finished: { readonly pipeline: string; readonly runId: string; readonly status: string },
): Promise<{ status: 'RELEASED'; pipeline: string; runId: string; started: string[] }> {
  await releaseSlot(ctx, finished.pipeline, finished.runId);
  const started = (await drain(ctx, config, finished.pipeline)).started.map((run) => run.runId);
  log('info', 'slot released', {
    pipeline: finished.pipeline,
    runId: finished.runId,
    status: finished.status,
    started,
  });
  return { status: 'RELEASED', pipeline: finished.pipeline, runId: finished.runId, started };
}
