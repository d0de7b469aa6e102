import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { asSpecError } from '../spec/errors.ts';
import type { PipelineDefinition } from '../spec/types.ts';
import { CliUsageError } from './errors.ts';

export class SpecLoadError extends Error {
  override readonly name = 'SpecLoadError';
}

/**
 * Loads a spec module and returns its default export, checked to be a pipeline. TypeScript is read
 * through tsx, registered here on first use, for both module systems: a spec in a CommonJS project
 * (what `cdk init` makes) is required, one in an ESM project (`"type": "module"`, `.mts`) imported,
 * as Node itself would load the compiled file.
 */
export async function loadSpec(specPath: string): Promise<PipelineDefinition> {
  const file = resolve(specPath);
  if (!existsSync(file)) throw new SpecLoadError(`spec file not found: ${file}`);
  if (/\.json$/i.test(file))
    throw new SpecLoadError(
      `${file} is JSON; a spec is a TypeScript (or JavaScript) module whose default export is definePipeline({...}), e.g. pipeline.ts`,
    );
  let module: { default?: unknown };
  try {
    module = await importSpecModule(file);
  } catch (error) {
    const specError = asSpecError(error);
    if (specError) throw specError;
    throw new SpecLoadError(`could not load ${file}: ${(error as Error).message}`, { cause: error });
  }
  // A CommonJS module compiled from `export default` holds it under `default` once more.
  let spec = module.default as Partial<PipelineDefinition> | undefined;
  const nested = (spec as { default?: unknown } | undefined)?.default;
  if (spec !== undefined && !isPipeline(spec) && isPipeline(nested)) spec = nested as PipelineDefinition;
  if (!isPipeline(spec)) {
    throw new SpecLoadError(
      `${file} must default-export definePipeline({...}); it exports ${describe(module.default)}`,
    );
  }
  return spec;
}

/** Loads spec files, refusing two pipelines of one name. */
export async function loadSpecs(paths: readonly string[]): Promise<PipelineDefinition[]> {
  const specs: PipelineDefinition[] = [];
  for (const path of paths) {
    const spec = await loadSpec(path);
    const twin = specs.find((s) => s.name === spec.name);
    if (twin)
      throw new CliUsageError(
        `two spec files define pipeline '${spec.name}': ${twin.specFile} and ${spec.specFile}; give each pipeline once`,
      );
    specs.push(spec);
  }
  return specs;
}

function isPipeline(value: unknown): value is PipelineDefinition {
  const spec = value as Partial<PipelineDefinition> | undefined;
  return (
    typeof spec === 'object' && spec !== null && Array.isArray(spec.tasks) && typeof spec.name === 'string'
  );
}

/**
 * Under vitest (this repository's tests) the spec is imported through vitest's own TypeScript
 * transform, so it shares the tests' copy of stepwise.
 */
async function importSpecModule(file: string): Promise<{ default?: unknown }> {
  if (process.env.VITEST !== undefined)
    return (await import(pathToFileURL(file).href)) as { default?: unknown };
  if (isCommonJs(file)) {
    const tsx = (await dynamicImport('tsx/cjs/api')) as { require: (id: string, from: string) => unknown };
    const exports = tsx.require(file, file) as { default?: unknown; __esModule?: boolean };
    return exports.__esModule || 'default' in (exports as object) ? exports : { default: exports };
  }
  const tsx = (await dynamicImport('tsx/esm/api')) as {
    tsImport: (
      specifier: string,
      options: { parentURL: string; tsconfig?: false },
    ) => Promise<{ default?: unknown }>;
  };
  const parentURL = pathToFileURL(file).href;
  // This repository's tsconfig maps 'stepwise-cdk' to its TypeScript source for tsc and vitest; a spec
  // run by the compiled CLI must import the compiled package, the CLI's own copy, as a user's does.
  const inThisRepository = nearestManifest(file)?.name === 'stepwise-cdk';
  return tsx.tsImport(parentURL, inThisRepository ? { parentURL, tsconfig: false } : { parentURL });
}

/** The nearest package.json above a file, parsed; undefined if none or unreadable. */
function nearestManifest(file: string): { name?: string; type?: string } | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; type?: string };
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** Whether Node would load this file as CommonJS: by its extension, else the nearest package.json's type. */
function isCommonJs(file: string): boolean {
  const ext = extname(file);
  if (ext === '.cts' || ext === '.cjs') return true;
  if (ext === '.mts' || ext === '.mjs') return false;
  return nearestManifest(file)?.type !== 'module';
}

/**
 * A real `import()`, which the CommonJS build must not turn into `require()`: ESM-only modules
 * (tsx's ESM API, a user's ESM spec) can only be imported.
 */
const dynamicImport = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing as default';
  if (typeof value === 'function') return 'a function';
  return typeof value;
}
