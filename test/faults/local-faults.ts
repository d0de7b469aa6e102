// What every fault case shares: one synthesized app (both fixture pipelines), a runtime per state dir,
// and readers for what a case asserts: the ledger's report, the alerts, and where the S3 input is.
import '../local/cli-env.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { loadSpec } from '../../lib/cli/load-spec.ts';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { type LocalRunResult, LocalRuntime } from '../../lib/local/runtime.ts';
import { synthesizeLocal } from '../../lib/local/synth.ts';
import type { LocalDeployment } from '../../lib/local/template.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';

export const FAULTY_SPEC = fileURLToPath(new URL('./fixtures/pipeline.ts', import.meta.url));
export const SLOW_SPEC = fileURLToPath(new URL('./fixtures/slow.ts', import.meta.url));
export const BUCKET = 'inbox';

export interface FaultApp {
  readonly faulty: PipelineDefinition;
  readonly slow: PipelineDefinition;
  readonly deployment: LocalDeployment;
}

/** Synthesizes both fixture pipelines once, into `dir`/cdk.out. */
export async function synthesizeFaultApp(dir: string): Promise<FaultApp> {
  const faulty = await loadSpec(FAULTY_SPEC);
  const slow = await loadSpec(SLOW_SPEC);
  const { deployment } = await synthesizeLocal([faulty, slow], dir);
  return { faulty, slow, deployment };
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
