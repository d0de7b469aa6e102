// dist/ for the tests that read the built package (package.test.ts, and init.test.ts, whose projects load
// `stepwise-cdk` through its `exports`). `npm test` does not build first: the build (~15 s of CPU on a
// fresh clone) runs here, beside the other test files, not before all of them. CI builds before testing
// (.ci/run), so there dist/ is current and nothing is built.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
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
 * the same time: one builds, under a lock directory naming its process, and the others wait for it and
 * then find dist/ current. A lock left by a process that died is taken over.
 */
export async function ensureBuilt(): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (distIsCurrent()) return;
    if (takeLock()) {
      try {
        if (!distIsCurrent()) await build();
      } finally {
        rmSync(LOCK, { recursive: true, force: true });
      }
      return;
    }
    if (Date.now() > deadline)
      throw new Error(`dist/ was not built within ${WAIT_MS / 1000} s: ${LOCK} is held; remove it and retry`);
    await sleep(250);
  }
}

function takeLock(): boolean {
  mkdirSync(join(LOCK, '..'), { recursive: true });
  try {
    mkdirSync(LOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (holderIsAlive()) return false;
    rmSync(LOCK, { recursive: true, force: true });
    return takeLock();
  }
  writeFileSync(join(LOCK, 'pid'), String(process.pid));
  return true;
}

function holderIsAlive(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
  } catch {
    return true; // just made, its pid not written yet
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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
