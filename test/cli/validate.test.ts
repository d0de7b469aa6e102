// `stepwise validate` exits 1 and names the problem: the tasks on a cycle, a misspelled dependency.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { STACK_LINE, stepwise } from '../local/stepwise-cli.ts';

const spec = (name: string) => fileURLToPath(new URL(`../fixtures/cli/${name}`, import.meta.url));

describe('stepwise validate', () => {
  it('passes the reference pipeline', async () => {
    const result = await stepwise(
      'validate',
      fileURLToPath(new URL('../../examples/orders/pipeline.ts', import.meta.url)),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatchInlineSnapshot(`
      "ok: pipeline 'orders' is valid: 5 tasks, 5 handler functions, 2 triggers
      "
    `);
  });

  it('fails when the tasks form a cycle, naming the tasks on it', async () => {
    const result = await stepwise('validate', spec('cycle.ts'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatchInlineSnapshot(`
      "error: pipeline 'cycle' has 1 problem:
        - tasks.clean.after: dependency cycle: clean -> load -> extract -> clean; remove one of these dependencies
      "
    `);
  });

  it('fails when a dependency is misspelled, naming the misspelling', async () => {
    const result = await stepwise('validate', spec('misspelled.ts'), '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      pipeline: 'misspelled',
      problems: [
        { path: 'tasks.publish.after[0]', message: "unknown task 'transfrom' (did you mean 'transform'?)" },
      ],
    });
  });
});

describe('stepwise validate, when the spec gets its own copy of stepwise-cdk', () => {
  // The compiled CLI loads a spec through tsx; in a CommonJS project (what `cdk init` makes) the spec's
  // `stepwise-cdk` can be another instance of the package than the CLI's, so its SpecError is another
  // class. This spec throws such a one, as definePipeline of that copy would.
  const scratch = mkdtempSync(join(tmpdir(), 'stepwise-validate-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const spec = join(scratch, 'other-copy.ts');
  writeFileSync(
    spec,
    [
      'class SpecError extends Error {',
      "  override readonly name = 'SpecError';",
      "  readonly issues = [{ path: 'tasks.constructor', message: \"'constructor' is a name every JavaScript object already has\" }];",
      "  readonly pipeline = 'copied';",
      '}',
      'throw new SpecError("pipeline \'copied\' has 1 problem");',
      '',
    ].join('\n'),
  );

  it('fails with the problems, not as a spec that could not load, and suggests no stack trace', async () => {
    const result = await stepwise('validate', spec);
    expect([result.code, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toMatchInlineSnapshot(`
      "error: pipeline 'copied' has 1 problem:
        - tasks.constructor: 'constructor' is a name every JavaScript object already has
      "
    `);
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('prints the problems as JSON under --json', async () => {
    const result = await stepwise('validate', spec, '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      pipeline: 'copied',
      problems: [
        { path: 'tasks.constructor', message: "'constructor' is a name every JavaScript object already has" },
      ],
    });
  });
});
