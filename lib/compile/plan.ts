import { ancestorSets, retryGroupMembers } from '../spec/graph.ts';
import type { PipelineDefinition, ResolvedTask } from '../spec/types.ts';

/** How tasks are arranged: a task, tasks one after another, branches side by side, or a retry group. */
export type Step =
  | { readonly kind: 'task'; readonly task: ResolvedTask }
  | { readonly kind: 'sequence'; readonly steps: readonly Step[] }
  | { readonly kind: 'parallel'; readonly branches: readonly Step[] }
  | { readonly kind: 'retryGroup'; readonly task: ResolvedTask; readonly from: string; readonly body: Step }
  | { readonly kind: 'latched'; readonly chains: readonly (readonly LatchedUnit[])[] };

/**
 * A unit (a task, or a retry group) on one chain of a latched step. The chains run side by side; a
 * unit follows the one before it on its chain, and waits, through a latch in the ledger, for the units
 * of other chains it depends on, and for nothing else.
 */
export interface LatchedUnit {
  /** The unit's name in the latch: its task id, or `group:<task>` for a retry group. */
  readonly key: string;
  readonly step: Step;
  /** Units of other chains this one waits for (their keys), none implied by another or by its chain. */
  readonly waitsFor: readonly string[];
  /** Tasks of other chains whose outputs this unit's tasks take as inputs, read from the latch. */
  readonly reads: readonly string[];
  /** Tasks of this unit whose outputs units of other chains read. */
  readonly publishes: readonly string[];
  /** Units that wait for this one, each with everything it waits for: this unit wakes it when all are done. */
  readonly wakes: readonly { readonly key: string; readonly waitsFor: readonly string[] }[];
}

export interface Plan {
  readonly root: Step;
  /**
   * True when every task waits for exactly the tasks it depends on, directly or through others, so a
   * run's makespan is its critical path. A retry group runs as one unit, which can make it false.
   */
  readonly exact: boolean;
}

interface Unit {
  readonly id: string;
  readonly members: ReadonlySet<string>;
  readonly step: () => Step;
}

/**
 * Arranges a pipeline's tasks as nested sequences and parallel branches, which is exact for a
 * series-parallel DAG and needs nothing but Parallel states. A part of the DAG that is not
 * series-parallel cannot be nested that way without making some task wait for a task it does not
 * depend on (fork-join nesting only expresses series-parallel orders), so it becomes a latched step:
 * chains side by side, each unit waiting through a ledger latch for exactly its own dependencies.
 */
export interface PlanOptions {
  /**
   * Whether a part that is not series-parallel becomes a latched step. Without latches it runs its
   * units with no dependency inside it first, then the rest: every dependency is kept, some units wait
   * for sources they do not need, and the plan is not exact.
   * @default true
   */
  readonly latches?: boolean;
}

export function planPipeline(pipeline: PipelineDefinition, options: PlanOptions = {}): Plan {
  const latches = options.latches ?? true;
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
    return decompose(units, deps, ids, edges, unitOf, latches);
  };

  const root = planSet(new Set(ids));
  // A retry group runs as one unit, so a task outside it that needs only part of it still waits for
  // all of it, and the whole group waits for what any member needs. Check the waits the plan makes.
  return { root, exact: waitsOnlyForAncestors(root, ancestors) };
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
      case 'latched':
        return walkLatched(step.chains, done, (unit, before) => walk(unit.step, before));
    }
  };
  walk(root, []);
  return only;
}

/**
 * Walks a latched step's units in an order where each comes after the unit before it on its chain and
 * after every unit it waits for. `visit` gets the tasks finished before the unit starts and returns
 * the unit's own tasks; the result is every task of the step.
 */
export function walkLatched(
  chains: readonly (readonly LatchedUnit[])[],
  done: readonly string[],
  visit: (unit: LatchedUnit, before: readonly string[]) => readonly string[],
): string[] {
  const finished = new Map<string, readonly string[]>();
  const inside: string[] = [];
  const position = chains.map(() => 0);
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const [c, chain] of chains.entries()) {
      const unit = chain[position[c] as number];
      if (!unit?.waitsFor.every((key) => finished.has(key))) continue;
      const previous = chain[(position[c] as number) - 1];
      const before = new Set(done);
      for (const id of previous ? (finished.get(previous.key) as readonly string[]) : []) before.add(id);
      for (const key of unit.waitsFor)
        for (const id of finished.get(key) as readonly string[]) before.add(id);
      const own = visit(unit, [...before]);
      inside.push(...own);
      finished.set(unit.key, [...before, ...own]);
      position[c] = (position[c] as number) + 1;
      progressed = true;
    }
  }
  if (chains.some((chain, c) => (position[c] as number) < chain.length))
    throw new Error('a latched step waits in a cycle');
  return inside;
}

function decompose(
  units: readonly Unit[],
  deps: ReadonlyMap<Unit, ReadonlySet<Unit>>,
  order: readonly string[],
  edges: ReadonlyMap<string, readonly string[]>,
  unitOf: ReadonlyMap<string, Unit>,
  latches: boolean,
): Step {
  const unitAncestors = ancestorSets(units, deps);
  const ancestorsOf = (u: Unit): Set<Unit> => unitAncestors.get(u) as Set<Unit>;
  const orderIndex = new Map(order.map((m, i) => [m, i]));
  const ranks = new Map<Unit, number>();
  const rank = (u: Unit): number => {
    let r = ranks.get(u);
    if (r === undefined) {
      r = Math.min(...[...u.members].map((m) => orderIndex.get(m) ?? -1));
      ranks.set(u, r);
    }
    return r;
  };

  const build = (set: readonly Unit[]): Step => {
    if (set.length === 1) return (set[0] as Unit).step();
    const components = connectedComponents(set, deps);
    if (components.length > 1) {
      return { kind: 'parallel', branches: components.map(build) };
    }
    const sorted = topologicalOrder(set, deps, rank);
    // Series split, at every cut at once: what follows a cut is the rest of the same order, and its own
    // cuts are the later cuts of this set, so splitting there gives the sequence that splitting at the
    // first cut and building the rest would (with fewer passes over a long set).
    const cuts = seriesCuts(sorted, ancestorsOf);
    if (cuts.length > 0) {
      const bounds = [0, ...cuts, sorted.length];
      return bounds
        .slice(1)
        .map((end, i) => build(sorted.slice(bounds[i], end)))
        .reduce((before, after) => sequence(before, after));
    }
    if (latches) return latched(sorted, deps, ancestorsOf, edges, unitOf);
    const inSet = new Set(set);
    const sources = sorted.filter((u) => ![...(deps.get(u) ?? [])].some((d) => inSet.has(d)));
    const rest = sorted.filter((u) => !sources.includes(u));
    return sequence(build(sources), build(rest));
  };

  return build([...units].sort((a, b) => rank(a) - rank(b)));
}

/**
 * A connected set that no series split divides, as chains that run side by side. Each unit, in
 * topological order, extends the chain that ends in one of its direct dependencies (the one with the
 * most ancestors, which covers the most), or starts a new chain. On its chain a unit follows a direct
 * dependency, so the chain makes it wait only for its ancestors; what it needs from other chains it
 * waits for through the latch. Everything outside the set that a unit depends on finished before the
 * set started (the enclosing sequence), and every unit depends on all of that.
 */
export function hasLatches(step: Step): boolean {
  switch (step.kind) {
    case 'task':
      return false;
    case 'sequence':
      return step.steps.some(hasLatches);
    case 'parallel':
      return step.branches.some(hasLatches);
    case 'retryGroup':
      return hasLatches(step.body);
    case 'latched':
      return true;
  }
}

function latched(
  sorted: readonly Unit[],
  deps: ReadonlyMap<Unit, ReadonlySet<Unit>>,
  ancestorsOf: (u: Unit) => Set<Unit>,
  edges: ReadonlyMap<string, readonly string[]>,
  unitOf: ReadonlyMap<string, Unit>,
): Step {
  const inSet = new Set(sorted);
  const chainOf = new Map<Unit, Unit[]>();
  const chains: Unit[][] = [];
  for (const unit of sorted) {
    const direct = [...(deps.get(unit) ?? [])].filter((d) => inSet.has(d));
    const open = direct
      .filter((d) => chainOf.get(d)?.at(-1) === d)
      .sort((a, b) => ancestorsOf(b).size - ancestorsOf(a).size)[0];
    const chain = open ? (chainOf.get(open) as Unit[]) : [];
    if (!open) chains.push(chain);
    chain.push(unit);
    chainOf.set(unit, chain);
  }
  const keyOf = (u: Unit) => u.id;
  const waits = new Map<Unit, Unit[]>();
  const reads = new Map<Unit, string[]>();
  const readBy = new Set<string>();
  for (const unit of sorted) {
    const chain = chainOf.get(unit) as Unit[];
    const previous = chain[chain.indexOf(unit) - 1];
    const covered = previous ? new Set([previous, ...ancestorsOf(previous)]) : new Set<Unit>();
    const across = [...(deps.get(unit) ?? [])].filter((d) => inSet.has(d) && chainOf.get(d) !== chain);
    const needed = across.filter((d) => !covered.has(d));
    // A unit another waited unit depends on is done once that one is.
    waits.set(
      unit,
      needed.filter((d) => !needed.some((o) => o !== d && ancestorsOf(o).has(d))),
    );
    const inputs = new Set<string>();
    for (const member of unit.members) {
      for (const dep of edges.get(member) ?? []) {
        const depUnit = unitOf.get(dep);
        if (depUnit && depUnit !== unit && inSet.has(depUnit) && chainOf.get(depUnit) !== chain)
          inputs.add(dep);
      }
    }
    reads.set(unit, [...inputs]);
    for (const id of inputs) readBy.add(id);
  }
  return {
    kind: 'latched',
    chains: chains.map((chain) =>
      chain.map((unit) => ({
        key: keyOf(unit),
        step: unit.step(),
        waitsFor: (waits.get(unit) as Unit[]).map(keyOf),
        reads: reads.get(unit) as string[],
        publishes: [...unit.members].filter((m) => readBy.has(m)),
        wakes: sorted
          .filter((w) => waits.get(w)?.includes(unit))
          .map((w) => ({ key: keyOf(w), waitsFor: (waits.get(w) as Unit[]).map(keyOf) })),
      })),
    ),
  };
}

/**
 * Where a topological order splits in series: each k (0 < k < length) such that every unit from k on
 * has every unit before k among its ancestors. `reach[j]` is how long a prefix of the order the ancestors
 * of sorted[j] hold; the cut at k holds when no unit from k on reaches less than k.
 */
function seriesCuts(sorted: readonly Unit[], ancestorsOf: (u: Unit) => ReadonlySet<Unit>): number[] {
  const reach = sorted.map((unit, j) => {
    const own = ancestorsOf(unit);
    let p = 0;
    while (p < j && own.has(sorted[p] as Unit)) p++;
    return p;
  });
  const cuts: number[] = [];
  let lowest = Number.POSITIVE_INFINITY;
  for (let k = sorted.length - 1; k > 0; k--) {
    lowest = Math.min(lowest, reach[k] as number);
    if (lowest >= k) cuts.push(k);
  }
  return cuts.reverse();
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
  // Kahn's algorithm: of the units whose dependencies are all placed, the lowest rank goes next, ties
  // in the order of `set`. Dependents are indexed once, so a 1,000-task plan does not rescan the set.
  const position = new Map(set.map((u, i) => [u, i]));
  const before = (a: Unit, b: Unit): boolean => {
    const ra = rank(a);
    const rb = rank(b);
    return ra < rb || (ra === rb && (position.get(a) as number) < (position.get(b) as number));
  };
  const waiting = new Map<Unit, number>();
  const dependents = new Map<Unit, Unit[]>();
  for (const u of set) {
    let count = 0;
    for (const d of deps.get(u) ?? []) {
      if (!position.has(d)) continue;
      count++;
      const list = dependents.get(d);
      if (list) list.push(u);
      else dependents.set(d, [u]);
    }
    waiting.set(u, count);
  }
  /** Ready units, kept in order: the next one is first. */
  const ready: Unit[] = [];
  const add = (u: Unit): void => {
    let low = 0;
    let high = ready.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (before(ready[mid] as Unit, u)) low = mid + 1;
      else high = mid;
    }
    ready.splice(low, 0, u);
  };
  for (const u of set) if (waiting.get(u) === 0) add(u);
  const result: Unit[] = [];
  while (ready.length > 0) {
    const next = ready.shift() as Unit;
    result.push(next);
    for (const u of dependents.get(next) ?? []) {
      const left = (waiting.get(u) as number) - 1;
      waiting.set(u, left);
      if (left === 0) add(u);
    }
  }
  return result;
}
