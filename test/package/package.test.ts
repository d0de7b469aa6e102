// The package as it is published: what `npm pack` puts in the tarball, the CLI from dist/, the reference
// stack synthesized from dist/ with the oldest aws-cdk-lib and constructs the peer ranges admit, the Jest
// test `stepwise init` writes, run by Jest against the built package, and a cdk init project with the
// tarball unpacked into it. All offline. These read dist/, so the file builds it first (incrementally)
// unless it was built after the last change to its sources (see built.ts).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initProject } from '../../lib/cli/init.ts';
import { ensureBuilt } from './built.ts';
import { FIVE_TASKS, writeFiveTaskPipeline } from './five-task-project.ts';
import { cdkInit, installPacked, linkNodeModules, repositoryRoot, tempProject } from './linked-project.ts';

const run = promisify(execFile);
const node = process.execPath;
const manifest = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8'));
const temps: { remove: () => void }[] = [];

/** What a child process printed, whether it exited 0 or not. */
function printed(settled: PromiseSettledResult<{ stdout: string; stderr: string }>): string {
  const value =
    settled.status === 'fulfilled' ? settled.value : (settled.reason as { stdout?: string; stderr?: string });
  return `${value.stdout ?? ''}${value.stderr ?? ''}`;
}

/** The environment of a user's own commands: not this repository's test run, never the network. */
function userEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    npm_config_offline: 'true',
  };
  delete env.VITEST;
  delete env.NODE_OPTIONS;
  delete env.CDK_VALIDATION; // the test run's setting (vitest.config.ts), not a user's
  return env;
}

beforeAll(ensureBuilt, 320_000);
afterAll(() => {
  for (const temp of temps) temp.remove();
});

let packing: Promise<{ name: string; files: string[]; tarball: string }> | undefined;

/**
 * `npm pack` of the repository, run once for the cases that read what the tarball holds and the one
 * that installs it: the file list npm prints is the tarball's.
 */
function packed(): Promise<{ name: string; files: string[]; tarball: string }> {
  packing ??= (async () => {
    const temp = tempProject('packed');
    temps.push(temp);
    // --ignore-scripts: prepack would rebuild dist/ from nothing under the other tests' feet.
    const { stdout } = await run(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', temp.dir],
      { cwd: repositoryRoot, env: { ...process.env, npm_config_offline: 'true' } },
    );
    const [pack] = JSON.parse(stdout) as [{ name: string; filename: string; files: { path: string }[] }];
    return {
      name: pack.name,
      files: pack.files.map((file) => file.path),
      tarball: join(temp.dir, pack.filename),
    };
  })();
  return packing;
}

describe('the packed package', () => {
  it('holds dist JavaScript and declarations, README and LICENSE, and no tests, benchmarks or scripts', async () => {
    const pack = await packed();
    const files = pack.files;
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

  it('loads no package for --help or a usage error, and neither the local engine nor tsc for validate', async () => {
    const temp = tempProject('loaded-modules');
    temps.push(temp);
    /** The packages a command of the built CLI required, by name. */
    const packagesLoaded = async (args: string[], exit: number): Promise<string[]> => {
      const file = join(temp.dir, `${args[0]}.json`);
      const [settled] = await Promise.allSettled([
        run(
          node,
          ['-r', './test/package/loaded-modules.cjs', join(repositoryRoot, 'dist/bin/stepwise.js'), ...args],
          { cwd: repositoryRoot, env: { ...userEnvironment(), LOADED_MODULES_FILE: file } },
        ),
      ]);
      const code = settled.status === 'fulfilled' ? 0 : (settled.reason as { code?: number }).code;
      expect(code, `${args.join(' ')}: ${printed(settled)}`).toBe(exit);
      const loaded = JSON.parse(readFileSync(file, 'utf8')) as string[];
      const names = loaded.flatMap((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1] ?? []);
      return [...new Set(names)].sort();
    };
    expect(await packagesLoaded(['--help'], 0)).toEqual([]);
    expect(await packagesLoaded(['deploy'], 2)).toEqual([]);
    const validate = await packagesLoaded(['validate', 'examples/orders/pipeline.ts'], 0);
    expect(validate).toContain('zod');
    for (const engine of [
      'aws-local-stepfunctions',
      'dynalite',
      's3rver',
      '@aws-sdk/client-dynamodb',
      'typescript',
    ])
      expect(validate).not.toContain(engine);
  });

  it('prints its usage for stepwise --help from dist/', async () => {
    const { stdout, stderr } = await run(node, [join(repositoryRoot, 'dist/bin/stepwise.js'), '--help']);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^stepwise: data pipelines on AWS Step Functions/);
    expect(stdout).toContain('  stepwise validate <spec> [--json]');
    expect(stdout).toContain('  stepwise init [dir] [--name PIPELINE]');
  });
});

describe('the public surface, as the declarations in the tarball give it', () => {
  const index = join(repositoryRoot, 'dist/lib/index.d.ts');
  const task = join(repositoryRoot, 'dist/lambdas/task/index.d.ts');

  it('gives each exported name one meaning across stepwise-cdk and stepwise-cdk/task, and Pipeline no compiler internals', () => {
    // Every declaration file of the package, and nothing it imports from other packages (aws-cdk-lib's
    // would take half a minute to read): export names and member modifiers need no more.
    const declarations = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) return declarations(path);
        return entry.name.endsWith('.d.ts') ? [path] : [];
      });
    const program = ts.createProgram(
      [
        ...declarations(join(repositoryRoot, 'dist/lib')),
        ...declarations(join(repositoryRoot, 'dist/lambdas')),
      ],
      { noResolve: true, noLib: true, types: [], noEmit: true },
    );
    const checker = program.getTypeChecker();
    const exportsOf = (file: string): ts.Symbol[] => {
      const source = program.getSourceFile(file);
      const module = source && checker.getSymbolAtLocation(source);
      if (!module) throw new Error(`${file} has no module symbol: is dist/ built?`);
      return checker.getExportsOfModule(module);
    };
    const library = exportsOf(index);
    const runtime = exportsOf(task).map((symbol) => symbol.name);
    expect(library.map((symbol) => symbol.name)).toEqual(
      expect.arrayContaining(['Pipeline', 'HandlerFunction']),
    );
    expect(runtime).toEqual(expect.arrayContaining(['defineTask', 'DataError']));
    // A name exported by both entry points would mean two things to a user who imports both.
    expect(library.map((symbol) => symbol.name).filter((name) => runtime.includes(name))).toEqual([]);

    const pipeline = library.find((symbol) => symbol.name === 'Pipeline') as ts.Symbol;
    const instance = checker.getDeclaredTypeOfSymbol(checker.getAliasedSymbol(pipeline));
    const members = checker.getPropertiesOfType(instance);
    const isPublic = (member: ts.Symbol) =>
      (member.declarations ?? []).every(
        (declaration) =>
          !(
            ts.getCombinedModifierFlags(declaration) &
            (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)
          ),
      );
    const publicNames = members.filter(isPublic).map((member) => member.name);
    expect(publicNames).toEqual(expect.arrayContaining(['spec', 'stateMachine', 'functions']));
    expect(members.map((member) => member.name)).toContain('compiled'); // there, but private
    expect(publicNames).not.toContain('compiled');
  });
});

describe('the oldest aws-cdk-lib and constructs the peer ranges admit', () => {
  it('synthesizes the reference stack from dist/ with only those loaded', async () => {
    const oldest = /^npm:aws-cdk-lib@(\d+\.\d+\.\d+)$/.exec(
      manifest.devDependencies['aws-cdk-lib-oldest'],
    )?.[1];
    expect(manifest.peerDependencies['aws-cdk-lib']).toBe(`^${oldest}`);
    const oldestConstructs = /^npm:constructs@(\d+\.\d+\.\d+)$/.exec(
      manifest.devDependencies['constructs-oldest'],
    )?.[1];
    expect(manifest.peerDependencies.constructs).toBe(`^${oldestConstructs}`);
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
      // Without aws-cdk-lib's CloudFormation validation (~11 s of CPU; it only warns): it loads more of
      // aws-cdk-lib, never of stepwise-cdk, so it adds nothing to what this case checks (which copies our
      // code loads). The cdk init project below synthesizes with it, as a user does.
      {
        cwd: repositoryRoot,
        env: { ...userEnvironment(), CDK_VALIDATION: 'false' },
        timeout: 240_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(result.awsCdkLib).toBe(oldest);
    expect(result.awsCdkLibPath).toContain(join('node_modules', 'aws-cdk-lib-oldest'));
    expect(result.constructs).toBe(oldestConstructs);
    expect(result.constructsPath).toContain(join('node_modules', 'constructs-oldest'));
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
    // Without aws-cdk-lib's CloudFormation validation (~11 s of CPU per test file, and warnings only): the
    // cdk init project below synthesizes the same stack with it, as a user runs `cdk synth`.
    env.CDK_VALIDATION = 'false';
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

describe('handler paths of a spec compiled to JavaScript', () => {
  it('resolve to the TypeScript handlers beside the source, found through the source map tsc writes', async () => {
    const temp = tempProject('compiled-spec');
    temps.push(temp);
    const dir = temp.dir;
    writeFiveTaskPipeline(dir, 'shop');
    writeFileSync(join(dir, 'package.json'), '{ "name": "shop", "private": true }\n');
    linkNodeModules(dir);
    // What tsc emits with cdk init's options and an outDir (CommonJS, inline source maps). Types are not
    // resolved: only the emit matters here, and the cdk init test type-checks the same files.
    const program = ts.createProgram(
      ['pipeline.ts', ...FIVE_TASKS.map((id) => `handlers/${id}.ts`)].map((file) =>
        join(dir, 'pipelines/daily', file),
      ),
      {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        inlineSourceMap: true,
        outDir: join(dir, 'build'),
        rootDir: dir,
        noResolve: true,
        noLib: true,
        types: [],
      },
    );
    expect(program.emit().emitSkipped).toBe(false);
    const env = userEnvironment();
    const compiled = join(dir, 'build/pipelines/daily/pipeline.js');
    expect(existsSync(join(dir, 'build/pipelines/daily/handlers/extract.js'))).toBe(true);
    const { stdout } = await run(
      node,
      [
        '-e',
        `const p = require(${JSON.stringify(compiled)}).default;
         console.log(JSON.stringify({ specFile: p.specFile, entries: p.tasks.map((t) => t.run.entry) }));`,
      ],
      { cwd: dir, env },
    );
    expect(JSON.parse(stdout)).toEqual({
      specFile: compiled,
      entries: FIVE_TASKS.map((id) => join(dir, 'pipelines/daily/handlers', `${id}.ts`)),
    });
  });
});

describe('a project made by cdk init, with the packed tarball installed and no other change', () => {
  it('synthesizes, type-checks, tests, validates and runs a five-task pipeline, and what stepwise init adds', async () => {
    const temp = tempProject('cdk-init-packed');
    temps.push(temp);
    const { tarball } = await packed();
    const dir = join(temp.dir, 'shop');
    await cdkInit(dir);
    const settings = ['package.json', 'tsconfig.json', 'jest.config.js', 'cdk.json'];
    const settingsBefore = settings.map((file) => readFileSync(join(dir, file), 'utf8'));
    const installed = await installPacked(dir, tarball);
    expect(existsSync(join(installed, 'node_modules'))).toBe(false); // the project's aws-cdk-lib is the one
    const cli = join(installed, 'dist', 'bin', 'stepwise.js');
    const env = userEnvironment();
    // The TypeScript cdk init asks for (7, native) is the one that type-checks the project, as npm would
    // install it: the repository builds with 5 and holds 7 under an alias (linked-project.ts).
    const { typescript } = (
      JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        devDependencies: { typescript: string };
      }
    ).devDependencies;
    const tscVersion = (await run(join(dir, 'node_modules/.bin/tsc'), ['-v'], { cwd: dir, env })).stdout;
    expect(tscVersion).toContain(`Version ${typescript.replace(/^[~^]/, '').split('.')[0]}.`);

    writeFiveTaskPipeline(dir, 'shop');
    const init = await run(node, [cli, 'init', '--name', 'sales'], { cwd: dir, env });
    expect(init.stdout).toContain('updated  bin/shop.ts');
    expect(settings.map((file) => readFileSync(join(dir, file), 'utf8'))).toEqual(settingsBefore);

    // `npx cdk synth` runs cdk.json's app, `npx tsc && npx tsx bin/shop.ts`: the type check comes first,
    // and aws-cdk-lib's CloudFormation validation runs on both stacks, as a user's synth does. The Jest
    // tests synthesize the same two stacks, so there the validation (~11 s of CPU per test file, and
    // warnings only) is left out.
    const [synth, jest] = await Promise.allSettled([
      run(node, [join(dir, 'node_modules/aws-cdk/bin/cdk'), 'synth', '--quiet'], {
        cwd: dir,
        env,
        timeout: 300_000,
      }),
      run(node, [join(dir, 'node_modules/jest/bin/jest.js'), '--ci'], {
        cwd: dir,
        env: { ...env, CDK_VALIDATION: 'false' },
        timeout: 300_000,
      }),
    ]);
    expect(synth.status, printed(synth)).toBe('fulfilled');
    const template = JSON.parse(readFileSync(join(dir, 'cdk.out', 'ShopStack.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties?: { Environment?: { Variables?: object } } }>;
    };
    const resources = Object.values(template.Resources);
    const count = (type: string) => resources.filter((resource) => resource.Type === type).length;
    expect(count('AWS::StepFunctions::StateMachine')).toBe(1);
    expect(count('AWS::S3::Bucket')).toBe(1);
    const taskFunctions = resources.filter(
      (resource) =>
        resource.Type === 'AWS::Lambda::Function' &&
        (resource.Properties?.Environment?.Variables as Record<string, string> | undefined)
          ?.STEPWISE_PIPELINE === 'daily',
    );
    expect(taskFunctions).toHaveLength(FIVE_TASKS.length);
    expect(existsSync(join(dir, 'cdk.out', 'SalesPipeline.template.json'))).toBe(true);

    expect(jest.status, printed(jest)).toBe('fulfilled');
    expect(printed(jest)).toContain('PASS test/shop.test.ts');
    expect(printed(jest)).toContain('PASS test/sales-pipeline.test.ts');
    expect(printed(jest)).toMatch(/Tests: {7}4 passed, 4 total/);

    // The five-task pipeline's run is the one a person reads: progress lines say what happens, then the
    // report lists each task with its status; esbuild says nothing. The sales run prints the --json object.
    const daily = 'pipelines/daily/pipeline.ts';
    const input = ['--input', '{"day":"2026-01-31"}'];
    expect((await run(node, [cli, 'validate', daily], { cwd: dir, env })).stdout).toMatch(
      /^ok: pipeline 'daily' is valid/,
    );
    const shown = await run(node, [cli, 'run', daily, ...input], { cwd: dir, env, timeout: 240_000 });
    const terminal = `${shown.stdout}${shown.stderr}`;
    expect(terminal).toMatch(/^ {2}synth ready in /m);
    for (const task of FIVE_TASKS) expect(terminal).toMatch(new RegExp(`^ {2}✔ ${task} `, 'm'));
    expect(terminal).toMatch(/^SUCCEEDED daily run /m);
    const report = shown.stdout
      .slice(shown.stdout.search(/^SUCCEEDED daily run /m))
      .split('\n')
      .slice(1);
    expect(
      report.filter((line) => line !== '').map((line) => line.trim().split(/\s+/).slice(0, 2)),
      shown.stdout,
    ).toEqual(FIVE_TASKS.map((id) => [id, 'SUCCEEDED']));
    expect(terminal).not.toMatch(/Bundling asset|esbuild|⚡/);

    const sales = 'pipelines/sales/pipeline.ts';
    expect((await run(node, [cli, 'validate', sales], { cwd: dir, env })).stdout).toMatch(
      /^ok: pipeline 'sales' is valid/,
    );
    const local = await run(node, [cli, 'run', sales, ...input, '--json'], {
      cwd: dir,
      env,
      timeout: 240_000,
    });
    const json = JSON.parse(local.stdout) as { status: string; tasks: { id: string; status: string }[] };
    expect(json.status).toBe('SUCCEEDED');
    expect(json.tasks.map(({ id, status }) => ({ id, status }))).toEqual(
      ['extract', 'load'].map((id) => ({ id, status: 'SUCCEEDED' })),
    );
    // esbuild's bundling output never reaches the terminal.
    expect(local.stderr).not.toMatch(/Bundling asset|esbuild|⚡/);
  }, 600_000);
});
