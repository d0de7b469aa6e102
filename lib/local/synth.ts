import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { stepwiseCacheDir } from '../cache-dir.ts';
import { inputsUnchanged, sha256 } from '../content-hash.ts';
import { LOCAL_SYNTH_CONTEXT } from '../names.ts';
import { bucketNames } from '../spec/bucket-uses.ts';
import type { PipelineDefinition } from '../spec/types.ts';
import { stackFiles } from '../stack-files.ts';
import { checkDefinition } from './definition-check.ts';
import { type LocalDeployment, readDeployment, readTemplate } from './template.ts';

export const LOCAL_STACK = 'StepwiseLocal';

const CONTEXT = {
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
  'aws:cdk:enable-asset-metadata': true,
  // Service tasks' local stand-ins are bundled, and named in the template (never by `cdk deploy`).
  [LOCAL_SYNTH_CONTEXT]: true,
};

/** Beside the assembly: what it was synthesized from, so an unchanged pipeline is not synthesized again. */
const CACHE_FILE = 'stepwise-synth.json';

export interface LocalSynthesis {
  readonly assemblyDir: string;
  readonly deployment: LocalDeployment;
  /** True when the assembly of an earlier command was reused: nothing it depends on has changed. */
  readonly cached: boolean;
}

interface SynthCache {
  readonly key: string;
  readonly templateFile: string;
  /** Every file bundled into a function, with its content hash. */
  readonly inputs: Readonly<Record<string, string>>;
}

/**
 * Synthesizes the pipelines as `cdk deploy` would ship them (PipelineStack, esbuild bundles) into
 * `<stateDir>/cdk.out`, and reads back what the local engine needs. The assembly is reused while
 * nothing it depends on has changed: the specs, every file bundled into a handler (the handler, what
 * it imports, its dependencies in node_modules), stepwise's own code, the aws-cdk-lib version and the
 * CDK context. The CDK itself is loaded only when a synth really runs.
 */
export async function synthesizeLocal(
  pipelines: readonly PipelineDefinition[],
  stateDir: string,
): Promise<LocalSynthesis> {
  const assemblyDir = join(resolve(stateDir), 'cdk.out');
  const key = synthKey(pipelines);
  const cache = readCache(assemblyDir);
  if (
    cache?.key === key &&
    typeof cache.templateFile === 'string' &&
    typeof cache.inputs === 'object' &&
    existsSync(join(assemblyDir, cache.templateFile)) &&
    inputsUnchanged(cache.inputs)
  ) {
    const deployment = readDeployment(readTemplate(assemblyDir, cache.templateFile), assemblyDir);
    checkDefinitions(deployment, pipelines, assemblyDir);
    return { assemblyDir, deployment, cached: true };
  }

  mkdirSync(assemblyDir, { recursive: true });
  const [{ App }, { PipelineStack }, { withBundleInputs }] = await Promise.all([
    import('aws-cdk-lib'),
    import('../constructs/pipeline-stack.ts'),
    import('../constructs/bundle.ts'),
  ]);
  const { result: templateFile, inputs } = withBundleInputs(() =>
    withoutTemplateValidation(() => {
      const app = new App({ outdir: assemblyDir, context: CONTEXT, builtinCloudFormationValidation: false });
      // Locally each data bucket is the local bucket of the same name, which the runtime creates.
      const buckets = Object.fromEntries(bucketNames(pipelines).map((name) => [name, name]));
      new PipelineStack(app, LOCAL_STACK, { pipelines, buckets });
      return app.synth().getStackByName(LOCAL_STACK).templateFile;
    }),
  );
  // esbuild's service, a process of its own, holds 100-150 MB after bundling the handlers, and would
  // keep it for the rest of the command; it starts again if anything bundles or transforms later.
  await (await import('esbuild')).stop();
  const deployment = readDeployment(readTemplate(assemblyDir, templateFile), assemblyDir);
  checkDefinitions(deployment, pipelines, assemblyDir);
  writeFileSync(
    join(assemblyDir, CACHE_FILE),
    JSON.stringify({ key, templateFile, inputs } satisfies SynthCache),
  );
  return { assemblyDir, deployment, cached: false };
}

/**
 * Checks each machine's definition as States Language, through the marks in stepwise's cache directory
 * of the project: a definition an earlier command found valid is not checked again (`checkDefinition`).
 */
function checkDefinitions(
  deployment: LocalDeployment,
  pipelines: readonly PipelineDefinition[],
  assemblyDir: string,
): void {
  const cacheDir = stepwiseCacheDir(pipelines[0]?.specFile ?? assemblyDir);
  for (const machine of deployment.stateMachines) checkDefinition(machine.definition, cacheDir);
}

/**
 * Runs a synth without aws-cdk-lib's built-in CloudFormation validation. It checks the template against
 * the CloudFormation schema in a WebAssembly engine that takes ~12 s and ~260 MB, holds 164 MB of that
 * (its linear memory) for the life of the process, and only warns by default; the local engine runs the
 * template and never deploys it, and `cdk synth` of the user's app still validates what is deployed.
 * Recent aws-cdk-lib versions take `builtinCloudFormationValidation: false`; older ones (2.269, the
 * oldest supported) read only the environment, set here for the synchronous synth and restored after.
 */
function withoutTemplateValidation<T>(synth: () => T): T {
  const before = process.env.CDK_VALIDATION;
  process.env.CDK_VALIDATION = 'false';
  try {
    return synth();
  } finally {
    if (before === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = before;
  }
}

function readCache(assemblyDir: string): SynthCache | undefined {
  try {
    return JSON.parse(readFileSync(join(assemblyDir, CACHE_FILE), 'utf8')) as SynthCache;
  } catch {
    return undefined;
  }
}

/** What an assembly depends on besides the bundled files: the specs, stepwise's code, the CDK. */
function synthKey(pipelines: readonly PipelineDefinition[]): string {
  const here = stackFiles()[0] as string;
  const root = resolve(dirname(here), '..', '..');
  const cdkVersion = (createRequire(here)('aws-cdk-lib/package.json') as { version: string }).version;
  return sha256(JSON.stringify({ pipelines, code: codeHash(root), cdkVersion, context: CONTEXT }));
}

/** stepwise's own code: `lib/` and `lambdas/` of the repository, or of `dist/` when installed. */
function codeHash(root: string): string {
  const parts: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.[cm]?[jt]s$/.test(name)) parts.push(`${path}:${sha256(readFileSync(path))}`);
    }
  };
  for (const dir of ['lib', 'lambdas']) if (existsSync(join(root, dir))) walk(join(root, dir));
  return sha256(parts.join('\n'));
}
