import { type Step, walkLatched } from '../../lib/compile/plan.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';

/**
 * For each task, the tasks a plan guarantees are finished before it starts: everything in earlier
 * steps of every enclosing sequence. Branches of a parallel guarantee nothing about each other.
 * Throws when a task appears twice.
 */
export function finishedBefore(root: Step): Map<string, ReadonlySet<string>> {
  const before = new Map<string, ReadonlySet<string>>();
  const walk = (step: Step, done: ReadonlySet<string>): Set<string> => {
    switch (step.kind) {
      case 'task': {
        if (before.has(step.task.id)) throw new Error(`task '${step.task.id}' appears twice in the plan`);
        before.set(step.task.id, done);
        return new Set([step.task.id]);
      }
      case 'sequence': {
        let acc = new Set(done);
        const inside = new Set<string>();
        for (const inner of step.steps) {
          for (const id of walk(inner, acc)) inside.add(id);
          acc = new Set([...acc, ...inside]);
        }
        return inside;
      }
      case 'parallel': {
        const inside = new Set<string>();
        for (const branch of step.branches) for (const id of walk(branch, done)) inside.add(id);
        return inside;
      }
      case 'retryGroup':
        return walk(step.body, done);
      case 'latched':
        return new Set(
          walkLatched(step.chains, [...done], (unit, before) => [...walk(unit.step, new Set(before))]),
        );
    }
  };
  walk(root, new Set());
  return before;
}

/** Every task a task depends on, directly or through others. */
export function ancestorsOf(pipeline: PipelineDefinition): Map<string, ReadonlySet<string>> {
  const after = new Map(pipeline.tasks.map((t) => [t.id, t.after]));
  const result = new Map<string, Set<string>>();
  const visit = (id: string): Set<string> => {
    const known = result.get(id);
    if (known) return known;
    const set = new Set<string>();
    for (const dep of after.get(id) ?? []) for (const a of [dep, ...visit(dep)]) set.add(a);
    result.set(id, set);
    return set;
  };
  for (const task of pipeline.tasks) visit(task.id);
  return result;
}

export interface OrderReport {
  /** `task` may start before `dependency` has finished: a dependency the plan lost. */
  readonly broken: readonly string[];
  /** `task` waits for `other`, which it does not depend on: the plan is stricter than the spec. */
  readonly extraWaits: readonly string[];
  /** Tasks of the spec the plan leaves out. */
  readonly missing: readonly string[];
}

/** Compares the order a plan enforces with the order the spec asks for. */
export function checkPlanOrder(pipeline: PipelineDefinition, root: Step): OrderReport {
  const before = finishedBefore(root);
  const ancestors = ancestorsOf(pipeline);
  const broken: string[] = [];
  const extraWaits: string[] = [];
  const missing: string[] = [];
  for (const task of pipeline.tasks) {
    const done = before.get(task.id);
    if (!done) {
      missing.push(task.id);
      continue;
    }
    for (const dep of task.after) if (!done.has(dep)) broken.push(`${task.id} may start before ${dep}`);
    for (const other of done) {
      if (!ancestors.get(task.id)?.has(other)) extraWaits.push(`${task.id} waits for ${other}`);
    }
  }
  return { broken, extraWaits, missing };
}

/** A plan as nested text, for snapshots: `a ; (b | c) ; d`, with `retry[from..task]{...}` for groups. */
export function renderPlan(step: Step): string {
  switch (step.kind) {
    case 'task':
      return step.task.id;
    case 'sequence':
      return step.steps
        .map((s) => (s.kind === 'parallel' ? `(${renderPlan(s)})` : renderPlan(s)))
        .join(' ; ');
    case 'parallel':
      return step.branches
        .map((b) => (b.kind === 'sequence' ? `(${renderPlan(b)})` : renderPlan(b)))
        .join(' | ');
    case 'retryGroup':
      return `retry[${step.from}..${step.task.id}]{${renderPlan(step.body)}}`;
    case 'latched':
      return `latched{${step.chains
        .map((chain) =>
          chain
            .map((unit) => {
              const step = unit.step.kind === 'task' ? renderPlan(unit.step) : `(${renderPlan(unit.step)})`;
              return unit.waitsFor.length > 0 ? `${step}<${unit.waitsFor.join(',')}>` : step;
            })
            .join(' ; '),
        )
        .join(' | ')}}`;
  }
}
