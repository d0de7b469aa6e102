import type { PipelineDefinition } from './types.ts';

/** One place a spec names a data bucket, such as `tasks.ingest.run.reads[0]`. */
export interface BucketUse {
  /** The name the spec uses, which `Pipeline`'s `buckets` maps to a real bucket. */
  readonly name: string;
  /** Where the spec names it. */
  readonly path: string;
}

/**
 * Every place the spec names a data bucket: its `s3ObjectCreated` triggers, its tasks' `reads` and
 * `writes`, and `quarantine.bucket`, in that order.
 */
export function bucketUses(spec: PipelineDefinition): BucketUse[] {
  const uses: BucketUse[] = [];
  for (const [index, trigger] of spec.triggers.entries()) {
    if (trigger.kind === 's3ObjectCreated')
      uses.push({ name: trigger.bucket, path: `triggers[${index}].bucket` });
  }
  for (const task of spec.tasks) {
    for (const access of ['reads', 'writes'] as const) {
      for (const [index, name] of (task.run[access] ?? []).entries()) {
        uses.push({ name, path: `tasks.${task.id}.run.${access}[${index}]` });
      }
    }
  }
  if (spec.quarantine.bucket !== undefined)
    uses.push({ name: spec.quarantine.bucket, path: 'quarantine.bucket' });
  return uses;
}

/** The distinct bucket names the specs use, in the order first used. */
export function bucketNames(specs: readonly PipelineDefinition[]): string[] {
  return [...new Set(specs.flatMap((spec) => bucketUses(spec).map((use) => use.name)))];
}
