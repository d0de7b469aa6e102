#!/usr/bin/env node
// npm run build: compiles lib/, lambdas/ and the CLI to CommonJS JavaScript with declarations in dist/.
// CommonJS is what a project made by `cdk init app --language typescript` loads unchanged: tsx, ts-node,
// Jest in CommonJS mode, and plain node; ESM projects import it through Node's CommonJS interop.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const buildInfo = join(root, 'node_modules', '.cache', 'stepwise-cdk', 'build.tsbuildinfo');
const started = Date.now();
// `--clean` (prepack) starts from nothing; otherwise tsc rebuilds only what changed since the last build
// (tsconfig.build.json keeps its build info beside the other caches). Build info with no dist/ beside it
// would make tsc skip emitting what it believes is there, so then it starts from nothing too.
if (process.argv.includes('--clean') || !existsSync(join(dist, 'package.json'))) {
  rmSync(dist, { recursive: true, force: true });
  rmSync(buildInfo, { force: true });
}
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  {
    stdio: 'inherit',
  },
);

// tsc rewrites `./x.ts` to `./x.js` in the JavaScript it emits (rewriteRelativeImportExtensions), but not
// in declarations; a consumer's TypeScript resolves `./x.js` to the `./x.d.ts` beside it.
for (const file of walk(dist)) {
  if (!file.endsWith('.d.ts')) continue;
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+)\.ts(['"])/g, '$1$2.js$3');
  if (fixed !== text) writeFileSync(file, fixed);
}
writeFileSync(join(dist, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
chmodSync(join(dist, 'bin', 'stepwise.js'), 0o755);
process.stderr.write(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
