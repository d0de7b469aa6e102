import { didYouMean } from './did-you-mean.ts';
import type { SpecIssue } from './errors.ts';

/** The dependency shape of a spec, as far as it could be read. */
export interface TaskGraphInput {
  readonly ids: readonly string[];
  readonly after: ReadonlyMap<string, readonly string[]>;
  readonly retryFrom: ReadonlyMap<string, string>;
}

/**
 * Checks dependencies: unknown and duplicate entries, self-dependencies, cycles (named with their path),
 * and that each `retry.from` names an ancestor. Groups formed by `retry.from` must nest or stay apart.
 */
export function checkTaskGraph(graph: TaskGraphInput): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const known = new Set(graph.ids);
  const edges = new Map<string, string[]>();
  for (const id of graph.ids) {
    const after = graph.after.get(id) ?? [];
    const kept: string[] = [];
    const seen = new Set<string>();
    for (const [index, dep] of after.entries()) {
      const path = `tasks.${id}.after[${index}]`;
      if (dep === id) {
        issues.push({
          path,
          message: `task '${id}' depends on itself; remove '${id}' from its own after list`,
        });
      } else if (!known.has(dep)) {
        issues.push({ path, message: `unknown task '${dep}'${didYouMean(dep, known)}` });
      } else if (seen.has(dep)) {
        issues.push({ path, message: `'${dep}' is listed twice; list each dependency once` });
      } else {
        kept.push(dep);
      }
      seen.add(dep);
    }
    edges.set(id, kept);
  }

  const cycle = findCycle(graph.ids, edges);
  if (cycle) {
    issues.push({
      path: `tasks.${cycle[0]}.after`,
      message: `dependency cycle: ${cycle.join(' -> ')}; remove one of these dependencies`,
    });
    return issues;
  }

  const ancestors = ancestorSets(graph.ids, edges);
  for (const [id, from] of graph.retryFrom) {
    if (!known.has(from)) {
      issues.push({
        path: `tasks.${id}.retry.from`,
        message: `unknown task '${from}'${didYouMean(from, known)}`,
      });
    } else if (from !== id && !ancestors.get(id)?.has(from)) {
      issues.push({
        path: `tasks.${id}.retry.from`,
        message: `'${from}' is not upstream of '${id}'; retry.from must name a task that '${id}' depends on, directly or through others`,
      });
    }
  }
  if (issues.length === 0) issues.push(...checkRetryGroupsNest(graph, ancestors));
  return issues;
}

/** For each node, the nodes it depends on, directly or through others. Edges run to dependencies. */
export function ancestorSets<T>(ids: Iterable<T>, edges: ReadonlyMap<T, Iterable<T>>): Map<T, Set<T>> {
  const result = new Map<T, Set<T>>();
  const visit = (id: T): Set<T> => {
    const cached = result.get(id);
    if (cached) return cached;
    const set = new Set<T>();
    result.set(id, set);
    for (const dep of edges.get(id) ?? []) {
      set.add(dep);
      for (const a of visit(dep)) set.add(a);
    }
    return set;
  };
  for (const id of ids) visit(id);
  return result;
}

/** Members of the group that `retry.from` forms: every task on a path from `from` to `task`. */
export function retryGroupMembers(
  task: string,
  from: string,
  ids: readonly string[],
  ancestors: ReadonlyMap<string, ReadonlySet<string>>,
): Set<string> {
  const members = new Set<string>([from, task]);
  for (const id of ids) {
    if (ancestors.get(id)?.has(from) && ancestors.get(task)?.has(id)) members.add(id);
  }
  return members;
}

function checkRetryGroupsNest(
  graph: TaskGraphInput,
  ancestors: ReadonlyMap<string, ReadonlySet<string>>,
): SpecIssue[] {
  const groups = [...graph.retryFrom].map(([task, from]) => ({
    task,
    members: retryGroupMembers(task, from, graph.ids, ancestors),
  }));
  const issues: SpecIssue[] = [];
  for (const [i, a] of groups.entries()) {
    for (const b of groups.slice(i + 1)) {
      const shared = [...a.members].filter((m) => b.members.has(m));
      const nested = shared.length === a.members.size || shared.length === b.members.size;
      if (shared.length > 0 && !nested) {
        issues.push({
          path: `tasks.${b.task}.retry.from`,
          message: `its retry group overlaps the one of '${a.task}' at ${shared.map((s) => `'${s}'`).join(', ')}; retry groups must nest or stay apart`,
        });
      }
    }
  }
  return issues;
}

function findCycle(
  ids: readonly string[],
  edges: ReadonlyMap<string, readonly string[]>,
): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of edges.get(id) ?? []) {
      if (state.get(dep) === 'visiting') {
        // The stack runs downstream to upstream; print the cycle in the direction work flows.
        const loop = stack.slice(stack.indexOf(dep)).reverse();
        return [...loop, loop[0] as string];
      }
      if (!state.has(dep)) {
        const found = visit(dep);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of ids) {
    if (!state.has(id)) {
      const found = visit(id);
      if (found) return found;
    }
  }
  return undefined;
}
