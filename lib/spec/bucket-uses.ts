import { serviceAdapter } from './adapters/registry.ts';
import type { PipelineDefinition, S3ObjectCreatedTrigger } from './types.ts';

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
    const { run } = task;
    if (run.kind !== 'lambda') {
      for (const { name, field } of serviceAdapter(run).buckets?.(run) ?? [])
        uses.push({ name, path: `tasks.${task.id}.run.${field}` });
      continue;
    }
    for (const access of ['reads', 'writes'] as const) {
      for (const [index, name] of (run[access] ?? []).entries()) {
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

/**
 * Whether an object the quarantine writes can match the watching trigger's key pattern: some key
 * `quarantinePrefix + source.prefix + x + source.suffix` that is also `watch.prefix + y + watch.suffix`.
 * Buckets are the caller's to compare. A '*' in a prefix or suffix is an EventBridge wildcard, so only
 * the literal part before (or after) it counts: this may refuse a pattern that could not loop, never
 * accept one that could.
 */
export function quarantineKeysMatch(
  quarantinePrefix: string,
  source: Pick<S3ObjectCreatedTrigger, 'prefix' | 'suffix'>,
  watch: Pick<S3ObjectCreatedTrigger, 'prefix' | 'suffix'>,
): boolean {
  const start = `${quarantinePrefix}${literalPrefix(source.prefix)}`;
  const end = literalSuffix(source.suffix);
  const watchStart = literalPrefix(watch.prefix);
  const watchEnd = literalSuffix(watch.suffix);
  return (
    (start.startsWith(watchStart) || watchStart.startsWith(start)) &&
    (end.endsWith(watchEnd) || watchEnd.endsWith(end))
  );
}

/** An S3 trigger that watches where a pipeline's own quarantine writes, in the spec's own names. */
export interface WatchedQuarantine {
  /** Where the watching trigger is, such as `triggers[0]`. */
  readonly path: string;
  readonly trigger: S3ObjectCreatedTrigger;
  /** The trigger whose objects the quarantine moves. */
  readonly source: S3ObjectCreatedTrigger;
}

/**
 * The spec's own S3 triggers that would see what its quarantine writes: same bucket name, matching
 * key. Each is a loop: the quarantined copy starts a run, which is quarantined again. The synth checks
 * the same across every pipeline of the app, by real bucket.
 */
export function watchedQuarantines(spec: PipelineDefinition): WatchedQuarantine[] {
  const triggers = spec.triggers.flatMap((trigger, index) =>
    trigger.kind === 's3ObjectCreated' ? [{ path: `triggers[${index}]`, trigger }] : [],
  );
  const found: WatchedQuarantine[] = [];
  for (const { trigger: source } of triggers) {
    const target = spec.quarantine.bucket ?? source.bucket;
    for (const watch of triggers) {
      if (
        watch.trigger.bucket === target &&
        quarantineKeysMatch(spec.quarantine.prefix, source, watch.trigger)
      ) {
        found.push({ ...watch, source });
      }
    }
  }
  return found;
}

function literalPrefix(prefix: string | undefined): string {
  return (prefix ?? '').split('*')[0] ?? '';
}

function literalSuffix(suffix: string | undefined): string {
  return (suffix ?? '').split('*').at(-1) ?? '';
}
