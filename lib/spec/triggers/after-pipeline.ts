import type { AfterPipelineTrigger } from '../types.ts';

/**
 * Runs the pipeline when another pipeline's run succeeds, through the "Run Finished" event the
 * recorder sends to the default event bus. Given several pipelines, it is a join: the run starts once
 * every one of them has succeeded for the same logical time, and that logical time becomes the run's.
 * Each upstream run triggers at most one run here.
 */
export function afterPipeline(upstreams: string | readonly string[]): AfterPipelineTrigger {
  return { kind: 'afterPipeline', upstreams: typeof upstreams === 'string' ? [upstreams] : [...upstreams] };
}
