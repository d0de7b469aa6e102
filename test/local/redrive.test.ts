// The local redrive follows RedriveExecution's rule: resume at the unsuccessful state, and in a
// Parallel run again only the branches that failed. Checked by running compiled definitions with
// aws-local-stepfunctions: a first run fails, then the definition `redriveDefinition` builds from its
// history runs with the saved input, as the local engine runs it.
import { describe, expect, it } from 'vitest';
import type { StateMachineDefinition } from '../../lib/compile/asl.ts';
import { compilePipeline } from '../../lib/compile/states.ts';
import { NothingToRedriveError, REDRIVE_PREFIX, redriveDefinition } from '../../lib/local/redrive.ts';
import { type FakeTask, type LocalRun, runDefinition, taskError } from '../private/run-definition.ts';
import { type TestTask, testPipeline } from '../private/specs.ts';

/** Task fakes that record the inputs each attempt got; `broken` tasks fail until `fixed` is called. */
function fakes(ids: readonly string[], broken: readonly string[]) {
  let fixed = false;
  const inputs: Record<string, unknown[]> = {};
  const tasks: Record<string, FakeTask> = {};
  for (const id of ids) {
    tasks[id] = (event) => {
      inputs[id] = [...(inputs[id] ?? []), event.inputs];
      if (broken.includes(id) && !fixed) throw taskError('Error', `${id} is broken`);
      return { from: id };
    };
  }
  const fix = () => {
    fixed = true;
  };
  return { tasks, inputs, fix };
}

const definitionOf = (tasks: Record<string, TestTask>) =>
  compilePipeline(testPipeline(tasks, { defaults: { retry: { attempts: 1 } } })).definition;

/** The first run, which must fail, and the redrive of it once the broken tasks are fixed. */
async function failThenRedrive(
  definition: StateMachineDefinition,
  broken: readonly string[],
): Promise<{ first: LocalRun; redrive: LocalRun; resumesAt: readonly string[] }> {
  const ids = Object.keys(taskStates(definition));
  const fake = fakes(ids, broken);
  const first = await runDefinition(definition, fake.tasks);
  expect(first.status).toBe('FAILED');
  const plan = redriveDefinition(definition, first.history);
  fake.fix();
  const redrive = await runDefinition(plan.definition, fake.tasks, {}, plan.input);
  return { first, redrive, resumesAt: plan.resumesAt };
}

/** The Lambda task states of a definition, by name. */
function taskStates(definition: StateMachineDefinition): Record<string, true> {
  const found: Record<string, true> = {};
  const walk = (states: Record<string, { Type: string; Resource?: unknown; Branches?: unknown }>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task' && String(state.Resource).includes('Handler_')) found[name] = true;
      for (const branch of (state.Branches as { States: typeof states }[] | undefined) ?? [])
        walk(branch.States);
    }
  };
  walk(definition.States as never);
  return found;
}

const ledgerWrites = (run: LocalRun) =>
  run.calls.filter((c) => c.resource.includes(':dynamodb:')).map((c) => c.state);

describe('redriveDefinition, run', () => {
  it('resumes a sequence at the failed task: what ran before does not run again, what follows does', async () => {
    const definition = definitionOf({
      ingest: {},
      transform: { after: ['ingest'] },
      publish: { after: ['transform'] },
    });
    const { first, redrive, resumesAt } = await failThenRedrive(definition, ['transform']);

    expect(first.attempts).toEqual(['ingest', 'transform']);
    expect(resumesAt).toEqual(['Run tasks', 'transform']);
    expect(redrive.status).toBe('SUCCEEDED');
    expect(redrive.attempts).toEqual(['transform', 'publish']);
    // The run row was opened by the first run; the redrive only closes it.
    expect(ledgerWrites(redrive)).toEqual(['Record run success']);
    expect(redrive.states.filter((s) => !s.startsWith(REDRIVE_PREFIX))).toEqual([
      'Run tasks',
      'transform',
      'publish',
      'Record run success',
    ]);
  });

  it('hands the resumed task the results saved before the failure', async () => {
    const definition = definitionOf({ ingest: {}, transform: { after: ['ingest'] } });
    const fake = fakes(['ingest', 'transform'], ['transform']);
    const first = await runDefinition(definition, fake.tasks);
    const plan = redriveDefinition(definition, first.history);
    fake.fix();
    const redrive = await runDefinition(plan.definition, fake.tasks, {}, plan.input);

    expect(redrive.status).toBe('SUCCEEDED');
    expect(fake.inputs.transform).toEqual([{ ingest: { from: 'ingest' } }, { ingest: { from: 'ingest' } }]);
    expect(fake.inputs.ingest).toHaveLength(1);
  });

  it('runs again only the failed branch of a Parallel; the branch that succeeded keeps its output', async () => {
    const definition = definitionOf({
      a: {},
      b: { after: ['a'] },
      c: { after: ['a'] },
      d: { after: ['b', 'c'] },
    });
    const fake = fakes(['a', 'b', 'c', 'd'], ['c']);
    const first = await runDefinition(definition, fake.tasks);
    const plan = redriveDefinition(definition, first.history);
    fake.fix();
    const redrive = await runDefinition(plan.definition, fake.tasks, {}, plan.input);

    expect(first.status).toBe('FAILED');
    expect(plan.resumesAt).toEqual(['Run tasks', 'Parallel 1: b, c', 'c']);
    expect(redrive.status).toBe('SUCCEEDED');
    expect(redrive.attempts).toEqual(['c', 'd']);
    expect(fake.inputs.d).toEqual([{ b: { from: 'b' }, c: { from: 'c' } }]);
  });

  it('recurses into nested Parallels: only the failed task of the inner one runs again', async () => {
    // b, c and d side by side compile to Parallel 1 of [Parallel 2 of b and c] and d.
    const definition = definitionOf({
      a: {},
      b: { after: ['a'] },
      c: { after: ['a'] },
      d: { after: ['a'] },
      e: { after: ['b', 'c', 'd'] },
    });
    const fake = fakes(['a', 'b', 'c', 'd', 'e'], ['c']);
    const first = await runDefinition(definition, fake.tasks);
    const plan = redriveDefinition(definition, first.history);
    fake.fix();
    const redrive = await runDefinition(plan.definition, fake.tasks, {}, plan.input);

    expect(plan.resumesAt).toEqual(['Run tasks', 'Parallel 1: b, c, d', 'Parallel 2: b, c', 'c']);
    expect(redrive.status).toBe('SUCCEEDED');
    expect(redrive.attempts).toEqual(['c', 'e']);
    expect(fake.inputs.e).toEqual([{ b: { from: 'b' }, c: { from: 'c' }, d: { from: 'd' } }]);
  });

  it('fails again at the same task when nothing was fixed, and can be redriven again from there', async () => {
    const definition = definitionOf({
      ingest: {},
      transform: { after: ['ingest'] },
      load: { after: ['transform'] },
    });
    const fake = fakes(['ingest', 'transform', 'load'], ['transform']);
    const first = await runDefinition(definition, fake.tasks);
    const second = redriveDefinition(definition, first.history);
    const again = await runDefinition(second.definition, fake.tasks, {}, second.input);
    expect([again.status, again.attempts]).toEqual(['FAILED', ['transform']]);

    // One history across redrives, as Step Functions keeps it.
    const history = [
      ...first.history,
      ...again.history.map((e) => ({ ...e, id: e.id + first.history.length })),
    ];
    const third = redriveDefinition(definition, history);
    fake.fix();
    const last = await runDefinition(third.definition, fake.tasks, {}, third.input);
    expect(third.resumesAt).toEqual(['Run tasks', 'transform']);
    expect([last.status, last.attempts]).toEqual(['SUCCEEDED', ['transform', 'load']]);
  });

  it('refuses a history with no unsuccessful state', async () => {
    const definition = definitionOf({ only: {} });
    const run = await runDefinition(definition, { only: () => ({}) });
    expect(run.status).toBe('SUCCEEDED');
    expect(() => redriveDefinition(definition, run.history)).toThrow(NothingToRedriveError);
    expect(() => redriveDefinition(definition, run.history)).toThrowErrorMatchingInlineSnapshot(
      `[NothingToRedriveError: the execution history has no unsuccessful state (one entered and never exited) to redrive from; start a new run instead]`,
    );
  });
});
