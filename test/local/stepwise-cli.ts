// Drives the CLI in this process, through `main(argv, output)`, the way the bin entry does.
import './cli-env.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { main } from '../../lib/cli/main.ts';
import { startServices } from '../../lib/local/services.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /**
   * What reached this process's own stdout while the command ran, around `output`: in the real CLI
   * that is the same stream, so anything here would break `--json`.
   */
  readonly strayStdout: string;
}

/** Runs `stepwise <argv>` and returns its exit code and everything it printed. */
export async function stepwise(...argv: string[]): Promise<CliResult> {
  const out = collector();
  const err = collector();
  const stray: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stray.push(chunk.toString());
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await main(argv, { out: out.stream, err: err.stream });
    return { code, stdout: out.text(), stderr: err.text(), strayStdout: stray.join('') };
  } finally {
    process.stdout.write = write;
  }
}

/** The one JSON object a `--json` command prints; fails when stdout is anything else. */
export function jsonOf<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(
      `stdout is not one JSON object (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

/** A file of the local fixtures, as an absolute path. */
export function fixture(path: string): string {
  return fileURLToPath(new URL(`../fixtures/local/${path}`, import.meta.url));
}

/** A fresh state dir, and its removal. */
export function tempStateDir(name: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `stepwise-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A stack trace line, which only --debug may print. */
export const STACK_LINE = /^\s+at .+[:(]/m;

/** `run --json`, as DESIGN.md documents it. */
export interface RunJson {
  readonly runId: string;
  readonly pipeline: string;
  readonly status: string;
  readonly trigger: Record<string, unknown>;
  readonly tasks: readonly TaskJson[];
  readonly transitions: number;
  readonly durationMs: number;
  readonly quarantine?: { readonly bucket: string; readonly key: string; readonly reason: string };
  readonly warnings?: readonly string[];
}

export interface TaskJson {
  readonly id: string;
  readonly status: string;
  readonly attempts: number;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly error?: string;
}

export function taskOf(run: RunJson, id: string): TaskJson {
  const task = run.tasks.find((t) => t.id === id);
  if (!task) throw new Error(`run ${run.runId} has no task '${id}'`);
  return task;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/**
 * What the local S3 store of a state dir holds under these keys (null for a missing one), read with the
 * S3 SDK while no command holds the state dir.
 */
export async function s3Objects(
  stateDir: string,
  bucket: string,
  keys: readonly string[],
): Promise<Record<string, string | null>> {
  const services = await startServices(stateDir);
  try {
    const found: Record<string, string | null> = {};
    for (const key of keys) {
      try {
        await services.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        const object = await services.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        found[key] = (await object.Body?.transformToString()) ?? '';
      } catch (error) {
        if ((error as Error).name !== 'NotFound' && (error as Error).name !== 'NoSuchKey') throw error;
        found[key] = null;
      }
    }
    return found;
  } finally {
    await services.close();
  }
}
