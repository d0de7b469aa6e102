// Runs latched chains (graphs that are not series-parallel) with aws-local-stepfunctions, the latch's
// DynamoDB calls and SendTaskSuccess served by the local engine's integrations against dynalite. Order
// is checked from the sequence of start and end events, never from durations.
import { describe, expect, it } from 'vitest';
import type { StateMachineDefinition } from '../../lib/compile/asl.ts';
import { hasLatches } from '../../lib/compile/plan.ts';
import { compilePipeline } from '../../lib/compile/states.ts';
import { redriveDefinition } from '../../lib/local/redrive.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { checkPlanOrder } from '../private/plan-order.ts';
import { type Edges, randomDag, seededRandom } from '../private/random-dags.ts';
import { type FakeTask, runDefinition, type ServiceCall, taskError } from '../private/run-definition.ts';
import { pipelineFromEdges, testPipeline } from '../private/specs.ts';

const N_SHAPE: Edges = { a: [], b: [], c: ['a', 'b'], d: ['b'] };

/** Fake tasks that each sleep a seeded 0-20 ms, return `{ from: id }`, and log start, end and inputs. */
function recordingTasks(pipeline: PipelineDefinition, seed: number) {
  const random = seededRandom(seed);
  const events: string[] = [];
  const inputs = new Map<string, Record<string, unknown>>();
  const tasks: Record<string, FakeTask> = {};
  for (const task of pipeline.tasks) {
    const delay = Math.floor(random() * 20);
    tasks[task.id] = async (event) => {
      events.push(`start ${task.id}`);
      inputs.set(task.id, event.inputs);
      await new Promise((resolve) => setTimeout(resolve, delay));
      events.push(`end ${task.id}`);
      return { from: task.id };
    };
  }
  return { events, inputs, tasks };
}

/** Each task that started before one of its dependencies ended, or ran other than once. */
function orderViolations(pipeline: PipelineDefinition, events: readonly string[]): string[] {
  const problems: string[] = [];
  for (const task of pipeline.tasks) {
    const starts = events.filter((e) => e === `start ${task.id}`).length;
    if (starts !== 1) problems.push(`${task.id} started ${starts} times`);
    const start = events.indexOf(`start ${task.id}`);
    for (const dep of task.after) {
      const end = events.indexOf(`end ${dep}`);
      if (end === -1 || end > start) problems.push(`${task.id} started before ${dep} ended`);
    }
  }
  return problems;
}

/** Each task whose inputs are not exactly its direct dependencies' outputs. */
function inputProblems(pipeline: PipelineDefinition, inputs: ReadonlyMap<string, unknown>): string[] {
  const problems: string[] = [];
  for (const task of pipeline.tasks) {
    const expected = Object.fromEntries(task.after.map((dep) => [dep, { from: dep }]));
    if (JSON.stringify(sortKeys(inputs.get(task.id))) !== JSON.stringify(sortKeys(expected)))
      problems.push(`${task.id} got ${JSON.stringify(inputs.get(task.id))}`);
  }
  return problems;
}

const sortKeys = (value: unknown) =>
  value && typeof value === 'object'
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)))
    : value;

/** A promise resolved by the first service call from `state`, and the hook that watches for it. */
function callFrom(state: string): { seen: Promise<void>; onCall: (call: ServiceCall) => void } {
  let resolve!: () => void;
  const seen = new Promise<void>((res) => {
    resolve = res;
  });
  return { seen, onCall: (call) => call.state === state && resolve() };
}

describe('latched chains, run locally', () => {
  it('runs the N shape with each task after exactly its dependencies, each handed their outputs', async () => {
    const pipeline = pipelineFromEdges(N_SHAPE);
    const compiled = compilePipeline(pipeline);
    expect(compiled.plan.exact).toBe(true);
    const { events, inputs, tasks } = recordingTasks(pipeline, 1);
    const run = await runDefinition(compiled.definition, tasks);
    expect(run.status).toBe('SUCCEEDED');
    expect(orderViolations(pipeline, events)).toEqual([]);
    expect(inputProblems(pipeline, inputs)).toEqual([]);
  });

  it('parks a task whose dependency is still running, and the dependency wakes it', async () => {
    const pipeline = pipelineFromEdges(N_SHAPE);
    const { definition } = compilePipeline(pipeline);
    const { events, inputs, tasks } = recordingTasks(pipeline, 2);
    // b finishes only after c has stored its task token.
    const waiting = callFrom('c: wait');
    const run = await runDefinition(
      definition,
      {
        ...tasks,
        b: async (event) => {
          await waiting.seen;
          return (tasks.b as FakeTask)(event);
        },
      },
      {},
      undefined,
      waiting.onCall,
    );
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toContain('b: wake c');
    expect(run.calls.filter((c) => c.state === 'b: wake c')).toHaveLength(1);
    expect(orderViolations(pipeline, events)).toEqual([]);
    expect(inputs.get('c')).toEqual({ a: { from: 'a' }, b: { from: 'b' } });
  });

  it('goes straight on when its dependency finished before it asked', async () => {
    const pipeline = pipelineFromEdges(N_SHAPE);
    const { definition } = compilePipeline(pipeline);
    const { events, tasks } = recordingTasks(pipeline, 3);
    // a finishes only after b has marked itself done: c's conditional write then fails, and c goes on.
    const signalled = callFrom('b: signal');
    const run = await runDefinition(
      definition,
      {
        ...tasks,
        a: async (event) => {
          await signalled.seen;
          await new Promise((resolve) => setTimeout(resolve, 50));
          return (tasks.a as FakeTask)(event);
        },
      },
      {},
      undefined,
      signalled.onCall,
    );
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).not.toContain('b: wake c');
    expect(orderViolations(pipeline, events)).toEqual([]);
  });

  it('runs random graphs exactly: no task before its dependencies, none waiting for a non-ancestor', async () => {
    const problems: string[] = [];
    let latched = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const random = seededRandom(seed);
      const pipeline = pipelineFromEdges(randomDag(random, 8 + (seed % 4) * 6, 0.15 + random() * 0.2));
      const compiled = compilePipeline(pipeline);
      if (hasLatches(compiled.plan.root)) latched++;
      const order = checkPlanOrder(pipeline, compiled.plan.root);
      if (!compiled.plan.exact || order.extraWaits.length + order.broken.length > 0)
        problems.push(`seed ${seed}: plan ${JSON.stringify(order)}`);
      const { events, inputs, tasks } = recordingTasks(pipeline, seed);
      const run = await runDefinition(compiled.definition, tasks);
      if (run.status !== 'SUCCEEDED') problems.push(`seed ${seed}: ${run.error} ${run.cause}`);
      for (const p of [...orderViolations(pipeline, events), ...inputProblems(pipeline, inputs)])
        problems.push(`seed ${seed}: ${p}`);
    }
    expect(problems).toEqual([]);
    expect(latched).toBeGreaterThanOrEqual(6);
  }, 120_000);

  it('quarantines a run whose task in a latched chain meets bad data', async () => {
    const pipeline = pipelineFromEdges(N_SHAPE);
    const { definition } = compilePipeline(pipeline);
    const { tasks } = recordingTasks(pipeline, 4);
    const run = await runDefinition(definition, {
      ...tasks,
      d: () => {
        throw taskError('DataError', JSON.stringify({ errorType: 'DataError', errorMessage: 'no rows' }));
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toContain('Record quarantine');
    expect(run.states).not.toContain('Record run success');
  });

  describe('redrive', () => {
    it('runs again only what failed or was cut short, and the latch keeps what finished', async () => {
      const pipeline = testPipeline(
        { a: {}, b: {}, c: { after: ['a', 'b'] }, d: { after: ['b'] } },
        { defaults: { retry: { attempts: 1 } } },
      );
      const { definition } = compilePipeline(pipeline);
      const { events, inputs, tasks } = recordingTasks(pipeline, 5);
      // b fails once c is parked waiting for it; a has finished by then.
      const waiting = callFrom('c: wait');
      let bFails = true;
      const fakes: Record<string, FakeTask> = {
        ...tasks,
        b: async (event) => {
          if (bFails) {
            await waiting.seen;
            bFails = false;
            throw taskError('Error', 'warehouse unreachable');
          }
          return (tasks.b as FakeTask)(event);
        },
      };
      const first = await runDefinition(definition, fakes, {}, undefined, waiting.onCall);
      expect([first.status, first.error]).toEqual(['FAILED', 'Error']);
      expect(first.attempts).toEqual(['a', 'b']);

      const plan = redriveDefinition(definition as StateMachineDefinition, first.history);
      expect(plan.resumesAt).toContain('b');
      expect(plan.resumesAt).toContain('c: wait');
      const redrive = await runDefinition(plan.definition, fakes, {}, plan.input);
      expect(redrive.status).toBe('SUCCEEDED');
      expect([...redrive.attempts].sort()).toEqual(['b', 'c', 'd']);
      expect(inputs.get('c')).toEqual({ a: { from: 'a' }, b: { from: 'b' } });
      expect(orderViolations(pipeline, events)).toEqual([]);
    });
  });

  it('opens a new latch when a retry group holding latched chains runs again', async () => {
    const pipeline = testPipeline({
      s: {},
      a: { after: ['s'] },
      b: { after: ['s'] },
      c: { after: ['a', 'b'] },
      d: { after: ['b'] },
      e: { after: ['c', 'd'], retry: { attempts: 2, from: 's' } },
    });
    const { definition, plan } = compilePipeline(pipeline);
    expect(hasLatches(plan.root)).toBe(true);
    const { events, tasks } = recordingTasks(pipeline, 6);
    let eFails = true;
    const run = await runDefinition(definition, {
      ...tasks,
      e: async (event) => {
        const output = await (tasks.e as FakeTask)(event);
        if (eFails) {
          eFails = false;
          throw taskError('Error', 'flaky');
        }
        return output;
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    const opened = run.calls.filter((c) => c.state === 'c: wait' || c.state === 'b: signal');
    expect(opened.length).toBeGreaterThanOrEqual(2);
    // Each attempt of the group keeps every dependency: split the events at the second start of s.
    const second = events.indexOf('start s', 1);
    expect(second).toBeGreaterThan(0);
    for (const part of [events.slice(0, second), events.slice(second)])
      expect(orderViolations(pipeline, part)).toEqual([]);
    // The second attempt's latch is a new item: its keys differ from the first's.
    const keys = new Set(
      run.calls
        .filter((c) => c.state === 'b: signal')
        .map((c) => JSON.stringify((c.parameters as { Key: unknown }).Key)),
    );
    expect(keys.size).toBe(2);
  });
});
