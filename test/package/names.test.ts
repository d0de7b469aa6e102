// The names the deployed constructs and the Lambda runtimes agree on are written once, in lib/names.ts
// (the task runtime's own variables in lambdas/task): no other source file spells one out as a string
// literal, an object key or a `process.env.X` access. The source is parsed, so comments do not count.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { BUCKETS_VARIABLE, LOG_LEVEL_VARIABLE } from '../../lambdas/task/index.ts';
import { LOCAL_RUN_VARIABLE } from '../../lambdas/task/log.ts';
import * as names from '../../lib/names.ts';
import { repositoryRoot } from './linked-project.ts';

/**
 * Each shared name, with the files allowed to spell it out. Metric names are left out: every use is
 * typed `RunMetricName` or `DispatcherMetricName`, so the type checker holds them to lib/names.ts.
 */
function sharedNames(): Map<string, readonly string[]> {
  const owners = new Map<string, readonly string[]>();
  const fromNames = [
    ...Object.values(names.LEDGER_KEY_PREFIX),
    ...Object.values(names.STACK_OUTPUTS),
    names.STATE_MACHINE_OUTPUT_PREFIX,
    names.STATUS_INDEX,
    names.RUN_FINISHED.detailType,
    ...Object.values(names.PLATFORM_ENVIRONMENT),
    names.LOCAL_SYNTH_CONTEXT,
    names.STAND_INS_METADATA,
    names.DEFINITION_BUDGET_CONTEXT,
  ];
  for (const name of fromNames) owners.set(name, ['lib/names.ts']);
  // A container task's environment carries the run's identity beside it (STEPWISE_RUN_ID, ...), for
  // the user's own code, as the README documents.
  owners.set(names.TASK_PIPELINE_VARIABLE, [
    'lib/names.ts',
    'lib/spec/adapters/batch-job.ts',
    'lib/spec/adapters/ecs-task.ts',
  ]);
  owners.set(BUCKETS_VARIABLE, ['lambdas/task/buckets.ts']);
  owners.set(LOG_LEVEL_VARIABLE, ['lambdas/task/log.ts']);
  owners.set(LOCAL_RUN_VARIABLE, ['lambdas/task/log.ts']);
  return owners;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** Every place in `text` that spells out one of `shared`, as `file:line 'name'`. */
function spelledOut(file: string, text: string, shared: ReadonlyMap<string, readonly string[]>): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    let spelled: string | undefined;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) spelled = node.text;
    // `{ LEDGER_TABLE: ... }` and `process.env.LEDGER_TABLE`
    else if (
      ts.isIdentifier(node) &&
      (ts.isPropertyAssignment(node.parent) || ts.isPropertyAccessExpression(node.parent)) &&
      node.parent.name === node
    )
      spelled = node.text;
    // `PIPELINE#${name}`: a template's head
    else if (ts.isTemplateHead(node))
      spelled = [...shared.keys()].find((name) => name.endsWith('#') && node.text.startsWith(name));
    if (spelled !== undefined && shared.has(spelled) && !shared.get(spelled)?.includes(file)) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${file}:${line + 1} '${spelled}'`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('the names the constructs and the Lambda runtimes share', () => {
  it('are written once: no file in lib/ or lambdas/ but their own spells one out', () => {
    const shared = sharedNames();
    const found = ['lib', 'lambdas'].flatMap((dir) =>
      [...sourceFiles(join(repositoryRoot, dir))].flatMap((path) =>
        spelledOut(relative(repositoryRoot, path), readFileSync(path, 'utf8'), shared),
      ),
    );
    expect(found).toEqual([]);
  });

  it('fails when a file spells out a shared name as a literal, a key, an env access or a key prefix', () => {
    const shared = sharedNames();
    const text = [
      'const a = process.env.LEDGER_TABLE;',
      "const b = { ALERT_TOPIC_ARN: 'x', other: 'StepwiseLedgerTable' };",
      `const c = \`PIPELINE#\${name}\`;`,
      "// LEDGER_TABLE in a comment does not count; neither does 'a LEDGER_TABLE message'",
    ].join('\n');
    expect(spelledOut('lib/x.ts', text, shared)).toEqual([
      "lib/x.ts:1 'LEDGER_TABLE'",
      "lib/x.ts:2 'ALERT_TOPIC_ARN'",
      "lib/x.ts:2 'StepwiseLedgerTable'",
      "lib/x.ts:3 'PIPELINE#'",
    ]);
  });
});
