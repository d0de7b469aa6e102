// Local runs of a service adapter's fixtures through their stand-ins, shared by the adapter tests: a
// pipeline that succeeds, one whose stand-in throws, and the second again on the same app with some of
// the state machine role's statements taken out, so the local IAM check denies the service call.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadSpec } from '../../lib/cli/load-spec.ts';
import type { StateMachineDefinition } from '../../lib/compile/asl.ts';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { loadExecution } from '../../lib/local/saved-executions.ts';
import { synthesizeLocal } from '../../lib/local/synth.ts';
import { readDeployment, readTemplate } from '../../lib/local/template.ts';
import { SpecError } from '../../lib/spec/errors.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { type CliResult, stepwise, tempStateDir } from '../local/stepwise-cli.ts';
import { substitute } from '../private/run-definition.ts';

export interface ServiceRuns {
  readonly ok: RunReport;
  readonly failed: RunReport;
  readonly denied: RunReport;
  /** What each task of the successful run returned (a stand-in's raw result, before ResultSelector). */
  readonly outputs: Readonly<Record<string, unknown>>;
}

/**
 * Runs `okSpec` and `failingSpec` once each on one synthesized app in `dir`, then `failingSpec` again
 * with the role statements whose actions `deny` matches removed. The IAM check comes before the stand-in,
 * so that run is denied; it is `failingSpec`'s because its retry waits 1 s, where `okSpec` keeps the
 * adapter's default retry (60 s, full jitter), which AccessDenied goes through as on AWS.
 */
export async function runServiceFixtures(
  dir: string,
  okSpec: string,
  failingSpec: string,
  deny: (actions: string) => boolean,
): Promise<ServiceRuns> {
  const [pipeline, failing] = await Promise.all([loadSpec(okSpec), loadSpec(failingSpec)]);
  const synth = await synthesizeLocal([pipeline, failing], join(dir, 'synth'));
  const runtime = await LocalRuntime.open(synth.deployment, {
    stateDir: dir,
    command: 'adapter test',
    buckets: [],
  });
  let ok: RunReport;
  let failed: RunReport;
  try {
    ok = (await runtime.run(pipeline, { kind: 'manual', input: {} })).report;
    failed = (await runtime.run(failing, { kind: 'manual', input: {} })).report;
  } finally {
    await runtime.close();
  }
  const denied = await runWithoutStatements(synth.assemblyDir, join(dir, 'denied'), failing, (_, actions) =>
    deny(actions),
  );
  const outputs = loadExecution(dir, ok.runId)?.succeededOutputs ?? {};
  return { ok, failed, denied, outputs };
}

/**
 * Runs `pipeline` once on the synthesized app in `assemblyDir` with the IAM policy statements that
 * `drop` picks taken out (given the policy's logical id and the statement's Action as JSON), in its own
 * state dir: what the local IAM check then denies fails the run, as on AWS.
 */
export async function runWithoutStatements(
  assemblyDir: string,
  stateDir: string,
  pipeline: PipelineDefinition,
  drop: (policyId: string, actions: string) => boolean,
): Promise<RunReport> {
  const template = readTemplate(assemblyDir, 'StepwiseLocal.template.json');
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const document = (resource.Properties as { PolicyDocument: { Statement: { Action: unknown }[] } })
      .PolicyDocument;
    document.Statement = document.Statement.filter((s) => !drop(id, JSON.stringify(s.Action)));
  }
  writeFileSync(join(assemblyDir, 'denied.template.json'), JSON.stringify(template));
  const runtime = await LocalRuntime.open(
    readDeployment(readTemplate(assemblyDir, 'denied.template.json'), assemblyDir),
    { stateDir, command: 'test, with statements taken out', buckets: [] },
  );
  try {
    return (await runtime.run(pipeline, { kind: 'manual', input: {} })).report;
  } finally {
    await runtime.close();
  }
}

/**
 * For a describe block: a state dir, `runServiceFixtures` of the adapter's fixtures `pipeline.ts` and
 * `failing.ts`, and `stepwise run` of `no-stand-in.ts` (refused), all once before its tests, which
 * read `runs` and `refused`; the state dir is removed after them.
 */
export function localServiceRuns(
  name: string,
  fixture: (file: string) => string,
  deny: (actions: string) => boolean,
): { runs: ServiceRuns; refused: CliResult } {
  const state = tempStateDir(name);
  const local = {} as { runs: ServiceRuns; refused: CliResult };
  beforeAll(async () => {
    local.runs = await runServiceFixtures(state.dir, fixture('pipeline.ts'), fixture('failing.ts'), deny);
    local.refused = await stepwise(
      'run',
      fixture('no-stand-in.ts'),
      '--state-dir',
      join(state.dir, 'refused'),
    );
  }, 300_000);
  afterAll(() => state.remove());
  return local;
}

/** A task's state, wherever the compiler nested it (Parallel branches included). */
export function taskState(
  definition: { States: Record<string, unknown> },
  id: string,
): Record<string, unknown> {
  const find = (states: Record<string, unknown>): Record<string, unknown> | undefined => {
    for (const [key, state] of Object.entries(states) as [string, Record<string, unknown>][]) {
      if (key === id) return state;
      for (const branch of (state.Branches as { States: Record<string, unknown> }[] | undefined) ?? []) {
        const found = find(branch.States);
        if (found) return found;
      }
    }
    return undefined;
  };
  const found = find(definition.States);
  if (!found) throw new Error(`no state '${id}' in the definition`);
  return found;
}

/** The definition as deployed, with an adapter's placeholders filled by a plausible value. */
export function deployedDefinition(definition: StateMachineDefinition): StateMachineDefinition {
  const text = JSON.stringify(definition).replace(/\$\{Adapter_[A-Za-z0-9_]+\}/g, 'example-value');
  return substitute(JSON.parse(text) as StateMachineDefinition);
}

/** The spec problems `make` raises, as `path: message` lines; none when it succeeds. */
export function issuesOf(make: () => unknown): string[] {
  try {
    make();
  } catch (error) {
    if (error instanceof SpecError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}
