// Lambda cold start, the part a bundle controls: the time to import it (its init) in a fresh Node process.
// The bundles are the ones a synth ships: examples/orders is synthesized into a temporary cdk.out (fresh
// bundle cache), and each function's asset is imported as it is there. Baseline, in the same run: the
// same entry built by esbuild with the same options but minify: false. Each way is imported N times,
// interleaved, each in a new `node` process; medians.
// Run: node --import tsx bench/cold-start.ts [--imports N]   Writes bench/results/cold-start.json.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { median, numberFlag, round, writeResult } from './measure.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const imports = numberFlag('imports', 15);
const scratch = mkdtempSync(join(tmpdir(), 'stepwise-bench-cold-'));
process.env.STEPWISE_CACHE_DIR = join(scratch, 'cache');
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { loadSpec } = await import('../lib/cli/load-spec.ts');
const { synthesizeLocal } = await import('../lib/local/synth.ts');
const spec = await loadSpec(join(ROOT, 'examples', 'orders', 'pipeline.ts'));
const { assemblyDir } = await synthesizeLocal([spec], join(scratch, 'state'));

const entries = [
  ...['dispatcher', 'recorder', 'reconciler'].map((name) => join(ROOT, 'lambdas', name, 'index.ts')),
  ...[...new Set(spec.tasks.map((t) => t.run.kind === 'lambda' && t.run.entry))]
    .filter((e): e is string => typeof e === 'string')
    .map((e) => resolve(dirname(spec.specFile ?? ROOT), e)),
];

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The same entry, built with the bundler's options (lib/constructs/bundle.ts) but not minified. */
function unminified(entry: string, outfile: string): void {
  buildSync({
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: false,
    sourcemap: false,
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire as __stepwiseRequire } from 'node:module'; const require = __stepwiseRequire(import.meta.url);",
    },
    alias: {
      'stepwise-cdk/task': join(ROOT, 'lambdas', 'task', 'index.ts'),
      'stepwise-cdk': join(ROOT, 'lib', 'index.ts'),
    },
    stdin: {
      contents: `export { handler } from ${JSON.stringify(entry)};`,
      resolveDir: join(entry, '..'),
      sourcefile: 'stepwise-handler-entry.mjs',
      loader: 'js',
    },
    outfile,
    logLevel: 'silent',
  });
}

/** The synthesized functions: logical id and bundle file, from the template's asset metadata. */
function shippedBundles(): { logicalId: string; file: string }[] {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const template = Object.values(manifest.artifacts).find((a) => a.type === 'aws:cloudformation:stack')
    ?.properties?.templateFile as string;
  const resources = (
    JSON.parse(readFileSync(join(assemblyDir, template), 'utf8')) as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
    }
  ).Resources;
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path'])
    .map(([logicalId, r]) => ({
      logicalId,
      file: join(assemblyDir, r.Metadata?.['aws:asset:path'] as string, 'index.mjs'),
    }))
    .filter((b) => existsSync(b.file));
}

/** One import in a new process: the time from just before `import()` to its end, in ms. */
function importOnce(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  if (child.status !== 0) throw new Error(`importing ${file} failed: ${child.stderr}`);
  return Number(child.stdout);
}

/**
 * Which entry each shipped bundle was built from: the bundle cache keeps, beside each bundle, every file
 * that went into it; the entry is the candidate among them whose name the function's logical id holds.
 */
function entryOf(bundle: { logicalId: string; file: string }): string | undefined {
  const root = join(process.env.STEPWISE_CACHE_DIR as string, 'bundles');
  const hash = sha(bundle.file);
  for (const slot of readdirSync(root)) {
    const manifestFile = join(root, slot, 'manifest.json');
    if (!existsSync(manifestFile)) continue;
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
      bundle: string;
      inputs: Record<string, string>;
    };
    const file = join(root, slot, manifest.bundle, 'index.mjs');
    if (!existsSync(file) || sha(file) !== hash) continue;
    const found = entries.filter((e) => e in manifest.inputs);
    const id = bundle.logicalId.toLowerCase();
    return (
      found.find((e) => id.includes(basename(dirname(e)).toLowerCase()) && e.includes('/lambdas/')) ??
      found.find((e) => id.includes(basename(e, '.ts').toLowerCase())) ??
      found[0]
    );
  }
  return undefined;
}

const rows: Record<string, unknown>[] = [];
for (const bundle of shippedBundles()) {
  const entry = entryOf(bundle);
  if (!entry) {
    rows.push({ function: bundle.logicalId, note: 'no entry of this pipeline or the platform found for it' });
    continue;
  }
  const name = entry.replace(ROOT, '');
  const out = join(scratch, 'plain', name, 'index.mjs');
  unminified(entry, out);
  const minifiedMs: number[] = [];
  const plainMs: number[] = [];
  for (let i = 0; i < imports; i++) {
    minifiedMs.push(importOnce(bundle.file));
    plainMs.push(importOnce(out));
  }
  rows.push({
    entry: name,
    function: bundle.logicalId,
    minifiedBytes: statSync(bundle.file).size,
    unminifiedBytes: statSync(out).size,
    minifiedImportMs: round(median(minifiedMs)),
    unminifiedImportMs: round(median(plainMs)),
    minifiedOverUnminified: round(median(minifiedMs) / median(plainMs), 2),
    samplesMs: { minified: minifiedMs.map((x) => round(x)), unminified: plainMs.map((x) => round(x)) },
  });
  process.stderr.write(`${name}: ${round(median(minifiedMs))} vs ${round(median(plainMs))} ms\n`);
}
rmSync(scratch, { recursive: true, force: true });
writeResult('cold-start', 'node --import tsx bench/cold-start.ts --imports N', {
  importsPerWay: imports,
  bundles: rows,
});
