import { ancestorSets, retryGroupMembers } from '../spec/graph.ts';
import type { PipelineDefinition, ResolvedTask } from '../spec/types.ts';

/** How tasks are arranged: a task, tasks one after another, branches side by side, or a retry group. */
export type Step =
  | { readonly kind: 'task'; readonly task: ResolvedTask }
  | { readonly kind: 'sequence'; readonly steps: readonly Step[] }
  | { readonly kind: 'parallel'; readonly branches: readonly Step[] }
  | { readonly kind: 'retryGroup'; readonly task: ResolvedTask; readonly from: string; readonly body: Step };

export interface Plan {
  readonly root: Step;
  /** False when some dependency had to be made stricter than the spec asked, to fit a series-parallel shape. */
  readonly exact: boolean;
}

interface Unit {
  readonly id: string;
  readonly members: ReadonlySet<string>;
  readonly step: () => Step;
}

/**
 * Arranges a pipeline's tasks as nested sequences and parallel branches. A series-parallel DAG is
 * arranged exactly, so a run's makespan is its critical path. Any other DAG keeps every dependency, and
 * some tasks wait longer than they must; the plan says so with `exact: false`.
 */
export function planPipeline(pipeline: PipelineDefinition): Plan {
  const byId = new Map(pipeline.tasks.map((t) => [t.id, t]));
  const ids = pipeline.tasks.map((t) => t.id);
  const edges = new Map(pipeline.tasks.map((t) => [t.id, t.after]));
  const ancestors = ancestorSets(ids, edges);
  const groups = pipeline.tasks
    .filter((t) => t.retryFrom !== undefined)
    .map((t) => ({
      task: t,
      from: t.retryFrom as string,
      members: retryGroupMembers(t.id, t.retryFrom as string, ids, ancestors),
    }))
    .sort((a, b) => b.members.size - a.members.size);
  let exact = true;

  const planSet = (nodes: ReadonlySet<string>, outerGroup?: (typeof groups)[number]): Step => {
    // Retry groups inside this set that no other group inside it contains become single units.
    const inner = groups.filter((g) => g !== outerGroup && [...g.members].every((m) => nodes.has(m)));
    const top = inner.filter(
      (g) =>
        !inner.some(
          (o) => o !== g && o.members.size > g.members.size && [...g.members].every((m) => o.members.has(m)),
        ),
    );
    const unitOf = new Map<string, Unit>();
    for (const group of top) {
      const unit: Unit = {
        id: `group:${group.task.id}`,
        members: group.members,
        step: () => ({
          kind: 'retryGroup',
          task: group.task,
          from: group.from,
          body: planSet(group.members, group),
        }),
      };
      for (const m of group.members) unitOf.set(m, unit);
    }
    for (const id of nodes) {
      if (!unitOf.has(id)) {
        const task = byId.get(id) as ResolvedTask;
        unitOf.set(id, { id, members: new Set([id]), step: () => ({ kind: 'task', task }) });
      }
    }
    const units = [...new Set(unitOf.values())];
    const deps = new Map<Unit, Set<Unit>>(units.map((u) => [u, new Set<Unit>()]));
    for (const unit of units) {
      for (const member of unit.members) {
        for (const dep of edges.get(member) ?? []) {
          const depUnit = unitOf.get(dep);
          if (depUnit && depUnit !== unit) deps.get(unit)?.add(depUnit);
        }
      }
    }
    const result = decompose(units, deps, ids);
    if (!result.exact) exact = false;
    return result.step;
  };

  const root = planSet(new Set(ids));
  // A retry group runs as one unit, so a task outside it that needs only part of it still waits for
  // all of it, and the whole group waits for what any member needs. Check the waits the plan makes.
  return { root, exact: exact && waitsOnlyForAncestors(root, ancestors) };
}

/** True when no task waits for a task it does not depend on, directly or through others. */
function waitsOnlyForAncestors(root: Step, ancestors: ReadonlyMap<string, ReadonlySet<string>>): boolean {
  let only = true;
  const walk = (step: Step, done: readonly string[]): readonly string[] => {
    switch (step.kind) {
      case 'task': {
        const own = ancestors.get(step.task.id);
        if (done.length !== own?.size || !done.every((id) => own.has(id))) only = false;
        return [step.task.id];
      }
      case 'sequence': {
        const inside: string[] = [];
        for (const inner of step.steps) inside.push(...walk(inner, [...done, ...inside]));
        return inside;
      }
      case 'parallel':
        return step.branches.flatMap((branch) => walk(branch, done));
      case 'retryGroup':
        return walk(step.body, done);
    }
  };
  walk(root, []);
  return only;
}

function decompose(
  units: readonly Unit[],
  deps: ReadonlyMap<Unit, ReadonlySet<Unit>>,
  order: readonly string[],
): { step: Step; exact: boolean } {
  let exact = true;
  const unitAncestors = ancestorSets(units, deps);
  const ancestorsOf = (u: Unit): Set<Unit> => unitAncestors.get(u) as Set<Unit>;
  const rank = (u: Unit) => Math.min(...[...u.members].map((m) => order.indexOf(m)));

  const build = (set: readonly Unit[]): Step => {
    if (set.length === 1) return (set[0] as Unit).step();
    const components = connectedComponents(set, deps);
    if (components.length > 1) {
      return { kind: 'parallel', branches: components.map(build) };
    }
    const sorted = topologicalOrder(set, deps, rank);
    // Series split: the first prefix whose every unit precedes every unit after it.
    for (let k = 1; k < sorted.length; k++) {
      const head = sorted.slice(0, k);
      const tail = sorted.slice(k);
      if (tail.every((t) => head.every((h) => ancestorsOf(t).has(h)))) {
        return sequence(build(head), build(tail));
      }
    }
    // Not series-parallel: run the units with no dependency here first, then the rest. Every
    // dependency is kept; some units wait for sources they do not need.
    exact = false;
    const inSet = new Set(set);
    const sources = sorted.filter((u) => ![...(deps.get(u) ?? [])].some((d) => inSet.has(d)));
    const rest = sorted.filter((u) => !sources.includes(u));
    return sequence(build(sources), build(rest));
  };

  return { step: build([...units].sort((a, b) => rank(a) - rank(b))), exact };
}

function sequence(a: Step, b: Step): Step {
  const steps = [a, b].flatMap((s) => (s.kind === 'sequence' ? s.steps : [s]));
  return { kind: 'sequence', steps };
}

function connectedComponents(set: readonly Unit[], deps: ReadonlyMap<Unit, ReadonlySet<Unit>>): Unit[][] {
  const inSet = new Set(set);
  const neighbours = new Map<Unit, Set<Unit>>(set.map((u) => [u, new Set<Unit>()]));
  for (const u of set) {
    for (const d of deps.get(u) ?? []) {
      if (!inSet.has(d)) continue;
      neighbours.get(u)?.add(d);
      neighbours.get(d)?.add(u);
    }
  }
  const seen = new Set<Unit>();
  const components: Unit[][] = [];
  for (const start of set) {
    if (seen.has(start)) continue;
    const component: Unit[] = [];
    const queue = [start];
    seen.add(start);
    while (queue.length > 0) {
      const u = queue.shift() as Unit;
      component.push(u);
      for (const n of neighbours.get(u) ?? []) {
        if (!seen.has(n)) {
          seen.add(n);
          queue.push(n);
        }
      }
    }
    components.push(component);
  }
  return components;
}

function topologicalOrder(
  set: readonly Unit[],
  deps: ReadonlyMap<Unit, ReadonlySet<Unit>>,
  rank: (u: Unit) => number,
): Unit[] {
  const inSet = new Set(set);
  const remaining = new Map(set.map((u) => [u, [...(deps.get(u) ?? [])].filter((d) => inSet.has(d)).length]));
  const result: Unit[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, n]) => n === 0).map(([u]) => u);
    ready.sort((a, b) => rank(a) - rank(b));
    const next = ready[0] as Unit;
    remaining.delete(next);
    result.push(next);
    for (const u of remaining.keys()) {
      if (deps.get(u)?.has(next)) remaining.set(u, (remaining.get(u) as number) - 1);
    }
  }
  return result;
}
