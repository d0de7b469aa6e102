// State transitions per run, which a Standard workflow bills ($0.025 per 1,000), for the reference pipeline
// and every valid fixture pipeline, against a naive compile of the same pipeline: the compiled definition
// with a DynamoDB putItem Task state (a ledger row) inserted before and after every task, as an
// orchestrator that records task status from inside the state machine would do.
// Each definition runs its happy path on aws-local-stepfunctions (every task succeeds at once, gates
// pass; the test suite's runDefinition), and the states entered are counted.
// Run: node --import tsx bench/transitions.ts   Writes bench/results/transitions.json.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { State, StateMachineDefinition } from '../lib/compile/asl.ts';
import { INTEGRATIONS, SUBSTITUTIONS } from '../lib/compile/integrations.ts';
import { compilePipeline } from '../lib/compile/states.ts';
import type { PipelineDefinition } from '../lib/spec/types.ts';
import { runDefinition } from '../test/private/run-definition.ts';
import { writeResult } from './measure.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PRICE_PER_TRANSITION = 0.025 / 1000;

interface Scope {
  StartAt: string;
  States: Record<string, State>;
}

/**
 * The naive compile: every task state T of every scope becomes `Ledger before T` -> T -> `Ledger after T`,
 * each a DynamoDB putItem of one row. Whatever led to T (StartAt, Next, Choice branches, Catch) now leads
 * to the row before it; retries stay on T, as they would.
 */
export function withLedgerRowsAroundTasks(
  definition: StateMachineDefinition,
  taskIds: ReadonlySet<string>,
): StateMachineDefinition {
  const copy = structuredClone(definition) as unknown as Scope;
  const row = (task: string, when: string, next: { Next: string } | { End: true }): State =>
    ({
      Type: 'Task',
      Resource: INTEGRATIONS.dynamodbPutItem,
      Parameters: {
        TableName: `\${${SUBSTITUTIONS.ledgerTable}}`,
        Item: {
          // The ledger's own key attributes, so the row is valid where a table serves it.
          pk: { 'S.$': "States.Format('RUN#{}', $.run.id)" },
          sk: { S: `TASK#${task}#${when}` },
        },
      },
      ResultPath: null,
      ...next,
    }) as unknown as State;
  const rewrite = (scope: Scope): void => {
    const tasks = Object.keys(scope.States).filter((name) => taskIds.has(name));
    const before = (name: string) => (tasks.includes(name) ? `Ledger before ${name}` : name);
    for (const state of Object.values(scope.States) as Record<string, unknown>[]) {
      if (typeof state.Next === 'string') state.Next = before(state.Next);
      if (typeof state.Default === 'string') state.Default = before(state.Default);
      for (const choice of (state.Choices as { Next: string }[] | undefined) ?? [])
        choice.Next = before(choice.Next);
      for (const c of (state.Catch as { Next: string }[] | undefined) ?? []) c.Next = before(c.Next);
      for (const branch of (state.Branches as Scope[] | undefined) ?? []) rewrite(branch);
    }
    scope.StartAt = before(scope.StartAt);
    for (const task of tasks) {
      const state = scope.States[task] as Record<string, unknown>;
      const after = `Ledger after ${task}`;
      scope.States[after] = row(task, 'ended', state.End ? { End: true } : { Next: state.Next as string });
      delete state.End;
      state.Next = after;
      scope.States[`Ledger before ${task}`] = row(task, 'started', { Next: task });
    }
  };
  rewrite(copy);
  return copy as unknown as StateMachineDefinition;
}

function specFiles(): string[] {
  // Every example's spec, then every fixture.
  const found = readdirSync(join(ROOT, 'examples'))
    .sort()
    .map((name) => join(ROOT, 'examples', name, 'pipeline.ts'))
    .filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile());
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'handlers' && name !== 'data') walk(path);
      } else if (name.endsWith('.ts')) found.push(path);
    }
  };
  walk(join(ROOT, 'test', 'fixtures'));
  return found;
}

async function happyPathTransitions(
  spec: PipelineDefinition,
  definition: StateMachineDefinition,
): Promise<number> {
  const fakes = Object.fromEntries(
    spec.tasks.map((t) => {
      const result = t.gate ? { pass: true } : serviceResult(stateOf(definition.States, t.id));
      return [t.id, () => result];
    }),
  );
  const run = await runDefinition(definition, fakes);
  if (run.status !== 'SUCCEEDED')
    throw new Error(`${spec.name}: the happy path ended ${run.error}: ${run.cause}`);
  return run.states.length;
}

/** A task's state, wherever the compiler nested it. */
function stateOf(states: Record<string, unknown>, id: string): Record<string, unknown> | undefined {
  for (const [name, state] of Object.entries(states) as [string, Record<string, unknown>][]) {
    if (name === id) return state;
    for (const branch of (state.Branches as { States: Record<string, unknown> }[] | undefined) ?? []) {
      const found = stateOf(branch.States, id);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * What a service task's integration returns on the happy path: an object holding every path its
 * ResultSelector reads (a Lambda task's state has none, and returns {}).
 */
function serviceResult(state: Record<string, unknown> | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const path of Object.values((state?.ResultSelector ?? {}) as Record<string, unknown>)) {
    const keys = String(path)
      .replace(/^\$\.?/, '')
      .split('.')
      .filter(Boolean);
    let at = result;
    for (const [i, key] of keys.entries()) {
      if (i === keys.length - 1) at[key] = 'x';
      else {
        at[key] ??= {};
        at = at[key] as Record<string, unknown>;
      }
    }
  }
  return result;
}

const rows: Record<string, unknown>[] = [];
const skipped: { file: string; why: string }[] = [];
for (const file of specFiles()) {
  const at = relative(ROOT, file);
  let spec: PipelineDefinition;
  try {
    const loaded = (await import(pathToFileURL(file).href)) as { default?: unknown };
    spec = loaded.default as PipelineDefinition;
    if (!spec || !Array.isArray(spec.tasks)) {
      skipped.push({ file: at, why: 'no pipeline as its default export' });
      continue;
    }
  } catch (error) {
    // The CLI fixtures include specs that are invalid on purpose (a cycle, a misspelled field).
    skipped.push({ file: at, why: (error as Error).message.split('\n')[0] as string });
    continue;
  }
  const { definition } = compilePipeline(spec);
  const naive = withLedgerRowsAroundTasks(definition, new Set(spec.tasks.map((t) => t.id)));
  const stepwise = await happyPathTransitions(spec, definition);
  const naiveCount = await happyPathTransitions(spec, naive);
  rows.push({
    file: at,
    pipeline: spec.name,
    tasks: spec.tasks.length,
    transitions: stepwise,
    naiveTransitions: naiveCount,
    naiveOverStepwise: Math.round((naiveCount / stepwise) * 100) / 100,
    dollarsPerMillionRuns: Math.round(stepwise * PRICE_PER_TRANSITION * 1e6),
    naiveDollarsPerMillionRuns: Math.round(naiveCount * PRICE_PER_TRANSITION * 1e6),
  });
}
writeResult('transitions', 'node --import tsx bench/transitions.ts', {
  pricePer1000Transitions: 0.025,
  path: 'happy path: every task succeeds on its first attempt, every gate passes',
  pipelines: rows,
  skipped,
});
for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
for (const s of skipped) process.stdout.write(`skipped ${s.file}: ${s.why}\n`);
