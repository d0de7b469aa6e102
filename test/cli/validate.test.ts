// `stepwise validate` exits 1 and names the problem: the tasks on a cycle, a misspelled dependency.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stepwise } from '../local/stepwise-cli.ts';

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
