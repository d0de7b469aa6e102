// What every fault case shares: one synthesized app (both fixture pipelines), a runtime per state dir,
// and readers for what a case asserts: the ledger's report, the alerts, and where the S3 input is.
// The cases are spread over several files, which vitest runs in parallel; they share the synth.
import '../local/cli-env.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { type LocalRunResult, LocalRuntime } from '../../lib/local/runtime.ts';
import type { LocalDeployment } from '../../lib/local/template.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { tempStateDir } from '../local/stepwise-cli.ts';
import { sharedApp } from '../support/shared-synth.ts';

export const FAULTY_SPEC = fileURLToPath(new URL('./fixtures/pipeline.ts', import.meta.url));
export const SLOW_SPEC = fileURLToPath(new URL('./fixtures/slow.ts', import.meta.url));
export const STUCK_SPEC = fileURLToPath(new URL('./fixtures/stuck.ts', import.meta.url));
/** The fixture specs, in the order a CLI command given them finds the shared synth cached. */
export const FAULT_SPECS = [FAULTY_SPEC, SLOW_SPEC, STUCK_SPEC] as const;
export const BUCKET = 'inbox';

export interface FaultApp {
  readonly faulty: PipelineDefinition;
  readonly slow: PipelineDefinition;
  readonly stuck: PipelineDefinition;
  readonly deployment: LocalDeployment;
}

/**
 * The fixture pipelines, synthesized into `dir`/cdk.out (from the synth the fault files share), in the
 * order `stepwise run ...FAULT_SPECS` loads them, so such a command on `dir` finds it cached.
 */
export async function synthesizeFaultApp(dir: string): Promise<FaultApp> {
  const {
    pipelines: [faulty, slow, stuck],
    deployment,
  } = await sharedApp('faults', FAULT_SPECS, dir);
  return {
    faulty: faulty as PipelineDefinition,
    slow: slow as PipelineDefinition,
    stuck: stuck as PipelineDefinition,
    deployment,
  };
}

export interface FaultSuite {
  readonly app: FaultApp;
  readonly runtime: LocalRuntime;
  readonly stateDir: string;
  /** Drops a file at `key` into the inbox, for the faulty pipeline, or the stuck one for a `stuck/` key. */
  drop(key: string): Promise<LocalRunResult>;
}

/** One file's fault cases: a runtime on a state dir of its own, opened before its cases and closed after. */
export function faultSuite(name: string): FaultSuite {
  const state = tempStateDir(name);
  let app: FaultApp | undefined;
  let runtime: LocalRuntime | undefined;
  const opened = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the fault suite is used before its beforeAll ran');
    return value;
  };
  beforeAll(async () => {
    app = await synthesizeFaultApp(state.dir);
    runtime = await openRuntime(app, state.dir);
  }, 300_000);
  afterAll(async () => {
    await runtime?.close();
    state.remove();
  });
  return {
    get app() {
      return opened(app);
    },
    get runtime() {
      return opened(runtime);
    },
    stateDir: state.dir,
    drop: (key) => {
      const { faulty, stuck } = opened(app);
      return dropFile(opened(runtime), key.startsWith('stuck/') ? stuck : faulty, state.dir, key);
    },
  };
}

export function openRuntime(app: FaultApp, stateDir: string): Promise<LocalRuntime> {
  return LocalRuntime.open(app.deployment, { stateDir, command: 'fault suite', buckets: [BUCKET] });
}

/** Drops a file at `key` in the inbox bucket, as a user would, and returns what the run did. */
export function dropFile(
  runtime: LocalRuntime,
  pipeline: PipelineDefinition,
  stateDir: string,
  key: string,
  body: unknown = { rows: 2 },
): Promise<LocalRunResult> {
  const file = join(stateDir, `${key.replace(/\W/g, '_')}.upload`);
  writeFileSync(file, JSON.stringify(body));
  return runtime.run(pipeline, { kind: 's3', bucket: BUCKET, key, file });
}

export interface Alert {
  readonly subject: string;
  readonly message: string;
}

/** The alerts sent about one run, from the local SNS sink. */
export function alertsOf(stateDir: string, runId: string): Alert[] {
  const file = join(stateDir, 'alerts.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Alert)
    .filter((a) => a.message.includes(`Run:       ${runId}\n`));
}

/** The S3 client of an open runtime's stand-in (the runtime keeps it private; tests read through it). */
export function s3Of(runtime: LocalRuntime): S3Client {
  return (runtime as unknown as { services: { s3: S3Client } }).services.s3;
}

export async function objectExists(runtime: LocalRuntime, key: string): Promise<boolean> {
  try {
    await s3Of(runtime).send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'NotFound' || (error as Error).name === 'NoSuchKey') return false;
    throw error;
  }
}

export async function deleteObject(runtime: LocalRuntime, key: string): Promise<void> {
  await s3Of(runtime).send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
}

/** Tasks of a report as [id, status, attempts], the shape most cases pin. */
export function taskRows(report: RunReport): [string, string, number][] {
  return report.tasks.map((t) => [t.id, t.status, t.attempts]);
}

/** The last case of a fault file: its runs (at least `runs` of them) all ended, none left RUNNING. */
export function itLeavesNoRunRunning(suite: FaultSuite, runs: number): void {
  it(`leaves no run RUNNING and nothing queued behind the faults (${runs} runs or more)`, async () => {
    const all = [
      ...(await suite.runtime.listRuns('faulty', { limit: 100 })),
      ...(await suite.runtime.listRuns('slow', { limit: 100 })),
      ...(await suite.runtime.listRuns('stuck', { limit: 100 })),
    ];
    expect(all.filter((r) => r.status === 'RUNNING').map((r) => r.runId)).toEqual([]);
    expect(all.length).toBeGreaterThanOrEqual(runs);
  });
}
