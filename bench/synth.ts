// Synth wall time and template size for the reference app and a generated 300-task pipeline.
// Run: CDK_DISABLE_CLI_TELEMETRY=true node --import tsx bench/synth.ts [--runs N]
// Each run synthesizes from scratch into a fresh directory, esbuild bundling and cdk-nag included.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../bin/build-app.ts';
import { PipelineStack } from '../lib/constructs/pipeline-stack.ts';
import { largePipeline } from '../test/private/large-pipeline.ts';

const context = (
  JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

interface Figures {
  readonly case: string;
  readonly synthMs: number[];
  readonly templateBytes: number;
  readonly resources: number;
  readonly definitionBytes: number;
  readonly functions: number;
}

function measure(name: string, stackName: string, build: (outdir: string) => App, runs: number): Figures {
  const synthMs: number[] = [];
  let assembly: CloudAssembly | undefined;
  let outdir = '';
  for (let run = 0; run < runs; run++) {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
    outdir = mkdtempSync(join(tmpdir(), 'stepwise-bench-'));
    const started = performance.now();
    assembly = build(outdir).synth();
    synthMs.push(Math.round(performance.now() - started));
  }
  const text = readFileSync((assembly as CloudAssembly).getStackByName(stackName).templateFullPath, 'utf8');
  rmSync(outdir, { recursive: true, force: true });
  const resources = Object.values(
    (
      JSON.parse(text) as {
        Resources: Record<string, { Type: string; Properties: { DefinitionString?: string } }>;
      }
    ).Resources,
  );
  return {
    case: name,
    synthMs,
    templateBytes: Buffer.byteLength(text),
    resources: resources.length,
    definitionBytes: resources
      .filter((r) => r.Type === 'AWS::StepFunctions::StateMachine')
      .reduce((sum, r) => sum + Buffer.byteLength(r.Properties.DefinitionString ?? ''), 0),
    functions: resources.filter((r) => r.Type === 'AWS::Lambda::Function').length,
  };
}

const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag === -1 ? 3 : Number(process.argv[runsFlag + 1]);

const results = [
  measure(
    'reference app (bin/app.ts: orders + data bucket)',
    'Orders',
    (outdir) => buildApp({ outdir, context }),
    runs,
  ),
  measure(
    '300-task pipeline (PipelineStack, 3 handler files)',
    'Large',
    (outdir) => {
      const app = new App({ outdir, context });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      new PipelineStack(app, 'Large', { pipelines: [largePipeline(300)] });
      return app;
    },
    runs,
  ),
];

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
for (const r of results) {
  process.stdout.write(
    `${r.case}\n  synth ${median(r.synthMs)} ms median of [${r.synthMs.join(', ')}]; template ${r.templateBytes} bytes, ` +
      `${r.resources} resources (${r.functions} functions); definition ${r.definitionBytes} bytes\n`,
  );
}
const out = new URL('./results/', import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(
  new URL('synth.json', out),
  `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, runs, results }, null, 2)}\n`,
);
