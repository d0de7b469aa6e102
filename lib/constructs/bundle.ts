import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type BuildOptions, buildSync, version as esbuildVersion, type Metafile } from 'esbuild';
import { stepwiseCacheDir } from '../cache-dir.ts';
import { inputsUnchanged, sha256 } from '../content-hash.ts';
import { stackFiles } from '../stack-files.ts';

/** The file a bundle's handler lives in; the function's handler is `index.handler`. */
export const BUNDLE_FILE = 'index.mjs';

/**
 * How every handler is bundled: minified ESM for Node.js 24, the AWS SDK included (its version is
 * pinned and tested, not the runtime's), and a `require` for CommonJS dependencies bundled into ESM.
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: false,
  mainFields: ['module', 'main'],
  banner: {
    js: "import { createRequire as __stepwiseRequire } from 'node:module'; const require = __stepwiseRequire(import.meta.url);",
  },
} as const satisfies BuildOptions;

/** Raised when esbuild cannot bundle a handler; the message carries esbuild's own diagnostics. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
}

interface CacheManifest {
  /**
   * The directory of the bundle, named by its content: the CDK caches an asset by its path for the
   * life of the process, so a new bundle must never take an older one's path.
   */
  readonly bundle: string;
  readonly inputs: Readonly<Record<string, string>>;
}

/**
 * Bundles a handler with esbuild's API in this process and returns the directory holding
 * `index.mjs`, ready for `Code.fromAsset`. Bundles are cached by the content of every file that went
 * into them: a second synth with nothing changed reuses the bundle, and an edit to the handler or to
 * anything it imports (a dependency upgrade included) bundles again.
 */
export function bundleHandler(entry: string, cacheRoot: string = defaultCacheRoot(entry)): string {
  const alias = repositoryAliases();
  // The bundler's own code is part of the key: a new stepwise version never reuses an older bundle.
  const bundler = sha256(readFileSync(stackFiles()[0] as string));
  const key = sha256(
    JSON.stringify({
      entry: resolve(entry),
      options: BUNDLE_OPTIONS,
      alias,
      esbuild: esbuildVersion,
      bundler,
    }),
  );
  const slot = join(cacheRoot, key);
  const cached = freshManifest(slot);
  if (cached !== undefined) {
    collecting?.push(cached.inputs);
    return join(slot, cached.bundle);
  }

  const staging = `${slot}.${process.pid}.${Date.now()}`;
  mkdirSync(join(staging, 'bundle'), { recursive: true });
  let metafile: Metafile;
  try {
    const result = buildSync({
      ...BUNDLE_OPTIONS,
      alias,
      // Through a re-export, so a CommonJS entry (the compiled platform functions, a user's .js handler)
      // still gives the ESM bundle a named `handler` export, which Lambda's Node.js runtime calls.
      stdin: {
        contents: `export { handler } from ${JSON.stringify(resolve(entry))};`,
        resolveDir: dirname(resolve(entry)),
        sourcefile: 'stepwise-handler-entry.mjs',
        loader: 'js',
      },
      outfile: join(staging, 'bundle', BUNDLE_FILE),
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: dirname(resolve(entry)),
    });
    metafile = result.metafile;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } }[] })
      .errors;
    const detail = errors?.length
      ? errors
          .map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text))
          .join('; ')
      : (error as Error).message;
    throw new BundleError(`could not bundle ${entry}: ${detail}`, { cause: error });
  }
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(metafile.inputs)) {
    const file = resolve(dirname(resolve(entry)), input);
    if (existsSync(file)) inputs[file] = sha256(readFileSync(file));
  }
  const bundle = `bundle-${sha256(readFileSync(join(staging, 'bundle', BUNDLE_FILE))).slice(0, 16)}`;
  renameSync(join(staging, 'bundle'), join(staging, bundle));
  writeFileSync(join(staging, 'manifest.json'), JSON.stringify({ bundle, inputs } satisfies CacheManifest));
  collecting?.push(inputs);
  rmSync(slot, { recursive: true, force: true });
  try {
    renameSync(staging, slot);
  } catch {
    // Another process bundled the same handler at the same moment: its copy is as good as ours.
    rmSync(staging, { recursive: true, force: true });
  }
  return join(slot, bundle);
}

function freshManifest(slot: string): CacheManifest | undefined {
  let manifest: CacheManifest;
  try {
    manifest = JSON.parse(readFileSync(join(slot, 'manifest.json'), 'utf8')) as CacheManifest;
  } catch {
    return undefined;
  }
  if (typeof manifest.bundle !== 'string' || !existsSync(join(slot, manifest.bundle, BUNDLE_FILE)))
    return undefined;
  return inputsUnchanged(manifest.inputs) ? manifest : undefined;
}

let collecting: Record<string, string>[] | undefined;

/**
 * Runs `work` (a synth) and returns, with its result, every file that went into the bundles it used
 * with its content hash, so a cached synth can tell whether any handler or what it imports changed.
 */
export function withBundleInputs<T>(work: () => T): { result: T; inputs: Record<string, string> } {
  const outer = collecting;
  collecting = [];
  try {
    const result = work();
    return { result, inputs: Object.assign({}, ...collecting) as Record<string, string> };
  } finally {
    collecting = outer;
  }
}

/** `bundles` in stepwise's cache directory of the project the handler is in (`stepwiseCacheDir`). */
function defaultCacheRoot(entry: string): string {
  return join(stepwiseCacheDir(entry), 'bundles');
}

/**
 * Run from this repository's TypeScript source (its tests), handlers bundle the task runtime from
 * source too, so an edit to it is what the next run executes; installed, the package resolves as usual.
 */
function repositoryAliases(): Record<string, string> {
  const here = stackFiles()[0] as string;
  if (!here.endsWith('.ts')) return {};
  const root = resolve(dirname(here), '..', '..');
  return {
    'stepwise-cdk/task': join(root, 'lambdas', 'task', 'index.ts'),
    'stepwise-cdk': join(root, 'lib', 'index.ts'),
  };
}
