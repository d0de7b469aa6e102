import { existsSync, readFileSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { RUN_STATUSES, type RunReport, type RunStatus } from '../ledger/ledger.ts';
import { type LocalRunResult, LocalRuntime, type LocalTrigger, type RuntimeEvent } from '../local/runtime.ts';
import { lockStateDir } from '../local/state-dir.ts';
import { synthesizeLocal } from '../local/synth.ts';
import type { LocalDeployment } from '../local/template.ts';
import { remoteRuns, resolveStack } from '../remote/index.ts';
import { bucketNames } from '../spec/bucket-uses.ts';
import { s3TriggerMismatch } from '../spec/triggers/s3-object-created.ts';
import type { PipelineDefinition } from '../spec/types.ts';
import { CliUsageError, UnknownPipelineError } from './errors.ts';
import { loadSpecs } from './load-spec.ts';
import type { CliOptions } from './main.ts';
import { formatMs, type Output, ProgressRenderer, renderRunSummary, write } from './render.ts';

export { loadSpecs, write };

export const DEFAULT_STATE_DIR = '.stepwise';

/** Where `--aws` commands reach AWS: `--region` and `--profile` when given, else the default chain. */
export function awsOptions(options: CliOptions): { region?: string; profile?: string } {
  return {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
  };
}

/** The stack an `--aws` command reads: `--stack`, else `Stepwise`. */
export function stackName(options: CliOptions): string {
  return options.stack ?? 'Stepwise';
}

/**
 * `stepwise run <spec> [<spec>...]`: runs the first spec's pipeline. The other specs are deployed
 * beside it, so a run can start them downstream (afterPipeline) or a file can trigger them too.
 */
export async function runCommand(
  specPaths: readonly string[],
  options: CliOptions,
  output: Output,
): Promise<number> {
  const trigger = parseTrigger(options);
  const specs = await loadSpecs(specPaths);
  const spec = specs[0] as PipelineDefinition;
  if (trigger.kind === 's3') checkS3Trigger(spec, trigger);
  return printRunResult(await runLocally(specs, trigger, options, output), options, output);
}

/**
 * Prints what a run (or a redrive) did: the documented object with --json, else its summary and any
 * other runs it set off; dead letters as warnings, and notes (runs of a dead process closed, where a
 * duplicate came from) on stderr. Returns the exit code.
 */
export function printRunResult(
  { report, others, deadLetters, notes }: LocalRunResult,
  options: CliOptions,
  output: Output,
): number {
  if (options.json) {
    // `run --json` prints the documented object; the run's start is in `runs --json`, which sorts by it.
    const { startedAt: _, ...printed } = report;
    write(output, printed);
  } else {
    const tty = Boolean(output.out.isTTY);
    output.out.write(`${renderRunSummary(report, tty)}\n`);
    for (const other of others)
      output.out.write(`\nit also ran pipeline '${other.pipeline}':\n${renderRunSummary(other, tty)}\n`);
  }
  for (const letter of deadLetters)
    output.err.write(
      `warning: a delivery to ${letter.target} failed every attempt (${letter.error}); it is kept in dead-letters.jsonl in the state dir\n`,
    );
  for (const note of notes) output.err.write(`note: ${note}\n`);
  return exitCode(report);
}

export async function runsCommand(pipeline: string, options: CliOptions, output: Output): Promise<number> {
  const status = options.status?.toUpperCase();
  if (status !== undefined && !RUN_STATUSES.includes(status as RunStatus)) {
    throw new CliUsageError(`--status must be one of ${RUN_STATUSES.join(', ')}, got '${options.status}'`);
  }
  const limit = options.limit === undefined ? 20 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new CliUsageError(`--limit must be a whole number of at least 1, got '${options.limit}'`);
  const filter = { ...(status ? { status: status as RunStatus } : {}), limit };
  let runs: RunReport[];
  let where: string;
  if (options.aws) {
    const stack = await resolveStack(stackName(options), {
      need: ['table'],
      overrides: { table: options.table },
      ...awsOptions(options),
    });
    where = `ledger table ${stack.table}`;
    runs = await remoteRuns({
      table: stack.table,
      pipeline,
      ...filter,
      ...awsOptions(options),
    });
  } else {
    const stateDir = stateDirOf(options);
    where = resolve(stateDir);
    if (!existsSync(resolve(stateDir, 'dynamodb'))) {
      if (options.json) write(output, { pipeline, runs: [] });
      else output.out.write(`no local runs yet in ${where}; start one with 'stepwise run <spec>'\n`);
      return 0;
    }
    const runtime = await LocalRuntime.openLedger({ stateDir, command: 'stepwise runs' });
    try {
      runs = await runtime.listRuns(pipeline, filter);
      const any =
        runs.length > 0 ||
        (status !== undefined && (await runtime.listRuns(pipeline, { limit: 1 })).length > 0);
      if (!any) throw new UnknownPipelineError(pipeline, where, await runtime.pipelinesWithRuns());
    } finally {
      await runtime.close();
    }
  }
  if (options.json) write(output, { pipeline, runs });
  else if (runs.length === 0)
    output.out.write(`no runs of '${pipeline}'${status ? ` with status ${status}` : ''} in ${where}\n`);
  else
    output.out.write(
      `${runs.map((r) => `${r.startedAt}  ${renderRunSummary(r, Boolean(output.out.isTTY))}`).join('\n\n')}\n`,
    );
  return 0;
}

/** Synthesizes the pipelines and runs the first once on the local stand-ins, rendering progress unless --json. */
export async function runLocally(
  specs: readonly PipelineDefinition[],
  trigger: LocalTrigger,
  options: CliOptions,
  output: Output,
): Promise<LocalRunResult> {
  const spec = specs[0] as PipelineDefinition;
  const progress = options.json ? undefined : new ProgressRenderer(output);
  const onEvent = (event: RuntimeEvent) => progress?.handle(event);
  const started = Date.now();
  try {
    return await withLocalRuntime(
      specs,
      `stepwise run ${spec.name}`,
      options,
      onEvent,
      async (runtime) => {
        const runStarted = Date.now();
        const result = await runtime.run(spec, trigger);
        onEvent({
          type: 'phase',
          phase: `run (${formatMs(Date.now() - runStarted)} executing)`,
          ms: Date.now() - started,
        });
        return result;
      },
      trigger.kind === 's3' ? [trigger.bucket] : [],
    );
  } finally {
    progress?.close();
  }
}

/**
 * Synthesizes the pipelines into the state dir (locked first: another command may be using it),
 * opens the local stand-ins, hands them to `work`, and closes them whatever happens.
 */
export async function withLocalRuntime<T>(
  specs: readonly PipelineDefinition[],
  command: string,
  options: CliOptions,
  onEvent: (event: RuntimeEvent) => void,
  work: (runtime: LocalRuntime) => Promise<T>,
  extraBuckets: readonly string[] = [],
): Promise<T> {
  checkNestedPipelines(specs);
  const stateDir = stateDirOf(options);
  const started = Date.now();
  const unlock = lockStateDir(stateDir, command);
  let deployment: LocalDeployment;
  try {
    deployment = (await synthesizeLocal(specs, stateDir)).deployment;
  } catch (error) {
    unlock();
    throw error;
  }
  onEvent({ type: 'phase', phase: 'synth', ms: Date.now() - started });
  const buckets = new Set([...extraBuckets, ...bucketNames(specs)]);
  const runtime = await LocalRuntime.open(deployment, { stateDir, command, buckets, onEvent, unlock });
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

/**
 * A `pipeline('x')` task runs pipeline x of the same app, so x's spec must be deployed beside it: said
 * before any synth, with the command that works, rather than as a synth error about a stack.
 */
function checkNestedPipelines(specs: readonly PipelineDefinition[]): void {
  const given = new Set(specs.map((s) => s.name));
  for (const spec of specs) {
    for (const task of spec.tasks) {
      if (task.run.kind !== 'pipeline' || given.has(task.run.pipelineName)) continue;
      const file = spec.specFile === undefined ? '<spec>' : relative(process.cwd(), spec.specFile);
      throw new CliUsageError(
        `task '${task.id}' of '${spec.name}' runs pipeline('${task.run.pipelineName}'), which none of the given specs defines; give its spec too, like stepwise run ${file} <path to ${task.run.pipelineName}'s spec>`,
      );
    }
  }
}

/** The state dir a local command uses: --state-dir, else .stepwise; refused when it names a file. */
export function stateDirOf(options: CliOptions): string {
  const stateDir = options['state-dir'] ?? DEFAULT_STATE_DIR;
  if (existsSync(stateDir) && !statSync(stateDir).isDirectory())
    throw new CliUsageError(
      `--state-dir ${resolve(stateDir)} is a file, not a directory; pass a directory (it is created when missing)`,
    );
  return stateDir;
}

export function exitCode(report: RunReport): number {
  return report.status === 'SUCCEEDED' || report.status === 'DEDUPLICATED' ? 0 : 1;
}

/**
 * `BUCKET/KEY=LOCALFILE`. A key may hold `=` (Hive-style partitions such as `dt=2026-11-01/`), and so may
 * a path: the split is at the `=` after which an existing file is named, the last such one first.
 */
export function parseS3Object(value: string): { bucket: string; key: string; file: string } {
  const usage = `--s3-object takes BUCKET/KEY=LOCALFILE, like raw/orders/dt=2026-11-01/orders.csv=./data.csv; got '${value}'`;
  const slash = value.indexOf('/');
  const bucket = value.slice(0, slash);
  if (slash <= 0 || bucket.includes('=')) throw new CliUsageError(usage);
  const splits: { key: string; file: string }[] = [];
  for (let at = value.lastIndexOf('='); at > slash + 1; at = value.lastIndexOf('=', at - 1)) {
    const file = value.slice(at + 1);
    if (file !== '') splits.push({ key: value.slice(slash + 1, at), file });
  }
  if (splits.length === 0) throw new CliUsageError(usage);
  const found = splits.find((s) => existsSync(s.file) && statSync(s.file).isFile());
  if (found) return { bucket, key: found.key, file: resolve(found.file) };
  const last = splits[0] as { key: string; file: string };
  throw new CliUsageError(
    existsSync(last.file)
      ? `--s3-object: '${last.file}' is a directory; name the local file to upload`
      : `--s3-object: local file '${last.file}' not found`,
  );
}

/** Refuses, before any synth, an --s3-object that would start no run of this pipeline. */
function checkS3Trigger(spec: PipelineDefinition, trigger: Extract<LocalTrigger, { kind: 's3' }>): void {
  const mismatch = s3TriggerMismatch(spec, trigger.bucket, trigger.key);
  if (mismatch) throw new CliUsageError(`--s3-object ${mismatch}`);
}

function parseTrigger(options: CliOptions): LocalTrigger {
  const given = (['input', 's3-object', 'event'] as const).filter((k) => options[k] !== undefined);
  if (given.length > 1)
    throw new CliUsageError(
      `give one of --input, --s3-object or --event, not ${given.map((k) => `--${k}`).join(' and ')}: a run has one trigger`,
    );
  if (options.event !== undefined) return { kind: 'event', event: parseEvent(options.event) };
  if (options['s3-object'] !== undefined) {
    return { kind: 's3', ...parseS3Object(options['s3-object']) };
  }
  if (options.input !== undefined) {
    try {
      return { kind: 'manual', input: JSON.parse(options.input) };
    } catch (error) {
      throw new CliUsageError(
        `--input is not valid JSON: ${(error as Error).message}; quote it for the shell, like --input '{"day":"2026-11-01"}'`,
      );
    }
  }
  return { kind: 'manual' };
}

/** `--event` takes the event as JSON, or `@file.json`; it needs a source and a detail-type, as PutEvents does. */
function parseEvent(text: string): Record<string, unknown> {
  let raw = text;
  if (text.startsWith('@')) {
    const file = text.slice(1);
    if (!existsSync(file)) throw new CliUsageError(`--event: file '${file}' not found`);
    raw = readFileSync(file, 'utf8');
  }
  let event: unknown;
  try {
    event = JSON.parse(raw);
  } catch (error) {
    throw new CliUsageError(`--event is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw new CliUsageError(
      '--event must be one JSON object, like {"source":"acme.billing","detail-type":"Invoice Paid","detail":{}}',
    );
  const e = event as Record<string, unknown>;
  if (typeof e.source !== 'string' || typeof e['detail-type'] !== 'string')
    throw new CliUsageError(
      `--event needs "source" and "detail-type" strings, as EventBridge events have; got keys ${Object.keys(e).join(', ') || 'none'}`,
    );
  return e;
}
