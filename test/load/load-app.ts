// What the load files share: one synthesized app (both fixture pipelines, from the synth the load files
// share), a runtime per case, and the checks every case makes. Every case counts, never times.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import type { LocalDeployment } from '../../lib/local/template.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { tempStateDir } from '../local/stepwise-cli.ts';
import { sharedApp } from '../support/shared-synth.ts';

export const HOURLY = fileURLToPath(new URL('./fixtures/hourly-pair.ts', import.meta.url));
export const BURST = fileURLToPath(new URL('./fixtures/burst.ts', import.meta.url));

export interface LoadApp {
  readonly hourly: PipelineDefinition;
  readonly burst: PipelineDefinition;
  readonly deployment: LocalDeployment;
  /** The state dir the app was synthesized into: a CLI command on a copy of its cdk.out finds it cached. */
  readonly synthDir: string;
}

/** The load app, synthesized before the file's cases, in the order `stepwise <cmd> HOURLY BURST` loads it. */
export function loadApp(): LoadApp {
  const synth = tempStateDir('load-synth');
  let app: Omit<LoadApp, 'synthDir'> | undefined;
  beforeAll(async () => {
    const {
      pipelines: [hourly, burst],
      deployment,
    } = await sharedApp('load', [HOURLY, BURST], synth.dir);
    app = {
      hourly: hourly as PipelineDefinition,
      burst: burst as PipelineDefinition,
      deployment: withPatientDispatcher(deployment),
    };
  }, 300_000);
  afterAll(() => synth.remove());
  const ready = (): Omit<LoadApp, 'synthDir'> => {
    if (!app) throw new Error('the load app is used before its beforeAll ran');
    return app;
  };
  return {
    get hourly() {
      return ready().hourly;
    },
    get burst() {
      return ready().burst;
    },
    get deployment() {
      return ready().deployment;
    },
    synthDir: synth.dir,
  };
}

/**
 * The deployment with the dispatcher's Lambda timeout raised from its 30 s to Lambda's maximum, for
 * these cases only. On AWS each concurrent invocation has a sandbox of its own; the local host runs
 * them all on one worker thread, and its timer starts when the invocation is sent. A wave of 50
 * dispatches on a machine busy with other work then queues long enough for the last ones to pass
 * 30 s, and their slots end DROPPED: a count test would fail on a timing. The cases count what the
 * dispatcher does, not how fast.
 */
function withPatientDispatcher(deployment: LocalDeployment): LocalDeployment {
  const functions = new Map(
    [...deployment.functions].map(([arn, fn]) => [
      arn,
      fn.logicalId.includes('Dispatcher') ? { ...fn, timeoutSeconds: LAMBDA_MAX_TIMEOUT_SECONDS } : fn,
    ]),
  );
  if (![...functions.values()].some((fn) => fn.timeoutSeconds === LAMBDA_MAX_TIMEOUT_SECONDS))
    throw new Error('the load app has no dispatcher function to give more time');
  return { ...deployment, functions };
}

const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/** Runs `work` on a runtime of the app on `stateDir`, and closes it. */
export async function withRuntime<T>(
  app: LoadApp,
  stateDir: string,
  work: (runtime: LocalRuntime) => Promise<T>,
): Promise<T> {
  const runtime = await LocalRuntime.open(app.deployment, { stateDir, command: 'load test', buckets: [] });
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

/** Every run row of a pipeline, with its attempts, as `runs` lists them. */
export const allRuns = (runtime: LocalRuntime, pipeline: string) =>
  runtime.listRuns(pipeline, { limit: 10_000 });

/** Each run SUCCEEDED with both tasks recorded once, SUCCEEDED. */
export function expectWhole(runs: readonly RunReport[]): void {
  for (const run of runs) {
    expect([run.runId, run.status]).toEqual([run.runId, 'SUCCEEDED']);
    expect([run.runId, run.tasks.map((t) => [t.id, t.status, t.attempts])]).toEqual([
      run.runId,
      [
        ['extract', 'SUCCEEDED', 1],
        ['load', 'SUCCEEDED', 1],
      ],
    ]);
  }
}

/** The schedule slot of each run. */
export const slotsOf = (runs: readonly RunReport[]) => runs.map((r) => (r.trigger as { time: string }).time);

export const cdkOut = (dir: string) => join(dir, 'cdk.out');
