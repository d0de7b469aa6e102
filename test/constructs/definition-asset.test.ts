// A large definition ships as an S3 asset (DefinitionS3Location) instead of inline, so a 1,000-task
// pipeline's template fits CloudFormation's 1 MB; the local engine reads it back from the assembly.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployedDefinitionBytes } from '../../lib/compile/split.ts';
import { compilePipeline } from '../../lib/compile/states.ts';
import { withBundleInputs } from '../../lib/constructs/bundle.ts';
import { INLINE_DEFINITION_BYTES } from '../../lib/constructs/definition-body.ts';
import { PipelineStack } from '../../lib/constructs/pipeline-stack.ts';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { loadExecution } from '../../lib/local/saved-executions.ts';
import { readDeployment, readTemplate, type Template } from '../../lib/local/template.ts';
import { DEFINITION_BUDGET_CONTEXT, LOCAL_SYNTH_CONTEXT } from '../../lib/names.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { taskRows } from '../faults/local-faults.ts';
import { tempStateDir } from '../local/stepwise-cli.ts';
import { largePipeline } from '../private/large-pipeline.ts';
import { layeredIds, layeredPipeline, layeredResults } from '../private/layered-pipeline.ts';
import { testPipeline } from '../private/specs.ts';
import { removeOutdir, testApp } from '../private/synth.ts';

/** CloudFormation: "Template body size in an Amazon S3 object: 1 MB" (read as the smaller 10^6 bytes). */
const TEMPLATE_LIMIT_BYTES = 1_000_000;
/** Step Functions: "Maximum size of state machine definition: 1 MB". */
const DEFINITION_LIMIT_BYTES = 1_000_000;

/** Small enough to cut the 12-task pipeline below into parts. */
const BUDGET = 12_000;

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
};

/** 12 tasks in layers of four. */
const SHAPE = { layers: 3, width: 4 };
const layered = (name: string): PipelineDefinition => layeredPipeline(name, SHAPE);
const ids = layeredIds(SHAPE);

function machinesOf(template: Template): [string, Resource][] {
  return Object.entries(template.Resources as Record<string, Resource>).filter(
    ([, r]) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
}

const placeholders = (text: string) =>
  [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] as string))].sort();

describe('where a definition goes', () => {
  let outdir: string;
  let template: Template;
  const wide = largePipeline(100, 'wide');

  beforeAll(() => {
    const created = testApp({ bundle: false, props: { context: { 'aws:cdk:enable-asset-metadata': true } } });
    outdir = created.outdir;
    new PipelineStack(created.app, 'Where', { pipelines: [testPipeline({ extract: {} }), wide] });
    template = readTemplate(outdir, created.app.synth().getStackByName('Where').templateFile);
  }, 120_000);

  afterAll(() => removeOutdir(outdir));

  it('keeps a small definition inline, as the template always had it', () => {
    const [, machine] = machinesOf(template).find(([id]) => id.startsWith('Pipelinetest')) ?? [];
    expect(typeof machine?.Properties.DefinitionString).toBe('string');
    expect(machine?.Properties.DefinitionS3Location).toBeUndefined();
    expect(machine?.Metadata?.['aws:asset:path']).toBeUndefined();
  });

  it('ships a definition past 100 KB from S3, its file named in the metadata, its placeholders substituted', () => {
    const [, machine] = machinesOf(template).find(([id]) => id.startsWith('Pipelinewide')) ?? [];
    expect(machine?.Properties.DefinitionString).toBeUndefined();
    expect(machine?.Properties.DefinitionS3Location).toEqual({
      Bucket: expect.anything(),
      Key: expect.stringMatching(/^[0-9a-f]{64}\.json$/),
    });
    expect(machine?.Metadata).toMatchObject({
      'aws:asset:path': expect.stringMatching(/^asset\.[0-9a-f]{64}\.json$/),
      'aws:asset:property': 'DefinitionS3Location',
    });
    const text = readFileSync(join(outdir, String(machine?.Metadata?.['aws:asset:path'])), 'utf8');
    expect(Buffer.byteLength(text)).toBeGreaterThan(INLINE_DEFINITION_BYTES);
    expect(JSON.parse(text)).toEqual(compilePipeline(wide).definition);
    expect(placeholders(text)).toEqual(
      Object.keys(machine?.Properties.DefinitionSubstitutions as object).sort(),
    );
  });
});

describe('a 1,000-task pipeline', () => {
  let outdir: string;
  let templateText: string;
  const large = largePipeline(1000);

  beforeAll(() => {
    const created = testApp({ bundle: false });
    outdir = created.outdir;
    new PipelineStack(created.app, 'Large', { pipelines: [large] });
    const stack = created.app.synth().getStackByName('Large');
    templateText = readFileSync(stack.templateFullPath, 'utf8');
  }, 240_000);

  afterAll(() => removeOutdir(outdir));

  it('has a template under CloudFormation’s 1 MB: its parts’ definitions are in S3', () => {
    expect(Buffer.byteLength(templateText)).toBeLessThan(TEMPLATE_LIMIT_BYTES);
    const machines = machinesOf(JSON.parse(templateText));
    const parts = machines.filter(([id]) => /^PipelinelargePart\d/.test(id));
    expect(parts.length).toBeGreaterThan(1);
    for (const [, part] of parts) expect(part.Properties.DefinitionS3Location).toBeDefined();
    // The parent, which only runs the parts, stays inline.
    expect(machines).toHaveLength(parts.length + 1);
  });

  it('reads back, locally, each part as compiled, under Step Functions’ 1 MB deployed', () => {
    // Asset metadata is off here: the definitions are found through the assembly's asset manifest.
    const deployment = readDeployment(JSON.parse(templateText), outdir);
    const compiled = compilePipeline(large);
    const byPart = new Map(deployment.stateMachines.map((m) => [m.logicalId, m.definition]));
    for (const part of compiled.parts) {
      const id = [...byPart.keys()].find((key) => key.startsWith(`PipelinelargePart${part.index}`));
      const definition = byPart.get(id ?? '');
      expect(deployedDefinitionBytes(definition as never)).toBeLessThan(DEFINITION_LIMIT_BYTES);
      expect(Object.keys(definition?.States ?? {})).toEqual(Object.keys(part.definition.States));
    }
  });
});

describe('a forced split with its parts in S3, run locally', () => {
  const state = tempStateDir('definition-asset');
  const good = layered('split-s3');
  let outdir: string;
  let template: Template;
  let report: RunReport;
  let results: Record<string, unknown>;

  beforeAll(async () => {
    outdir = join(state.dir, 'cdk.out');
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
      new PipelineStack(app, 'StepwiseLocal', { pipelines: [good] });
      return app.synth().getStackByName('StepwiseLocal').templateFile;
    });
    template = readTemplate(outdir, templateFile);
    const runtime = await LocalRuntime.open(readDeployment(template, outdir), {
      stateDir: state.dir,
      command: 'definition asset test',
      buckets: [],
    });
    try {
      report = (await runtime.run(good, { kind: 'manual', input: {} })).report;
      const end = loadExecution(state.dir, report.runId)?.events.find((e) => e.type === 'ExecutionSucceeded');
      const details = end?.executionSucceededEventDetails as { output?: string } | undefined;
      results = JSON.parse(details?.output ?? '{}').results;
    } finally {
      await runtime.close();
    }
  }, 300_000);

  afterAll(() => state.remove());

  it('deploys each part from S3 and the parent inline', () => {
    const parts = compilePipeline(good, { definitionBudget: BUDGET }).parts.length;
    expect(parts).toBeGreaterThan(1);
    const machines = machinesOf(template);
    expect(machines.filter(([, m]) => m.Properties.DefinitionS3Location !== undefined)).toHaveLength(parts);
    expect(machines.filter(([, m]) => typeof m.Properties.DefinitionString === 'string')).toHaveLength(1);
  });

  it('SUCCEEDS with exact results, every task one attempt in the parent run’s ledger', () => {
    expect(report.status).toBe('SUCCEEDED');
    expect(taskRows(report)).toEqual(ids.map((id) => [id, 'SUCCEEDED', 1]));
    expect(results).toEqual(layeredResults(ids));
  });

  it('finds the same definitions through the asset manifest when the metadata is absent', () => {
    const withMetadata = readDeployment(template, outdir).stateMachines;
    const stripped = JSON.parse(JSON.stringify(template)) as Template;
    for (const [, machine] of machinesOf(stripped)) delete machine.Metadata?.['aws:asset:path'];
    const withManifest = readDeployment(stripped, outdir).stateMachines;
    expect(withManifest.map((m) => m.definition)).toEqual(withMetadata.map((m) => m.definition));
  });

  it('fails when the definition’s file is not in the assembly, naming the state machine and the fix', () => {
    const stripped = JSON.parse(JSON.stringify(template)) as Template;
    for (const [, machine] of machinesOf(stripped)) delete machine.Metadata?.['aws:asset:path'];
    const elsewhere = mkdtempSync(join(tmpdir(), 'stepwise-no-assets-'));
    try {
      expect(() => readDeployment(stripped, elsewhere)).toThrow(
        /state machine Pipeline\w*Part1\w+: its definition is in S3 \(key '[0-9a-f]{64}\.json'\), but no asset manifest .* synthesize with the context 'aws:cdk:enable-asset-metadata': true/,
      );
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
