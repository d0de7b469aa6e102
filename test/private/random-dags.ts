/** Task graphs as `id -> after`, generated from a seed so that a failure can be replayed. */
export type Edges = Record<string, string[]>;

/** mulberry32: a small, seeded PRNG; the same seed gives the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Lists tasks in a shuffled order, so the planner cannot lean on the order a spec happens to use. */
function shuffledEdges(random: () => number, edges: Edges): Edges {
  return Object.fromEntries(shuffled(random, Object.keys(edges)).map((id) => [id, edges[id] as string[]]));
}

/** Any DAG: each task may depend on any earlier one, with the given chance. */
export function randomDag(random: () => number, size: number, density: number): Edges {
  const edges: Edges = {};
  for (let i = 0; i < size; i++) {
    const after: string[] = [];
    for (let j = 0; j < i; j++) if (random() < density) after.push(`t${j}`);
    edges[`t${i}`] = after;
  }
  return shuffledEdges(random, edges);
}

interface Part {
  readonly edges: Edges;
  readonly sources: readonly string[];
  readonly sinks: readonly string[];
}

/**
 * A series-parallel DAG made by random series and parallel composition. In a series step every source
 * of the second part waits for every sink of the first, and now and then also for some task earlier
 * in the first part, a redundant edge the planner must see through.
 */
export function randomSeriesParallelDag(random: () => number, size: number): Edges {
  let next = 0;
  const build = (n: number): Part => {
    if (n === 1) {
      const id = `t${next++}`;
      return { edges: { [id]: [] }, sources: [id], sinks: [id] };
    }
    const k = 1 + Math.floor(random() * (n - 1));
    const first = build(k);
    const second = build(n - k);
    if (random() < 0.5) {
      return {
        edges: { ...first.edges, ...second.edges },
        sources: [...first.sources, ...second.sources],
        sinks: [...first.sinks, ...second.sinks],
      };
    }
    const edges: Edges = { ...first.edges, ...second.edges };
    const firstIds = Object.keys(first.edges);
    for (const source of second.sources) {
      const after = new Set(first.sinks);
      if (random() < 0.3) after.add(pick(random, firstIds));
      edges[source] = [...(edges[source] ?? []), ...after];
    }
    return { edges, sources: first.sources, sinks: second.sinks };
  };
  return shuffledEdges(random, build(size).edges);
}
