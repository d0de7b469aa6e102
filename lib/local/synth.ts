import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { PipelineStack } from '../constructs/pipeline-stack.ts';
import { bucketNames } from '../spec/bucket-uses.ts';
import type { PipelineDefinition } from '../spec/types.ts';
import { type LocalDeployment, readDeployment, readTemplate } from './template.ts';

export const LOCAL_STACK = 'StepwiseLocal';

export interface LocalSynthesis {
  readonly assemblyDir: string;
  readonly deployment: LocalDeployment;
}

/**
 * Synthesizes the pipelines as `cdk deploy` would ship them (PipelineStack, esbuild bundles) into
 * `<stateDir>/cdk.out`, and reads back what the local engine needs.
 */
export function synthesizeLocal(pipelines: readonly PipelineDefinition[], stateDir: string): LocalSynthesis {
  const assemblyDir = join(resolve(stateDir), 'cdk.out');
  mkdirSync(assemblyDir, { recursive: true });
  const app = new App({
    outdir: assemblyDir,
    context: { '@aws-cdk/core:defaultCrossStackReferences': 'strong', 'aws:cdk:enable-asset-metadata': true },
  });
  // Locally each data bucket is the local bucket of the same name, which the runtime creates.
  const buckets = Object.fromEntries(bucketNames(pipelines).map((name) => [name, name]));
  new PipelineStack(app, LOCAL_STACK, { pipelines, buckets });
  const assembly = app.synth();
  const stack = assembly.getStackByName(LOCAL_STACK);
  return {
    assemblyDir,
    deployment: readDeployment(readTemplate(assemblyDir, stack.templateFile), assemblyDir),
  };
}
