// One synthesis of a fixture app for every test file that runs it. Vitest runs files in parallel forks,
// and a CDK synth is the costliest part of a local test's setup: the first fork that needs an app
// synthesizes it into a directory they share, under a lock so that two forks never write one assembly
// at once; the others wait for it and find it cached (the synth cache checks the specs, the bundled
// files and stepwise's own code, so an edit still gets a fresh synth). Each file then works on its own
// copy of the assembly, so a later synth for another file never changes the bundles under a running test.
import '../local/cli-env.ts';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpec } from '../../lib/cli/load-spec.ts';
import { synthesizeLocal } from '../../lib/local/synth.ts';
import type { LocalDeployment } from '../../lib/local/template.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { withLock } from './process-lock.ts';

/** Where the shared assemblies live: beside the bundle cache, outside any test's temporary dir. */
const SHARED_ROOT = fileURLToPath(
  new URL('../../node_modules/.cache/stepwise-cdk/test-apps/', import.meta.url),
);

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
  await withLock(`${shared}.lock`, 'the shared synth lock', LOCK_WAIT_MS, async () => {
    await synthesizeLocal(pipelines, shared);
    rmSync(join(stateDir, 'cdk.out'), { recursive: true, force: true });
    cpSync(join(shared, 'cdk.out'), join(stateDir, 'cdk.out'), { recursive: true });
  });
  // A cache hit, unless stepwise's code changed since the shared synth: then this copy is synthesized anew.
  const { deployment } = await synthesizeLocal(pipelines, stateDir);
  return { pipelines, deployment };
}
