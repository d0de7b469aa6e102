// One synthesis of a fixture app for every test file that runs it. Vitest runs files in parallel forks,
// and a CDK synth is the costliest part of a local test's setup: the first fork that needs an app
// synthesizes it into a directory they share, under a lock so that two forks never write one assembly
// at once; the others wait for it and find it cached (the synth cache checks the specs, the bundled
// files and stepwise's own code, so an edit still gets a fresh synth). Each file then works on its own
// copy of the assembly, so a later synth for another file never changes the bundles under a running test.
import '../local/cli-env.ts';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpec } from '../../lib/cli/load-spec.ts';
import { synthesizeLocal } from '../../lib/local/synth.ts';
import type { LocalDeployment } from '../../lib/local/template.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';

/** Where the shared assemblies live: beside the bundle cache, outside any test's temporary dir. */
const SHARED_ROOT = fileURLToPath(
  new URL('../../node_modules/.cache/stepwise-cdk/test-apps/', import.meta.url),
);

/** A lock whose holder wrote no pid within this long died while taking it. */
const UNCLAIMED_LOCK_MS = 30_000;
/** How long a fork waits for another's synth before it gives up, naming the lock to remove. */
const LOCK_WAIT_MS = 600_000;

export interface SharedApp {
  /** The pipelines, in the order of the spec files given. */
  readonly pipelines: readonly PipelineDefinition[];
  readonly deployment: LocalDeployment;
}

/**
 * The app of these spec files (in this order, the order a CLI command given them loads them in),
 * synthesized into `<stateDir>/cdk.out` from the shared synth named `name`. A CLI command on
 * `stateDir` with the same specs finds it cached.
 */
export async function sharedApp(
  name: string,
  specFiles: readonly string[],
  stateDir: string,
): Promise<SharedApp> {
  const pipelines: PipelineDefinition[] = [];
  for (const file of specFiles) pipelines.push(await loadSpec(file));
  const shared = join(SHARED_ROOT, name);
  await withLock(`${shared}.lock`, async () => {
    await synthesizeLocal(pipelines, shared);
    rmSync(join(stateDir, 'cdk.out'), { recursive: true, force: true });
    cpSync(join(shared, 'cdk.out'), join(stateDir, 'cdk.out'), { recursive: true });
  });
  // A cache hit, unless stepwise's code changed since the shared synth: then this copy is synthesized anew.
  const { deployment } = await synthesizeLocal(pipelines, stateDir);
  return { pipelines, deployment };
}

/** Runs `work` holding a lock between processes: a directory only one of them can create. */
async function withLock<T>(lockDir: string, work: () => Promise<T>): Promise<T> {
  mkdirSync(join(lockDir, '..'), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (lockIsStale(lockDir)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(
        `waited ${LOCK_WAIT_MS / 1000} s for the shared synth lock ${lockDir}; remove it if no test runs`,
      );
    // Another fork is synthesizing: nothing to await across processes, so look again shortly.
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  writeFileSync(join(lockDir, 'pid'), String(process.pid));
  try {
    return await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** The lock's holder has exited, or never wrote its pid. */
function lockIsStale(lockDir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
  } catch {
    try {
      return Date.now() - statSync(lockDir).mtimeMs > UNCLAIMED_LOCK_MS;
    } catch {
      return false; // released meanwhile
    }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
