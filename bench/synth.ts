// Synth at scale: time, template size, definition size, states and resources for generated pipelines of
// 10, 100, 300 and 1,000 tasks (test/private/large-pipeline.ts: layers of ten, each task after two of the
// layer before, a gate and a non-critical task per layer, a retry group every fifth layer, three
// handler files), against a baseline built in the same run: hand-written aws-cdk-lib code
// (bench/hand-written-stack.ts) with the same tasks as LambdaInvoke states (same retries, a Choice
// after each gate, a Catch on each non-critical task), one Parallel per layer, and three functions.
// Both synthesize in this process without cdk-nag; the bundles are built once before timing (both
// use the same ones), so the times are the CDK's and stepwise's own work.
// Past the definition budget stepwise splits the pipeline into nested state machines, so every
// definition stays under 1 MB: the figures count every state machine, and give each one's size.
// A definition past 100 KB (every split part) ships as an S3 asset, not in the template, so the
// template stays under CloudFormation's 1 MB: the figures read such a definition from the assembly.
// Run: node --import tsx bench/synth.ts [--runs N] [--sizes 10,100,300,1000]
// Writes bench/results/synth.json.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, numberFlag, round, writeResult } from './measure.ts';

const scratch = mkdtempSync(join(tmpdir(), 'stepwise-bench-synth-'));
process.env.STEPWISE_CACHE_DIR = join(scratch, 'cache');
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';

const { App } = await import('aws-cdk-lib');
const { PipelineStack } = await import('../lib/constructs/pipeline-stack.ts');
const { largePipeline } = await import('../test/private/large-pipeline.ts');
const { handWrittenStack } = await import('./hand-written-stack.ts');

const runs = numberFlag('runs', 3);
const sizesFlag = process.argv.indexOf('--sizes');
const sizes =
  sizesFlag === -1 ? [10, 100, 300, 1000] : (process.argv[sizesFlag + 1] ?? '').split(',').map(Number);
const context = (
  JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/** Step Functions: "Maximum size of state machine definition: 1 MB", a hard quota. */
const DEFINITION_LIMIT = 1024 * 1024;
/** CloudFormation: "Template body size in an Amazon S3 object: 1 MB" (the CDK uploads templates). */
const TEMPLATE_LIMIT = 1024 * 1024;
/** CloudFormation: resources a stack template may declare. */
const RESOURCE_LIMIT = 500;
/**
 * A placeholder or token in a definition becomes an ARN or a name when deployed. A Lambda function ARN
 * is at most 114 bytes (50 for arn:aws:lambda:<region>:<account>:function: and a 64-character name):
 * every one is counted at that, so the deployed size is an upper bound.
 */
const DEPLOYED_TOKEN_BYTES = 114;

interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

interface AssetManifest {
  files?: Record<string, { source: { path?: string }; destinations: Record<string, { objectKey: string }> }>;
}

type Way = 'stepwise' | 'hand-written';
// biome-ignore lint/suspicious/noExplicitAny: one side's figures, or the error its synth raised
type Json = any;

function definitionText(definition: unknown): { raw: string; deployed: string } {
  if (typeof definition === 'string')
    return {
      raw: definition,
      deployed: definition.replace(/\$\{[A-Za-z0-9_]+\}/g, 'x'.repeat(DEPLOYED_TOKEN_BYTES)),
    };
  const join = (definition as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`unexpected DefinitionString: ${JSON.stringify(definition).slice(0, 200)}`);
  const [sep, parts] = join;
  return {
    raw: parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(sep),
    deployed: parts.map((p) => (typeof p === 'string' ? p : 'x'.repeat(DEPLOYED_TOKEN_BYTES))).join(sep),
  };
}

function countStates(scope: { States?: Record<string, { Branches?: unknown[] }> }): number {
  let n = 0;
  for (const state of Object.values(scope.States ?? {})) {
    n++;
    for (const branch of state.Branches ?? []) n += countStates(branch as never);
  }
  return n;
}

/** What aws-cdk-lib's own template validation reported at synth (it writes validation-report.json). */
function validatorFindings(outdir: string): string[] {
  const file = join(outdir, 'validation-report.json');
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  return [...new Set([...text.matchAll(/"([^"]*exceeds maximum[^"]*)"/g)].map((m) => m[1] as string))].slice(
    0,
    3,
  );
}

/** The files the assembly's asset manifests publish, by S3 object key: where a definition in S3 is. */
function assetTexts(outdir: string): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const name of readdirSync(outdir).filter((n) => n.endsWith('.assets.json'))) {
    const manifest = JSON.parse(readFileSync(join(outdir, name), 'utf8')) as AssetManifest;
    for (const file of Object.values(manifest.files ?? {})) {
      const path = file.source.path;
      if (path === undefined || !path.endsWith('.json')) continue;
      for (const destination of Object.values(file.destinations))
        texts[destination.objectKey] = readFileSync(join(outdir, path), 'utf8');
    }
  }
  return texts;
}

interface Synthesized {
  ms: number;
  template: string;
  /** JSON file assets by S3 key: the definitions shipped through DefinitionS3Location. */
  assets: Record<string, string>;
  findings: string[];
}

function synthOnce(way: Way, size: number): Synthesized {
  const outdir = mkdtempSync(join(scratch, 'out-'));
  const started = performance.now();
  const app = new App({ outdir, context });
  const spec = largePipeline(size);
  if (way === 'stepwise') new PipelineStack(app, 'Large', { pipelines: [spec] });
  else handWrittenStack(app, 'Large', spec);
  const assembly = app.synth();
  const ms = performance.now() - started;
  const template = readFileSync(assembly.getStackByName('Large').templateFullPath, 'utf8');
  const findings = validatorFindings(outdir);
  const assets = assetTexts(outdir);
  rmSync(outdir, { recursive: true, force: true });
  return { ms, template, assets, findings };
}

function figures({ template, assets }: Synthesized) {
  const resources = Object.values((JSON.parse(template) as Template).Resources);
  const machines = resources.filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  const inS3 = (m: (typeof machines)[number]) =>
    m.Properties?.DefinitionS3Location as { Key?: string } | undefined;
  const texts = machines.map((m) => {
    const location = inS3(m);
    if (location === undefined) return definitionText(m.Properties?.DefinitionString);
    const text = assets[String(location.Key)];
    if (text === undefined) throw new Error(`no asset in the assembly for S3 key ${String(location.Key)}`);
    return definitionText(text);
  });
  const deployedBytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t.deployed), 0);
  return {
    templateBytes: Buffer.byteLength(template),
    templateHeadroomBytes: TEMPLATE_LIMIT - Buffer.byteLength(template),
    // Definitions shipped as S3 assets (DefinitionS3Location) rather than in the template.
    definitionsInS3: machines.filter((m) => inS3(m) !== undefined).length,
    resources: resources.length,
    functions: resources.filter((r) => r.Type === 'AWS::Lambda::Function').length,
    stateMachines: machines.length,
    states: texts.reduce((sum, t) => sum + countStates(JSON.parse(t.deployed)), 0),
    definitionBytes: texts.reduce((sum, t) => sum + Buffer.byteLength(t.raw), 0),
    deployedDefinitionBytesAtMost: deployedBytes,
    largestDeployedDefinitionBytes: Math.max(...texts.map((t) => Buffer.byteLength(t.deployed))),
    // Past Step Functions' 1 MB, a pipeline is split into nested state machines (lib/compile/split.ts):
    // each one's deployed size, smallest first.
    deployedDefinitionBytesByMachine: texts.map((t) => Buffer.byteLength(t.deployed)).sort((a, b) => a - b),
    resourceHeadroom: RESOURCE_LIMIT - resources.length,
    definitionHeadroomBytes: DEFINITION_LIMIT - Math.max(...texts.map((t) => Buffer.byteLength(t.deployed))),
  };
}

// Warm-up: loads the CDK's modules and builds the three handler bundles and the platform's.
synthOnce('stepwise', 10);
synthOnce('hand-written', 10);

const rows: Record<string, unknown>[] = [];
for (const size of sizes) {
  const ms: Record<Way, number[]> = { stepwise: [], 'hand-written': [] };
  const last: Partial<Record<Way, Synthesized>> = {};
  const findings: Partial<Record<Way, string[]>> = {};
  const errors: Partial<Record<Way, string>> = {};
  for (let r = 0; r < runs; r++) {
    for (const way of ['stepwise', 'hand-written'] as const) {
      if (errors[way]) continue;
      try {
        const synthesized = synthOnce(way, size);
        ms[way].push(Math.round(synthesized.ms));
        last[way] = synthesized;
        findings[way] = synthesized.findings;
      } catch (error) {
        // A synth that refuses the pipeline (a limit, say) is a result too: say what it said.
        errors[way] = (error as Error).message.split('\n')[0] as string;
      }
    }
  }
  const side = (way: Way) =>
    last[way] === undefined
      ? { error: errors[way] }
      : {
          synthMs: ms[way],
          synthMedianMs: median(ms[way]),
          ...figures(last[way] as Synthesized),
          validatorFindings: findings[way] ?? [],
        };
  const stepwise = side('stepwise') as Json;
  const baseline = side('hand-written') as Json;
  rows.push({
    tasks: size,
    stepwise,
    handWritten: baseline,
    synthRatio:
      stepwise.error || baseline.error ? null : round(stepwise.synthMedianMs / baseline.synthMedianMs, 2),
    definitionRatio:
      stepwise.error || baseline.error ? null : round(stepwise.definitionBytes / baseline.definitionBytes, 2),
    overDefinitionLimit: stepwise.error ? null : stepwise.largestDeployedDefinitionBytes > DEFINITION_LIMIT,
    overTemplateLimit: stepwise.error ? null : stepwise.templateBytes > TEMPLATE_LIMIT,
  });
  process.stderr.write(`${size} tasks: ${JSON.stringify(rows.at(-1))}\n`);
}
rmSync(scratch, { recursive: true, force: true });
writeResult('synth', 'node --import tsx bench/synth.ts --runs N', {
  runs,
  limits: {
    definitionBytes: DEFINITION_LIMIT,
    templateBytes: TEMPLATE_LIMIT,
    resources: RESOURCE_LIMIT,
    deployedTokenBytes: DEPLOYED_TOKEN_BYTES,
  },
  sizes: rows,
});
