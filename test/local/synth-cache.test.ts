// The local loop's cache: an unchanged pipeline reuses the assembly of the command before, and an edit
// to anything it was built from (a handler, what the handler imports, the spec) synthesizes again, so
// the next run executes the new code.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpec } from '../../lib/cli/load-spec.ts';
import { synthesizeLocal } from '../../lib/local/synth.ts';

const work = mkdtempSync(join(tmpdir(), 'stepwise-synth-cache-'));
const project = join(work, 'sales');
const stateDir = join(work, 'state');

/** Synthesizes a spec of the project; returns whether the assembly was reused, and every bundle's code. */
async function synthesize(specFile = 'pipeline.ts'): Promise<{ cached: boolean; code: string }> {
  const spec = await loadSpec(join(project, specFile));
  const { cached, deployment } = await synthesizeLocal([spec], stateDir);
  const code = [...deployment.functions.values()].map((f) => readFileSync(f.codeFile, 'utf8')).join('\n');
  return { cached, code };
}

describe('the local synth cache', () => {
  beforeAll(() => {
    cpSync(new URL('../fixtures/sales', import.meta.url), project, { recursive: true });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('synthesizes the first time and reuses the assembly when nothing changed', async () => {
    expect((await synthesize()).cached).toBe(false);
    expect((await synthesize()).cached).toBe(true);
  });

  it("leaves out aws-cdk-lib's CloudFormation validation, which the local engine does not need, and the environment as it was", async () => {
    // The test run turns the validation off for every synth (vitest.config.ts); a user's shell does not.
    const before = process.env.CDK_VALIDATION;
    delete process.env.CDK_VALIDATION;
    try {
      const { assemblyDir, cached } = await synthesizeLocal(
        [await loadSpec(join(project, 'pipeline.ts'))],
        join(work, 'state-unvalidated'),
      );
      expect(cached).toBe(false);
      expect(existsSync(join(assemblyDir, 'StepwiseLocal.template.json'))).toBe(true);
      // The validation writes its report beside the template, even when it finds nothing.
      expect(existsSync(join(assemblyDir, 'validation-report.json'))).toBe(false);
      expect(process.env.CDK_VALIDATION).toBeUndefined();
    } finally {
      if (before !== undefined) process.env.CDK_VALIDATION = before;
    }
  });

  it('synthesizes again after a handler edit, and the bundle holds the new code', async () => {
    const load = join(project, 'handlers', 'load.ts');
    writeFileSync(
      load,
      readFileSync(load, 'utf8').replace(
        'loaded: Object.keys',
        "marker: 'edited-load-handler', loaded: Object.keys",
      ),
    );
    const edited = await synthesize();
    expect(edited.cached).toBe(false);
    expect(edited.code).toContain('edited-load-handler');
    expect((await synthesize()).cached).toBe(true);
  });

  it('synthesizes again after an edit to a module a handler imports', async () => {
    const helper = join(project, 'handlers', 'regions.ts');
    writeFileSync(helper, "export const REGION_MARKER = 'first-region-marker';\n");
    const extract = join(project, 'handlers', 'extract.ts');
    writeFileSync(
      extract,
      `import { REGION_MARKER } from './regions.ts';\n${readFileSync(extract, 'utf8').replace('=> ({', '=> ({ marker: REGION_MARKER,')}`,
    );
    const first = await synthesize();
    expect(first.cached).toBe(false);
    expect(first.code).toContain('first-region-marker');
    writeFileSync(helper, "export const REGION_MARKER = 'second-region-marker';\n");
    const second = await synthesize();
    expect(second.cached).toBe(false);
    expect(second.code).toContain('second-region-marker');
    expect(second.code).not.toContain('first-region-marker');
  });

  it('synthesizes again after a spec edit', async () => {
    // A new file: the module system keeps the first import of a path for the life of the process.
    const spec = readFileSync(join(project, 'pipeline.ts'), 'utf8');
    writeFileSync(join(project, 'pipeline-longer.ts'), spec.replace("timeout: '30m'", "timeout: '40m'"));
    const longer = await synthesize('pipeline-longer.ts');
    expect(longer.cached).toBe(false);
    expect((await synthesize('pipeline-longer.ts')).cached).toBe(true);
  });
});
