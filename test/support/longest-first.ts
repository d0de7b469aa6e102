// The order vitest hands test files to its two forks: longest first, so that the last file to start is a
// short one and both forks finish close together (the longest-processing-time rule). Vitest's own
// sequencer does this only from the durations cached by an earlier run on the same machine; on a fresh
// checkout (CI runs `npm ci`, which empties node_modules/.vite) it falls back to file size, and the
// load files, 30-odd lines each and among the longest to run, went last and ran alone at the end.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds each file took in a full run on this 2-core machine, near idle, setup included (see
 * `file-durations.json`). Only the order matters; a file missing from it counts as a short one.
 */
const MEASURED: Readonly<Record<string, number>> = JSON.parse(
  readFileSync(new URL('./file-durations.json', import.meta.url), 'utf8'),
) as Record<string, number>;

/** Seconds assumed for a file neither measured nor cached: most files take a few seconds. */
const UNKNOWN_SECONDS = 5;

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const seconds = (spec: TestSpecification): number => {
      const path = relative(root, spec.moduleId).split('\\').join('/');
      const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${path}`);
      // A file that failed last time runs first, as with vitest's own sequencer.
      if (cached?.failed) return Number.POSITIVE_INFINITY;
      return MEASURED[path] ?? (cached ? cached.duration / 1000 : UNKNOWN_SECONDS);
    };
    return [...files].sort((a, b) => seconds(b) - seconds(a));
  }
}
