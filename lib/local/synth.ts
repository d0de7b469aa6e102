import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { PipelineStack } from '../constructs/pipeline-stack.ts';
import { SpecError } from '../spec/errors.ts';
import type { PipelineDefinition } from '../spec/types.ts';
import { type LocalDeployment, readDeployment, readTemplate } from './template.ts';

export const LOCAL_STACK = 'StepwiseLocal';

/** Loads a spec module and returns its default export, checked to be a pipeline. */
export async function loadSpec(specPath: string): Promise<PipelineDefinition> {
  const file = resolve(specPath);
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    if (error instanceof SpecError) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(file)) {
      throw new SpecLoadError(`spec file not found: ${file}`);
    }
    throw new SpecLoadError(`could not load ${file}: ${(error as Error).message}`, { cause: error });
  }
  const spec = module.default as Partial<PipelineDefinition> | undefined;
  if (!spec || typeof spec !== 'object' || !Array.isArray(spec.tasks) || typeof spec.name !== 'string') {
    throw new SpecLoadError(
      `${file} must default-export definePipeline({...}); it exports ${describe(module.default)}`,
    );
  }
  return spec as PipelineDefinition;
}

export class SpecLoadError extends Error {
  override readonly name = 'SpecLoadError';
}

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
  new PipelineStack(app, LOCAL_STACK, { pipelines });
  const assembly = app.synth();
  const stack = assembly.getStackByName(LOCAL_STACK);
  return {
    assemblyDir,
    deployment: readDeployment(readTemplate(assemblyDir, stack.templateFile), assemblyDir),
  };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing as default';
  if (typeof value === 'function') return 'a function';
  return typeof value;
}
