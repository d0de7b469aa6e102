// The package as it is published: what `npm pack` puts in the tarball, the CLI from dist/, the reference
// stack synthesized from dist/ with the oldest aws-cdk-lib the peer range admits, and the Jest test
// `stepwise init` writes, run by Jest against the built package. All offline. These read dist/, so the
// suite builds it first (incrementally) unless it was built after the last change to its sources.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initProject } from '../../lib/cli/init.ts';
import { linkNodeModules, repositoryRoot, tempProject } from './linked-project.ts';

const run = promisify(execFile);
const node = process.execPath;
const manifest = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8'));
const temps: { remove: () => void }[] = [];

/**
 * Whether dist/ was built after the last change to anything the build reads: build.mjs writes
 * dist/package.json last, on every build. CI builds before testing (.ci/run), so there it is up to date.
 */
function distIsCurrent(): boolean {
  const marker = join(repositoryRoot, 'dist', 'package.json');
  if (!existsSync(marker)) return false;
  const built = statSync(marker).mtimeMs;
  const inputs = [
    'lib',
    'lambdas',
    'bin/stepwise.ts',
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'scripts/build.mjs',
  ];
  const newest = (path: string): number => {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.mtimeMs;
    return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
  };
  return inputs.every((input) => newest(join(repositoryRoot, input)) < built);
}

beforeAll(async () => {
  if (distIsCurrent()) return;
  try {
    await run(node, [join(repositoryRoot, 'scripts/build.mjs')], { cwd: repositoryRoot, timeout: 300_000 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed, so dist/ cannot be tested:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}, 320_000);
afterAll(() => {
  for (const temp of temps) temp.remove();
});

describe('the packed package', () => {
  it('holds dist JavaScript and declarations, README and LICENSE, and no tests, benchmarks or scripts', async () => {
    // --ignore-scripts: prepack would rebuild dist/ from nothing under the other tests' feet.
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: repositoryRoot,
      env: { ...process.env, npm_config_offline: 'true' },
    });
    const [pack] = JSON.parse(stdout) as [{ name: string; files: { path: string }[] }];
    const files = pack.files.map((file) => file.path);
    expect(pack.name).toBe('stepwise-cdk');
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    expect(files).toContain('dist/bin/stepwise.js');
    expect(files).toContain('dist/lib/index.js');
    expect(files).toContain('dist/lib/index.d.ts');
    expect(files).toContain('dist/lambdas/task/index.js');
    expect(files).toContain('dist/lambdas/task/index.d.ts');
    expect(files).toContain('dist/lib/cli/init-templates.js');
    const outside = files.filter(
      (file) => !file.startsWith('dist/') && !['LICENSE', 'README.md', 'package.json'].includes(file),
    );
    expect(outside).toEqual([]);
    expect(files.filter((file) => /(^|\/)(test|bench|\.ci|scripts|examples)\//.test(file))).toEqual([]);
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((file) => file.endsWith('.tsbuildinfo'))).toEqual([]);

    // Each export carries types and points at files that are in the tarball.
    for (const entry of ['.', './task']) {
      const target = manifest.exports[entry] as { types: string; default: string };
      expect(target.types, entry).toMatch(/\.d\.ts$/);
      expect(files, `${entry} types`).toContain(target.types.replace(/^\.\//, ''));
      expect(files, `${entry} default`).toContain(target.default.replace(/^\.\//, ''));
    }
    expect(files).toContain(manifest.bin.stepwise.replace(/^\.\//, ''));
  });

  it('has aws-cdk-lib and constructs as peer dependencies with ranges, not as dependencies', () => {
    expect(manifest.peerDependencies['aws-cdk-lib']).toMatch(/^\^2\.\d+\.\d+$/);
    expect(manifest.peerDependencies.constructs).toMatch(/^\^10\./);
    expect(manifest.dependencies['aws-cdk-lib']).toBeUndefined();
    expect(manifest.dependencies.constructs).toBeUndefined();
  });

  it('prints its usage for stepwise --help from dist/', async () => {
    const { stdout, stderr } = await run(node, [join(repositoryRoot, 'dist/bin/stepwise.js'), '--help']);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^stepwise: data pipelines on AWS Step Functions/);
    expect(stdout).toContain('  stepwise validate <spec> [--json]');
    expect(stdout).toContain('  stepwise init [dir] [--name PIPELINE]');
  });
});

describe('the oldest aws-cdk-lib the peer range admits', () => {
  it('synthesizes the reference stack from dist/ with only that aws-cdk-lib loaded', async () => {
    const oldest = /^npm:aws-cdk-lib@(\d+\.\d+\.\d+)$/.exec(
      manifest.devDependencies['aws-cdk-lib-oldest'],
    )?.[1];
    expect(manifest.peerDependencies['aws-cdk-lib']).toBe(`^${oldest}`);
    const out = tempProject('oldest-cdk');
    temps.push(out);
    const { stdout } = await run(
      node,
      [
        '-r',
        './test/package/redirect-aws-cdk-lib.cjs',
        './test/package/synth-oldest.cjs',
        join(out.dir, 'cdk.out'),
      ],
      { cwd: repositoryRoot, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(result.awsCdkLib).toBe(oldest);
    expect(result.awsCdkLibPath).toContain(join('node_modules', 'aws-cdk-lib-oldest'));
    expect(result.otherCopyLoaded).toBe(false);
    expect(result.resources['AWS::StepFunctions::StateMachine']).toBe(1);
    expect(result.resources['AWS::DynamoDB::GlobalTable']).toBe(1);
    // One function per handler of examples/orders: ingest, validate, transform, publish, monitor.
    expect(result.taskFunctions).toHaveLength(5);
    for (const fn of result.taskFunctions) expect(fn.runtime).toBe('nodejs24.x');
  });
});

describe('the project stepwise init makes', () => {
  it('passes its own Jest test and type-checks, against the built package', async () => {
    const temp = tempProject('init-jest');
    temps.push(temp);
    const dir = join(temp.dir, 'app');
    await initProject(dir, 'sales');
    linkNodeModules(dir);
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' };
    delete env.VITEST; // the project is not this repository's test run
    const [jest, tsc] = await Promise.allSettled([
      run(node, [join(dir, 'node_modules/jest/bin/jest.js'), '--ci'], { cwd: dir, env, timeout: 240_000 }),
      run(node, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', dir], {
        cwd: dir,
        env,
        timeout: 240_000,
      }),
    ]);
    const output = (settled: typeof jest) =>
      settled.status === 'fulfilled'
        ? `${settled.value.stdout}${settled.value.stderr}`
        : `${(settled.reason as { stdout?: string }).stdout}${(settled.reason as { stderr?: string }).stderr}`;
    expect(jest.status, output(jest)).toBe('fulfilled');
    expect(output(jest)).toMatch(/Tests: {7}3 passed, 3 total/);
    expect(output(jest)).toContain('PASS test/sales-pipeline.test.ts');
    expect(tsc.status, output(tsc)).toBe('fulfilled');
  });
});
