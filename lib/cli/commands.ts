import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { compilePipeline } from '../compile/states.ts';
import { RUN_STATUSES, type RunReport, type RunStatus } from '../ledger/ledger.ts';
import { LocalRuntime, type LocalTrigger, type RuntimeEvent } from '../local/runtime.ts';
import { lockStateDir } from '../local/state-dir.ts';
import { loadSpec, synthesizeLocal } from '../local/synth.ts';
import type { LocalDeployment } from '../local/template.ts';
import { SpecError } from '../spec/errors.ts';
import { s3TriggerMismatch } from '../spec/triggers/s3-object-created.ts';
import type { PipelineDefinition } from '../spec/types.ts';
import { CliUsageError } from './errors.ts';
import { type GraphFormat, renderGraph } from './graph-format.ts';
import type { CliOptions } from './main.ts';
import { formatMs, type Output, ProgressRenderer, renderRunSummary } from './render.ts';

export const DEFAULT_STATE_DIR = '.stepwise';

export async function validateCommand(
  specPath: string,
  options: CliOptions,
  output: Output,
): Promise<number> {
  try {
    const spec = await loadSpec(specPath);
    const compiled = compilePipeline(spec);
    if (options.json) {
      write(output, {
        ok: true,
        pipeline: spec.name,
        tasks: spec.tasks.length,
        states: Object.keys(compiled.definition.States).length,
        exactPlan: compiled.plan.exact,
        problems: [],
      });
    } else {
      output.out.write(
        `ok: pipeline '${spec.name}' is valid: ${spec.tasks.length} tasks, ${compiled.handlers.length} handler functions, ${spec.triggers.length} triggers\n`,
      );
      if (!compiled.plan.exact)
        output.out.write(
          'note: the task graph is not series-parallel; some tasks wait longer than their dependencies require\n',
        );
    }
    return 0;
  } catch (error) {
    if (!(error instanceof SpecError) || !options.json) throw error;
    write(output, { ok: false, pipeline: error.pipeline ?? null, problems: error.issues });
    return 1;
  }
}

export async function graphCommand(specPath: string, options: CliOptions, output: Output): Promise<number> {
  const format = (options.format ?? 'mermaid') as GraphFormat;
  if (format !== 'mermaid' && format !== 'dot')
    throw new CliUsageError(`--format must be mermaid or dot, got '${format}'`);
  const spec = await loadSpec(specPath);
  output.out.write(`${renderGraph(spec, format)}\n`);
  return 0;
}

export async function runCommand(specPath: string, options: CliOptions, output: Output): Promise<number> {
  const trigger = parseTrigger(options);
  const spec = await loadSpec(specPath);
  if (trigger.kind === 's3') checkS3Trigger(spec, trigger);
  const report = await runLocally(spec, trigger, options, output);
  if (options.json) {
    // `run --json` prints the documented object; the run's start is in `runs --json`, which sorts by it.
    const { startedAt: _, ...printed } = report;
    write(output, printed);
  } else {
    output.out.write(`${renderRunSummary(report, Boolean(output.out.isTTY))}\n`);
  }
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
  const stateDir = options['state-dir'] ?? DEFAULT_STATE_DIR;
  if (!existsSync(resolve(stateDir, 'dynamodb'))) {
    if (options.json) write(output, { pipeline, runs: [] });
    else
      output.out.write(`no local runs yet in ${resolve(stateDir)}; start one with 'stepwise run <spec>'\n`);
    return 0;
  }
  const runtime = await LocalRuntime.openLedger({ stateDir, command: 'stepwise runs' });
  try {
    const runs = await runtime.listRuns(pipeline, {
      ...(status ? { status: status as RunStatus } : {}),
      limit,
    });
    if (options.json) write(output, { pipeline, runs });
    else if (runs.length === 0)
      output.out.write(
        `no runs of '${pipeline}'${status ? ` with status ${status}` : ''} in ${resolve(stateDir)}\n`,
      );
    else
      output.out.write(
        `${runs.map((r) => `${r.startedAt}  ${renderRunSummary(r, Boolean(output.out.isTTY))}`).join('\n\n')}\n`,
      );
    return 0;
  } finally {
    await runtime.close();
  }
}

/** Synthesizes the pipeline and runs it once on the local stand-ins, rendering progress unless --json. */
export async function runLocally(
  spec: PipelineDefinition,
  trigger: LocalTrigger,
  options: CliOptions,
  output: Output,
): Promise<RunReport> {
  const stateDir = options['state-dir'] ?? DEFAULT_STATE_DIR;
  const progress = options.json ? undefined : new ProgressRenderer(output);
  const onEvent = (event: RuntimeEvent) => progress?.handle(event);
  const started = Date.now();
  const command = `stepwise run ${spec.name}`;
  // Lock before synthesizing: the assembly goes into the state dir, which another command may be using.
  const unlock = lockStateDir(stateDir, command);
  let deployment: LocalDeployment;
  try {
    deployment = synthesizeLocal([spec], stateDir).deployment;
  } catch (error) {
    unlock();
    throw error;
  }
  onEvent({ type: 'phase', phase: 'synth', ms: Date.now() - started });
  const buckets = spec.triggers.flatMap((t) => (t.kind === 's3ObjectCreated' ? [t.bucket] : []));
  if (spec.quarantine.bucket) buckets.push(spec.quarantine.bucket);
  if (trigger.kind === 's3') buckets.push(trigger.bucket);
  const runtime = await LocalRuntime.open(deployment, { stateDir, command, buckets, onEvent, unlock });
  try {
    const runStarted = Date.now();
    const report = await runtime.run(spec, trigger);
    onEvent({
      type: 'phase',
      phase: `run (${formatMs(Date.now() - runStarted)} executing)`,
      ms: Date.now() - started,
    });
    return report;
  } finally {
    progress?.close();
    await runtime.close();
  }
}

export function exitCode(report: RunReport): number {
  return report.status === 'SUCCEEDED' || report.status === 'DEDUPLICATED' ? 0 : 1;
}

/** Refuses, before any synth, an --s3-object that would start no run of this pipeline. */
function checkS3Trigger(spec: PipelineDefinition, trigger: Extract<LocalTrigger, { kind: 's3' }>): void {
  const mismatch = s3TriggerMismatch(spec, trigger.bucket, trigger.key);
  if (mismatch) throw new CliUsageError(`--s3-object ${mismatch}`);
}

function parseTrigger(options: CliOptions): LocalTrigger {
  if (options.input !== undefined && options['s3-object'] !== undefined) {
    throw new CliUsageError('give --input or --s3-object, not both: a run has one trigger');
  }
  if (options['s3-object'] !== undefined) {
    const match = /^([^/=]+)\/([^=]+)=(.+)$/.exec(options['s3-object']);
    if (!match)
      throw new CliUsageError(
        `--s3-object takes BUCKET/KEY=LOCALFILE, like raw/orders/2026-11-01.csv=./data.csv; got '${options['s3-object']}'`,
      );
    const [, bucket, key, file] = match as unknown as [string, string, string, string];
    if (!existsSync(file)) throw new CliUsageError(`--s3-object: local file '${file}' not found`);
    return { kind: 's3', bucket, key, file: resolve(file) };
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

function write(output: Output, value: unknown): void {
  output.out.write(`${JSON.stringify(value, null, 2)}\n`);
}
