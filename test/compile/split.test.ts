// Splitting a pipeline past Step Functions' definition quota into nested state machines: where the
// cut happens, what the parent runs, and local runs of a forced split (exact results, a failing task
// named, bad data quarantining the parent run).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFINITION_BUDGET,
  DEFINITION_LIMIT_BYTES,
  deployedDefinitionBytes,
} from '../../lib/compile/split.ts';
import { compilePipeline } from '../../lib/compile/states.ts';
import { withBundleInputs } from '../../lib/constructs/bundle.ts';
import { PipelineStack } from '../../lib/constructs/pipeline-stack.ts';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { loadExecution } from '../../lib/local/saved-executions.ts';
import { readDeployment, readTemplate } from '../../lib/local/template.ts';
import { DEFINITION_BUDGET_CONTEXT, LOCAL_SYNTH_CONTEXT } from '../../lib/names.ts';
import { pipeline } from '../../lib/spec/adapters/nested-pipeline.ts';
import { definePipeline } from '../../lib/spec/define-pipeline.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { taskRows } from '../faults/local-faults.ts';
import { tempStateDir } from '../local/stepwise-cli.ts';
import { aslValidatorErrors } from '../private/asl.ts';
import { largePipeline } from '../private/large-pipeline.ts';
import { layeredIds, layeredPipeline, layeredResults } from '../private/layered-pipeline.ts';
import { substitute } from '../private/run-definition.ts';
import { removeOutdir, testApp } from '../private/synth.ts';

const specFile = fileURLToPath(new URL('../fixtures/nested/parent.ts', import.meta.url));
/** Small enough to cut the 20-task pipeline below into a few parts. */
const BUDGET = 14_000;

/** 20 tasks in layers of five, each tried once; `params` gives some of them params. */
const SHAPE = { layers: 4, width: 5 };
const layered = (name: string, params: Record<string, Record<string, unknown>> = {}): PipelineDefinition =>
  layeredPipeline(name, SHAPE, (id) => ({
    retry: { attempts: 1 },
    ...(params[id] ? { params: params[id] } : {}),
  }));
const ids = layeredIds(SHAPE);

describe('split, compiled', () => {
  it('does not split a pipeline within the budget', () => {
    expect(compilePipeline(layered('small')).parts).toEqual([]);
    expect(compilePipeline(largePipeline(300)).parts).toEqual([]);
  });

  it('splits past the budget, every definition within it, each task in exactly one part', () => {
    const compiled = compilePipeline(layered('small'), { definitionBudget: BUDGET });
    expect(compiled.parts.length).toBeGreaterThan(1);
    for (const definition of [compiled.definition, ...compiled.parts.map((p) => p.definition)])
      expect(deployedDefinitionBytes(definition)).toBeLessThanOrEqual(BUDGET);
    const inParts = compiled.parts.flatMap((p) => taskStates(p.definition));
    expect([...inParts].sort()).toEqual([...ids].sort());
    expect(taskStates(compiled.definition)).toEqual([]);
  });

  it('runs each part from the parent with startExecution.sync:2, handing over the results it takes', () => {
    const compiled = compilePipeline(layered('small'), { definitionBudget: BUDGET });
    const states = flatStates(compiled.definition);
    const second = states['Part 2'];
    expect(second).toMatchObject({
      Type: 'Task',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
      Resource: 'arn:${Partition}:states:::states:startExecution.sync:2',
      Parameters: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
        StateMachineArn: '${Part_2}',
        Input: { 'run.$': '$.run', 'ledger.$': '$.ledger' },
      },
      ResultSelector: { 'results.$': '$.Output.results', 'failure.$': '$.Output.failure' },
      ResultPath: '$.part',
      Next: 'Part 2: bad data?',
    });
    // Exactly the results of tasks outside the part that its tasks take as inputs.
    const part = compiled.parts.find((p) => p.index === 2);
    const inside = new Set(taskStates(part?.definition as never));
    const needs = new Set(
      layered('small')
        .tasks.filter((t) => inside.has(t.id))
        .flatMap((t) => t.after)
        .filter((id) => !inside.has(id)),
    );
    const handed = (second as { Parameters: { Input: { results: Record<string, string> } } }).Parameters.Input
      .results;
    expect(Object.keys(handed).sort()).toEqual([...needs].map((id) => `${id}.$`).sort());
    expect(states['Part 2: bad data?']).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.part.failure', IsNull: true, Next: 'Part 2: results' }],
      Default: 'Part 2: raise',
    });
    expect(states['Part 2: raise']).toEqual({
      Type: 'Fail',
      ErrorPath: '$.part.failure.Error',
      CausePath: '$.part.failure.Cause',
    });
    // The run row still lists every task, in plan order.
    const put = states['Record run start'] as { Parameters: { Item: { tasks: { L: { S: string }[] } } } };
    expect(put.Parameters.Item.tasks.L.map((t) => t.S).sort()).toEqual([...ids].sort());
  });

  it("ends a part that found bad data successfully, with the error for the parent's quarantine", () => {
    const [part] = compilePipeline(layered('small'), { definitionBudget: BUDGET }).parts;
    expect(part?.definition.States['Run part']).toMatchObject({
      Type: 'Parallel',
      Catch: [{ ErrorEquals: ['DataError', 'GateRejected'], ResultPath: '$.failure', Next: 'Part bad data' }],
      Next: 'Part done',
    });
  });

  it('gives definitions that pass asl-validator, the parent and each part', () => {
    const compiled = compilePipeline(layered('small'), { definitionBudget: BUDGET });
    const errors = [compiled.definition, ...compiled.parts.map((p) => p.definition)].flatMap((definition) => {
      const parts = JSON.stringify(definition).replace(
        /\$\{Part_(\d+)\}/g,
        'arn:aws:states:us-east-1:123456789012:stateMachine:part$1',
      );
      return aslValidatorErrors(substitute(JSON.parse(parts)));
    });
    expect(errors).toEqual([]);
  });

  it('splits 1,000 tasks into definitions each under 1 MB deployed', () => {
    const compiled = compilePipeline(largePipeline(1000));
    const sizes = [compiled.definition, ...compiled.parts.map((p) => p.definition)].map(
      deployedDefinitionBytes,
    );
    expect(compiled.parts.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(DEFINITION_BUDGET);
    expect(DEFINITION_BUDGET).toBeLessThan(DEFINITION_LIMIT_BYTES);
  }, 120_000);
});

describe('split, synthesized', () => {
  it('passes cdk-nag AwsSolutions: parts and nested runs acknowledge only their own wildcards', () => {
    const { app, outdir } = testApp({
      bundle: false,
      props: { context: { [DEFINITION_BUDGET_CONTEXT]: BUDGET } },
    });
    try {
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const nested = definePipeline(
        { name: 'nested', tasks: { child: { run: pipeline('split-good') } } } as never,
        { specFile },
      );
      const stack = new PipelineStack(app, 'Split', { pipelines: [nested, layered('split-good')] });
      const assembly = app.synth();
      const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
      expect(Object.keys(machines).length).toBeGreaterThan(3);
      const report = join(assembly.directory, 'validation-report.json');
      const findings = existsSync(report)
        ? (
            JSON.parse(readFileSync(report, 'utf8')) as {
              pluginReports: { violations: { ruleName: string; severity: string }[] }[];
            }
          ).pluginReports.flatMap((p) =>
            p.violations.filter((v) => v.severity === 'error').map((v) => v.ruleName),
          )
        : [];
      expect(findings).toEqual([]);
    } finally {
      removeOutdir(outdir);
    }
  }, 120_000);
});

describe('split, run locally', () => {
  const state = tempStateDir('split-run');
  let ok: RunReport;
  let okResults: Record<string, unknown>;
  let failed: RunReport;
  let quarantined: RunReport;
  let machines: number;

  beforeAll(async () => {
    const good = layered('split-good');
    const failing = layered('split-failing', { 'l2-t3': { fail: true } });
    const bad = layered('split-bad', { 'l3-t1': { bad: true } });
    const outdir = join(state.dir, 'cdk.out');
    const { result: templateFile } = withBundleInputs(() => {
      const app = new App({
        outdir,
        builtinCloudFormationValidation: false,
        context: {
          'aws:cdk:enable-asset-metadata': true,
          [LOCAL_SYNTH_CONTEXT]: true,
          [DEFINITION_BUDGET_CONTEXT]: BUDGET,
        },
      });
      new PipelineStack(app, 'StepwiseLocal', { pipelines: [good, failing, bad] });
      return app.synth().getStackByName('StepwiseLocal').templateFile;
    });
    const deployment = readDeployment(readTemplate(outdir, templateFile), outdir);
    machines = deployment.stateMachines.length;
    const runtime = await LocalRuntime.open(deployment, {
      stateDir: state.dir,
      command: 'split test',
      buckets: [],
    });
    try {
      ok = (await runtime.run(good, { kind: 'manual', input: {} })).report;
      const end = loadExecution(state.dir, ok.runId)?.events.find((e) => e.type === 'ExecutionSucceeded');
      const details = end?.executionSucceededEventDetails as { output?: string } | undefined;
      okResults = JSON.parse(details?.output ?? '{}').results;
      failed = (await runtime.run(failing, { kind: 'manual', input: {} })).report;
      quarantined = (await runtime.run(bad, { kind: 'manual', input: {} })).report;
    } finally {
      await runtime.close();
    }
  }, 300_000);

  afterAll(() => state.remove());

  it('deploys each pipeline as a parent and its parts', () => {
    const parts = compilePipeline(layered('x'), { definitionBudget: BUDGET }).parts.length;
    expect(machines).toBe(3 * (1 + parts));
  });

  it('SUCCEEDS with exact results, every task one attempt in the parent run’s ledger', () => {
    expect(ok.status).toBe('SUCCEEDED');
    expect(taskRows(ok)).toEqual(ids.map((id) => [id, 'SUCCEEDED', 1]));
    // The parent's results, merged back from the parts: a task of layer k counts 2^(k+1) - 1.
    expect(okResults).toEqual(layeredResults(ids));
  });

  it('FAILS the parent run when a task in a part fails, naming the task', () => {
    expect(failed.status).toBe('FAILED');
    expect(failed.tasks.find((t) => t.id === 'l2-t3')).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(failed.error?.task).toBe('l2-t3');
    expect(failed.error?.message).toContain('told to fail');
  });

  it('quarantines the parent run on bad data in a part, naming the task and the reason', () => {
    expect(quarantined.status).toBe('QUARANTINED');
    expect(quarantined.quarantine?.reason).toBe('row 3 has no id');
    expect(quarantined.tasks.find((t) => t.id === 'l3-t1')).toMatchObject({ status: 'QUARANTINED' });
  });
});

type Scope = { States: Record<string, { Type: string; Resource?: unknown; Branches?: Scope[] }> };

function flatStates(scope: Scope): Record<string, Record<string, unknown>> {
  const all: Record<string, Record<string, unknown>> = {};
  for (const [name, state] of Object.entries(scope.States)) {
    all[name] = state as Record<string, unknown>;
    for (const branch of state.Branches ?? []) Object.assign(all, flatStates(branch));
  }
  return all;
}

/** The Task states that run a task's Lambda function (named by the task's id). */
function taskStates(scope: Scope): string[] {
  return Object.entries(flatStates(scope))
    .filter(([name, state]) => state.Type === 'Task' && /^l\d-t\d$/.test(name))
    .map(([name]) => name);
}
