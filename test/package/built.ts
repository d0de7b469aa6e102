// dist/ for the tests that read the built package (package.test.ts, and init.test.ts, whose projects load
// `stepwise-cdk` through its `exports`). `npm test` does not build first: the build (~15 s of CPU on a
// fresh clone) runs here, beside the other test files, not before all of them. CI builds before testing
// (.ci/run), so there dist/ is current and nothing is built.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withLock } from '../support/process-lock.ts';
import { repositoryRoot } from './linked-project.ts';

const run = promisify(execFile);

/** What the build reads: dist/ is current when it was built after the last change to any of them. */
const INPUTS = [
  'lib',
  'lambdas',
  'bin/stepwise.ts',
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts/build.mjs',
];

/** Whether dist/ was built after the last change to its inputs: build.mjs writes dist/package.json last. */
export function distIsCurrent(): boolean {
  const marker = join(repositoryRoot, 'dist', 'package.json');
  if (!existsSync(marker)) return false;
  const built = statSync(marker).mtimeMs;
  const newest = (path: string): number => {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.mtimeMs;
    return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
  };
  return INPUTS.every((input) => newest(join(repositoryRoot, input)) < built);
}

const LOCK = join(repositoryRoot, 'node_modules', '.cache', 'stepwise-cdk', 'build.lock');
const WAIT_MS = 300_000;

/**
 * Builds dist/ (`npm run build`, incremental) unless it is current. Test files in other forks may ask at
 * the same time: one builds, under a lock, and the others wait for it and then find dist/ current.
 */
export async function ensureBuilt(): Promise<void> {
  if (distIsCurrent()) return;
  await withLock(LOCK, 'the build lock', WAIT_MS, async () => {
    if (!distIsCurrent()) await build();
  });
}

async function build(): Promise<void> {
  try {
    await run(process.execPath, [join(repositoryRoot, 'scripts/build.mjs')], {
      cwd: repositoryRoot,
      timeout: WAIT_MS,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed, so dist/ cannot be tested:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}
