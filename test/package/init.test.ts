// `stepwise init`: what it writes validates and runs on this machine as it is, in a new directory and
// inside a project made by `cdk init`; it never overwrites a file. The generated Jest test is run
// against the built package in package.test.ts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, stepwise } from '../local/stepwise-cli.ts';
import { ensureBuilt } from './built.ts';
import { cdkInit, linkNodeModules, tempProject } from './linked-project.ts';

// The projects load `stepwise-cdk` through its `exports`, from dist/.
beforeAll(ensureBuilt, 320_000);
const temps: { remove: () => void }[] = [];
afterAll(() => {
  for (const temp of temps) temp.remove();
});

function project(name: string): string {
  const temp = tempProject(name);
  temps.push(temp);
  return temp.dir;
}

interface RunReport {
  status: string;
  pipeline: string;
  tasks: { id: string; status: string; attempts: number }[];
}

describe('stepwise init in a new directory', () => {
  it('makes a CDK app whose pipeline validates and runs locally', async () => {
    const dir = join(project('init-new'), 'my-pipelines');
    const init = await stepwise('init', dir, '--json');
    expect(init.code).toBe(0);
    const result = jsonOf<{ mode: string; created: string[]; updated: string[]; next: string[] }>(init);
    expect(result.mode).toBe('new');
    expect(result.created.sort()).toEqual([
      '.gitignore',
      'bin/app.ts',
      'cdk.json',
      'jest.config.js',
      'lib/sales-pipeline-stack.ts',
      'package.json',
      'pipelines/sales/handlers/extract.ts',
      'pipelines/sales/handlers/load.ts',
      'pipelines/sales/pipeline.ts',
      'test/sales-pipeline.test.ts',
      'tsconfig.json',
    ]);
    expect(result.next).toEqual([
      `cd ${dir}`,
      'npm install',
      'npx stepwise validate pipelines/sales/pipeline.ts',
      `npx stepwise run pipelines/sales/pipeline.ts --input '{"day":"2026-01-31"}'`,
      'npx jest',
      'npx cdk deploy',
    ]);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('my-pipelines');
    expect(Object.keys(manifest.dependencies)).toEqual(['aws-cdk-lib', 'constructs', 'stepwise-cdk']);
    expect(Object.keys(manifest.devDependencies)).toEqual(
      expect.arrayContaining([
        '@swc/core',
        '@swc/jest',
        '@types/jest',
        'aws-cdk',
        'jest',
        'tsx',
        'typescript',
      ]),
    );
    expect(manifest.type).toBeUndefined(); // CommonJS, as cdk init makes it
    const cdkJson = JSON.parse(readFileSync(join(dir, 'cdk.json'), 'utf8'));
    expect(cdkJson.app).toBe('npx tsc && npx tsx bin/app.ts');
    expect(cdkJson.context['@aws-cdk/core:target-partitions']).toEqual(['aws', 'aws-cn']);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8').split('\n')).toContain('.stepwise/');

    linkNodeModules(dir);
    const spec = join(dir, 'pipelines/sales/pipeline.ts');
    const validate = await stepwise('validate', spec);
    expect(validate.stderr).toBe('');
    expect(validate.stdout).toBe("ok: pipeline 'sales' is valid: 2 tasks, 2 handler functions, 1 trigger\n");
    expect(validate.code).toBe(0);

    const run = await stepwise(
      'run',
      spec,
      '--input',
      '{"day":"2026-01-31"}',
      '--json',
      '--state-dir',
      join(dir, '.stepwise'),
    );
    const report = jsonOf<RunReport>(run);
    expect(report.status).toBe('SUCCEEDED');
    expect(report.tasks.map(({ id, status, attempts }) => ({ id, status, attempts }))).toEqual([
      { id: 'extract', status: 'SUCCEEDED', attempts: 1 },
      { id: 'load', status: 'SUCCEEDED', attempts: 1 },
    ]);
    expect(run.code).toBe(0);
  });

  it('fails when a file it would write exists, naming each one and writing nothing', async () => {
    const dir = project('init-conflict');
    mkdirSync(join(dir, 'pipelines/sales'), { recursive: true });
    writeFileSync(join(dir, 'pipelines/sales/pipeline.ts'), '// mine\n');
    writeFileSync(join(dir, 'tsconfig.json'), '{}\n');
    const result = await stepwise('init', dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `error: stepwise init writes nothing over an existing file, and these exist in ${dir}: pipelines/sales/pipeline.ts, tsconfig.json; move them aside, or give the pipeline another name with --name\n`,
    );
    expect(readFileSync(join(dir, 'pipelines/sales/pipeline.ts'), 'utf8')).toBe('// mine\n');
    expect(existsSync(join(dir, 'pipelines/sales/handlers'))).toBe(false);
    expect(existsSync(join(dir, 'package.json'))).toBe(false);
  });

  it('fails when the directory holds a package.json but no cdk.json', async () => {
    const dir = project('init-not-cdk');
    writeFileSync(join(dir, 'package.json'), '{"name":"web"}\n');
    const result = await stepwise('init', dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `error: ${dir} has a package.json but no cdk.json, so it is not a CDK app to add a stack to; run 'npx cdk init app --language typescript' there first, or give stepwise init a new directory (stepwise init my-pipelines)\n`,
    );
    expect(existsSync(join(dir, 'pipelines'))).toBe(false);
  });

  it('fails when the directory holds a CDK app in another language (cdk.json, no package.json)', async () => {
    const dir = project('init-python-cdk');
    writeFileSync(join(dir, 'cdk.json'), '{"app":"python3 app.py"}\n');
    const result = await stepwise('init', dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `error: ${dir} has a cdk.json but no package.json: a CDK app in another language; stepwise pipelines and their stacks are TypeScript, so give stepwise init a new directory (stepwise init my-pipelines) or a TypeScript CDK app\n`,
    );
    expect(existsSync(join(dir, 'pipelines'))).toBe(false);
  });

  it('fails when --name is not a pipeline name', async () => {
    const dir = project('init-bad-name');
    const result = await stepwise('init', dir, '--name', 'Daily Sales');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "error: --name 'Daily Sales' is not a pipeline name: use lowercase letters, digits and '-', starting with a letter, at most 40 characters (e.g. --name daily-sales)\nrun 'stepwise --help' for usage\n",
    );
    expect(existsSync(join(dir, 'pipelines'))).toBe(false);
  });
});

describe('stepwise init in a project made by cdk init', () => {
  it('adds the pipeline, its stack and its test, puts the stack in the app, and the pipeline runs', async () => {
    const dir = join(project('init-cdk'), 'shop');
    await cdkInit(dir);
    const appBefore = readFileSync(join(dir, 'bin/shop.ts'), 'utf8');
    const manifestBefore = readFileSync(join(dir, 'package.json'), 'utf8');

    const init = await stepwise('init', dir, '--name', 'daily-orders');
    expect(init.code).toBe(0);
    expect(init.stdout).toBe(
      [
        `added the 'daily-orders' pipeline to the CDK app in ${dir}:`,
        '  created  pipelines/daily-orders/pipeline.ts',
        '  created  pipelines/daily-orders/handlers/extract.ts',
        '  created  pipelines/daily-orders/handlers/load.ts',
        '  created  lib/daily-orders-pipeline-stack.ts',
        '  created  test/daily-orders-pipeline.test.ts',
        '  updated  .gitignore',
        '  updated  bin/shop.ts',
        '',
        'next:',
        '  npm install stepwise-cdk',
        '  npx stepwise validate pipelines/daily-orders/pipeline.ts',
        `  npx stepwise run pipelines/daily-orders/pipeline.ts --input '{"day":"2026-01-31"}'`,
        '  npx jest',
        '  npx cdk deploy',
        '',
      ].join('\n'),
    );
    // The app gains exactly the import and the stack; nothing else in the project changes.
    const app = readFileSync(join(dir, 'bin/shop.ts'), 'utf8');
    expect(
      app.replace(
        /^import \{ DailyOrdersPipelineStack \} from '..\/lib\/daily-orders-pipeline-stack';\n/m,
        '',
      ),
    ).toBe(`${appBefore}new DailyOrdersPipelineStack(app, 'DailyOrdersPipeline');\n`);
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe(manifestBefore);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toMatch(/\n\.stepwise\/\n$/);

    // Run again: the pipeline's files exist now, so nothing is written.
    const again = await stepwise('init', dir, '--name', 'daily-orders');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('pipelines/daily-orders/pipeline.ts, ');
    expect(readFileSync(join(dir, 'bin/shop.ts'), 'utf8')).toBe(app);

    linkNodeModules(dir);
    const spec = join(dir, 'pipelines/daily-orders/pipeline.ts');
    expect((await stepwise('validate', spec)).code).toBe(0);
    const run = await stepwise('run', spec, '--json', '--state-dir', join(dir, '.stepwise'));
    const report = jsonOf<RunReport>(run);
    expect(report.pipeline).toBe('daily-orders');
    expect(report.status).toBe('SUCCEEDED');
    expect(report.tasks.map((task) => task.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  it('prints the two lines for an app it cannot safely edit (one that calls synth itself)', async () => {
    const dir = join(project('init-cdk-synth'), 'shop');
    await cdkInit(dir);
    const file = join(dir, 'bin/shop.ts');
    writeFileSync(file, `${readFileSync(file, 'utf8')}app.synth();\n`);
    const before = readFileSync(file, 'utf8');
    const init = await stepwise('init', dir);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(
      [
        "add these two lines to bin/shop.ts, after 'const app = ...':",
        "  import { SalesPipelineStack } from '../lib/sales-pipeline-stack';",
        "  new SalesPipelineStack(app, 'SalesPipeline');",
      ].join('\n'),
    );
    expect(init.stdout).not.toContain('updated  bin/shop.ts');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('writes imports with .js in an ESM project, as NodeNext requires, and the pipeline runs', async () => {
    const dir = join(project('init-esm'), 'shop');
    await cdkInit(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...manifest, type: 'module' }));
    expect((await stepwise('init', dir)).code).toBe(0);
    expect(readFileSync(join(dir, 'lib/sales-pipeline-stack.ts'), 'utf8')).toContain(
      "import sales from '../pipelines/sales/pipeline.js';",
    );
    expect(readFileSync(join(dir, 'bin/shop.ts'), 'utf8')).toContain(
      "import { SalesPipelineStack } from '../lib/sales-pipeline-stack.js';",
    );

    // The spec loads in an ESM project as in a CommonJS one: it validates and runs.
    linkNodeModules(dir);
    const spec = join(dir, 'pipelines/sales/pipeline.ts');
    const validate = await stepwise('validate', spec);
    expect([validate.code, validate.stderr]).toEqual([0, '']);
    const run = await stepwise('run', spec, '--json', '--state-dir', join(dir, '.stepwise'));
    const report = jsonOf<RunReport>(run);
    expect([report.pipeline, report.status]).toEqual(['sales', 'SUCCEEDED']);
    expect(report.tasks.map((task) => task.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });
});
