import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { stackFiles } from '../stack-files.ts';
import { CliUsageError } from './errors.ts';
import {
  appEntry,
  appImportLine,
  appStackLine,
  cdkJson,
  extractHandler,
  gitignoreLines,
  type InitNames,
  type InitVersions,
  jestConfig,
  loadHandler,
  newGitignore,
  packageManifest,
  pipelineSpec,
  specFileName,
  stackFileName,
  stackModule,
  stackTest,
  testFileName,
  tsconfig,
} from './init-templates.ts';
import type { CliOptions } from './main.ts';
import { type Output, write } from './render.ts';

// `stepwise init [dir]`: a pipeline, a stack that deploys it, a Jest test of that stack and the
// .gitignore lines, either as a new CDK app or added to an existing one. It never overwrites a file.

/** `stepwise init` would overwrite files; it writes nothing then. */
export class InitConflictError extends Error {
  override readonly name = 'InitConflictError';

  constructor(
    readonly dir: string,
    readonly existing: readonly string[],
  ) {
    super(
      `stepwise init writes nothing over an existing file, and these exist in ${dir}: ${existing.join(', ')}; ` +
        'move them aside, or give the pipeline another name with --name',
    );
  }
}

/** The directory holds a project that is not a CDK app, so there is nothing to add a stack to. */
export class NotCdkProjectError extends Error {
  override readonly name = 'NotCdkProjectError';
}

interface PlannedFile {
  readonly path: string;
  readonly content: string;
}

export interface InitResult {
  readonly dir: string;
  readonly pipeline: string;
  /** 'new' made a whole CDK app; 'existing' added to the CDK app that was there. */
  readonly mode: 'new' | 'existing';
  readonly created: readonly string[];
  readonly updated: readonly string[];
  /** Lines the user still has to add by hand, with the file they go in. */
  readonly manual?: { readonly file: string; readonly lines: readonly string[] };
  readonly next: readonly string[];
}

export async function initCommand(
  dirArg: string | undefined,
  options: CliOptions,
  output: Output,
): Promise<number> {
  let result: InitResult;
  try {
    result = await initProject(dirArg ?? '.', options.name ?? 'sales');
  } catch (error) {
    // Said in full by the message: which files, and what to do. No stack trace helps here.
    if (!(error instanceof InitConflictError || error instanceof NotCdkProjectError)) throw error;
    if (options.json) write(output, { ok: false, error: error.message });
    else output.err.write(`error: ${error.message}\n`);
    return 1;
  }
  if (options.json) {
    write(output, { ok: true, ...result });
    return 0;
  }
  const where = shortPath(result.dir);
  output.out.write(
    result.mode === 'new'
      ? `created a CDK app with the '${result.pipeline}' pipeline in ${where}:\n`
      : `added the '${result.pipeline}' pipeline to the CDK app in ${where}:\n`,
  );
  for (const file of result.created) output.out.write(`  created  ${file}\n`);
  for (const file of result.updated) output.out.write(`  updated  ${file}\n`);
  if (result.manual) {
    output.out.write(`\nadd these two lines to ${result.manual.file}, after 'const app = ...':\n`);
    for (const line of result.manual.lines) output.out.write(`  ${line}\n`);
  }
  output.out.write('\nnext:\n');
  for (const command of result.next) output.out.write(`  ${command}\n`);
  return 0;
}

/** Writes the project's files; returns what it created and changed. Throws before writing anything on a conflict. */
export async function initProject(dirArg: string, pipeline: string): Promise<InitResult> {
  if (!/^[a-z][a-z0-9-]*$/.test(pipeline) || pipeline.length > 40)
    throw new CliUsageError(
      `--name '${pipeline}' is not a pipeline name: use lowercase letters, digits and '-', starting with a letter, at most 40 characters (e.g. --name daily-sales)`,
    );
  const dir = resolve(dirArg);
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new CliUsageError(`${dir} is a file; give stepwise init a directory, new or holding a CDK app`);
  const existing = existsSync(join(dir, 'cdk.json')) && existsSync(join(dir, 'package.json'));
  if (!existing && existsSync(join(dir, 'package.json')))
    throw new NotCdkProjectError(
      `${dir} has a package.json but no cdk.json, so it is not a CDK app to add a stack to; ` +
        `run 'npx cdk init app --language typescript' there first, or give stepwise init a new directory (stepwise init my-pipelines)`,
    );

  if (!existing && existsSync(join(dir, 'cdk.json')))
    throw new NotCdkProjectError(
      `${dir} has a cdk.json but no package.json: a CDK app in another language; stepwise pipelines and their stacks are TypeScript, so give stepwise init a new directory (stepwise init my-pipelines) or a TypeScript CDK app`,
    );
  const manifest = existing ? readManifest(join(dir, 'package.json')) : undefined;
  const names: InitNames = {
    pipeline,
    pascal: pipeline
      .split('-')
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join(''),
    importExt: manifest?.type === 'module' ? '.js' : '',
  };
  const files: PlannedFile[] = [
    { path: specFileName(names), content: pipelineSpec(names) },
    { path: `pipelines/${pipeline}/handlers/extract.ts`, content: extractHandler },
    { path: `pipelines/${pipeline}/handlers/load.ts`, content: loadHandler(names) },
    { path: stackFileName(names), content: stackModule(names) },
    { path: testFileName(names), content: stackTest(names) },
  ];
  if (!existing) {
    const versions = ownVersions();
    files.push(
      { path: 'package.json', content: packageManifest(packageName(dir), versions) },
      { path: 'cdk.json', content: cdkJson(await recommendedFlags()) },
      { path: 'tsconfig.json', content: tsconfig },
      { path: 'jest.config.js', content: jestConfig },
      { path: 'bin/app.ts', content: appEntry(names) },
      { path: '.gitignore', content: newGitignore },
    );
  }
  const conflicts = files.filter((file) => existsSync(join(dir, file.path))).map((file) => file.path);
  if (conflicts.length > 0) throw new InitConflictError(dir, conflicts);

  for (const file of files) {
    mkdirSync(dirname(join(dir, file.path)), { recursive: true });
    writeFileSync(join(dir, file.path), file.content, { flag: 'wx' });
  }
  const created = files.map((file) => file.path);
  const updated: string[] = [];
  let manual: InitResult['manual'];
  if (existing) {
    if (addGitignoreLines(join(dir, '.gitignore'))) updated.push('.gitignore');
    else if (!existsSync(join(dir, '.gitignore'))) created.push('.gitignore');
    const entry = appEntryFile(dir);
    if (entry && addStackToApp(join(dir, entry), names)) updated.push(entry);
    else manual = { file: entry ?? 'your CDK app', lines: [appImportLine(names), appStackLine(names)] };
  }

  const spec = specFileName(names);
  const next = [
    ...(existing ? [] : [...(dir === process.cwd() ? [] : [`cd ${shortPath(dir)}`]), 'npm install']),
    ...(existing && !dependsOnStepwise(manifest) ? ['npm install stepwise-cdk'] : []),
    `npx stepwise validate ${spec}`,
    `npx stepwise run ${spec} --input '{"day":"2026-01-31"}'`,
    'npx jest',
    'npx cdk deploy',
  ];
  return {
    dir,
    pipeline,
    mode: existing ? 'existing' : 'new',
    created,
    updated,
    ...(manual ? { manual } : {}),
    next,
  };
}

/** A directory as the user would type it: relative when it is under the current one. */
function shortPath(dir: string): string {
  const path = relative(process.cwd(), dir);
  return path === '' ? '.' : path.startsWith('..') || isAbsolute(path) ? dir : path;
}

interface Manifest {
  readonly name?: string;
  readonly version?: string;
  readonly type?: string;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

function readManifest(file: string): Manifest {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (error) {
    throw new NotCdkProjectError(
      `${file} is not valid JSON (${(error as Error).message}); fix it and run stepwise init again`,
    );
  }
}

function dependsOnStepwise(manifest: Manifest | undefined): boolean {
  return Boolean(manifest?.dependencies?.['stepwise-cdk'] ?? manifest?.devDependencies?.['stepwise-cdk']);
}

/** Appends `.stepwise/` to the project's .gitignore unless it is there; creates the file if missing. */
function addGitignoreLines(file: string): boolean {
  if (!existsSync(file)) {
    writeFileSync(file, `${gitignoreLines.join('\n')}\n`);
    return false;
  }
  const text = readFileSync(file, 'utf8');
  if (text.split(/\r?\n/).some((line) => /^\/?\.stepwise\/?$/.test(line.trim()))) return false;
  appendFileSync(file, `${text.endsWith('\n') || text === '' ? '' : '\n'}\n${gitignoreLines.join('\n')}\n`);
  return true;
}

/** The app's TypeScript entry, from cdk.json's `app` command (`npx tsx bin/app.ts`), when there is one. */
function appEntryFile(dir: string): string | undefined {
  try {
    const app = (JSON.parse(readFileSync(join(dir, 'cdk.json'), 'utf8')) as { app?: unknown }).app;
    if (typeof app !== 'string') return undefined;
    const file = app.split(/\s+/).find((word) => /\.m?ts$/.test(word));
    return file && existsSync(join(dir, file)) ? file : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Adds the stack's import and `new ...Stack(app, ...)` to the app's entry, but only where that is
 * certainly right: one top-level `const app = new ...App(...)` and no explicit `synth()` after which a
 * stack would come too late. Otherwise the user is shown the two lines.
 */
function addStackToApp(file: string, names: InitNames): boolean {
  const text = readFileSync(file, 'utf8');
  const apps = text.match(/^const app = new (?:\w+\.)?App\(/gm) ?? [];
  if (apps.length !== 1 || /\.synth\(/.test(text) || text.includes(appImportLine(names))) return false;
  const lines = text.split('\n');
  let lastImport = -1;
  lines.forEach((line, i) => {
    if (/^import\s.+from\s+['"][^'"]+['"];?\s*$/.test(line)) lastImport = i;
  });
  if (lastImport < 0) return false;
  lines.splice(lastImport + 1, 0, appImportLine(names));
  const body = lines.join('\n');
  writeFileSync(file, `${body}${body.endsWith('\n') ? '' : '\n'}${appStackLine(names)}\n`);
  return true;
}

/** A package name for the new app: its directory's name, lowercased to what npm accepts. */
function packageName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '');
  return name || 'pipelines';
}

/**
 * The versions this release of stepwise-cdk was built and tested with, read from its own package.json
 * (found from this module's location, which works from the source and from dist/ alike).
 */
function ownVersions(): InitVersions {
  const here = stackFiles()[0] as string;
  let manifest: Manifest | undefined;
  for (let dir = dirname(here); dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const candidate = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    if (candidate.name === 'stepwise-cdk') {
      manifest = candidate;
      break;
    }
  }
  if (!manifest) throw new Error(`stepwise-cdk's package.json was not found above ${here}`);
  const dev = manifest.devDependencies ?? {};
  const deps = manifest.dependencies ?? {};
  const caret = (version: string | undefined, fallback: string) =>
    `^${(version ?? fallback).replace(/^[~^]/, '')}`;
  return {
    stepwiseCdk: caret(manifest.version, '0.1.0'),
    awsCdkLib: caret(dev['aws-cdk-lib'], '2.276.0'),
    constructs: caret(dev.constructs, '10.8.1'),
    // The CDK CLI version is the one tested: a newer major refuses older cloud assemblies.
    awsCdk: dev['aws-cdk'] ?? '2.1148.1',
    typescript: `~${(dev.typescript ?? '5.9.3').replace(/^[~^]/, '')}`,
    tsx: caret(deps.tsx, '4.23.15'),
    typesNode: caret(dev['@types/node'], '20.19.43'),
    jest: caret(dev.jest, '30.5.2'),
    swcJest: caret(dev['@swc/jest'], '0.2.39'),
    swcCore: caret(dev['@swc/core'], '1.16.22'),
    typesJest: caret(dev['@types/jest'], '30.0.0'),
  };
}

/**
 * The feature flags aws-cdk-lib recommends for a new app, as `cdk init` writes them into cdk.json, read
 * from the aws-cdk-lib installed beside stepwise-cdk. Without one, the app starts with none.
 */
async function recommendedFlags(): Promise<Record<string, unknown>> {
  try {
    type CxApi = { CURRENTLY_RECOMMENDED_FLAGS?: Record<string, unknown> };
    const cxapi = (await import('aws-cdk-lib/cx-api')) as CxApi & { default?: CxApi };
    return { ...(cxapi.CURRENTLY_RECOMMENDED_FLAGS ?? cxapi.default?.CURRENTLY_RECOMMENDED_FLAGS ?? {}) };
  } catch {
    return {};
  }
}
