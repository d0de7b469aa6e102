import { describe, expect, it } from 'vitest';
import { hasLatches, planPipeline, type Step } from '../../lib/compile/plan.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { ancestorsOf, checkPlanOrder, renderPlan } from '../private/plan-order.ts';
import { type Edges, randomDag, randomSeriesParallelDag, seededRandom } from '../private/random-dags.ts';
import { pipelineFromEdges, testPipeline } from '../private/specs.ts';

function planOf(pipeline: PipelineDefinition) {
  const plan = planPipeline(pipeline);
  return { ...plan, text: renderPlan(plan.root), order: checkPlanOrder(pipeline, plan.root) };
}

describe('planPipeline', () => {
  describe('series-parallel graphs compile exactly', () => {
    it('runs a chain in sequence', () => {
      const plan = planOf(pipelineFromEdges({ a: [], b: ['a'], c: ['b'] }));
      expect(plan.text).toBe('a ; b ; c');
      expect(plan.exact).toBe(true);
      expect(plan.order).toEqual({ broken: [], extraWaits: [], missing: [] });
    });

    it('runs a diamond as a sequence around a parallel', () => {
      const plan = planOf(pipelineFromEdges({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] }));
      expect(plan.root).toMatchObject({
        kind: 'sequence',
        steps: [
          { kind: 'task', task: { id: 'a' } },
          {
            kind: 'parallel',
            branches: [
              { kind: 'task', task: { id: 'b' } },
              { kind: 'task', task: { id: 'c' } },
            ],
          },
          { kind: 'task', task: { id: 'd' } },
        ],
      });
      expect(plan.text).toBe('a ; (b | c) ; d');
      expect(plan.exact).toBe(true);
      expect(plan.order).toEqual({ broken: [], extraWaits: [], missing: [] });
    });

    it('runs unrelated tasks side by side', () => {
      const plan = planOf(pipelineFromEdges({ a: [], b: [], c: [] }));
      expect(plan.text).toBe('a | b | c');
      expect(plan.exact).toBe(true);
    });

    it('nests branches that are themselves sequences and parallels', () => {
      const plan = planOf(
        pipelineFromEdges({
          extract: [],
          clean: ['extract'],
          enrich: ['clean'],
          audit: ['extract'],
          'load-eu': ['enrich', 'audit'],
          'load-us': ['enrich', 'audit'],
          report: ['load-eu', 'load-us'],
          archive: [],
        }),
      );
      expect(plan.text).toBe(
        '(extract ; ((clean ; enrich) | audit) ; (load-eu | load-us) ; report) | archive',
      );
      expect(plan.exact).toBe(true);
      expect(plan.order).toEqual({ broken: [], extraWaits: [], missing: [] });
    });

    it('sees through a redundant dependency that is implied by others', () => {
      const plan = planOf(pipelineFromEdges({ a: [], b: ['a'], c: ['b', 'a'] }));
      expect(plan.text).toBe('a ; b ; c');
      expect(plan.exact).toBe(true);
    });

    it('keeps the order the spec lists tasks in, when nothing else decides it', () => {
      const plan = planOf(pipelineFromEdges({ zeta: [], alpha: [], mid: ['zeta', 'alpha'] }));
      expect(plan.text).toBe('(zeta | alpha) ; mid');
    });
  });

  describe('graphs that are not series-parallel', () => {
    it('plans the N shape exactly as two chains, c waiting for b through the latch', () => {
      const pipeline = pipelineFromEdges({ a: [], b: [], c: ['a', 'b'], d: ['b'] });
      const plan = planOf(pipeline);
      expect(plan.exact).toBe(true);
      expect(plan.text).toBe('latched{a ; c<b> | b ; d}');
      expect(plan.order).toEqual({ broken: [], extraWaits: [], missing: [] });
      expect(plan.root).toMatchObject({
        kind: 'latched',
        chains: [
          [
            { key: 'a', waitsFor: [], reads: [], publishes: [], wakes: [] },
            { key: 'c', waitsFor: ['b'], reads: ['b'], publishes: [], wakes: [] },
          ],
          [
            { key: 'b', waitsFor: [], reads: [], publishes: ['b'], wakes: [{ key: 'c', waitsFor: ['b'] }] },
            { key: 'd', waitsFor: [], reads: [], publishes: [], wakes: [] },
          ],
        ],
      });
    });

    it('keeps the series-parallel parts around a latched part as sequences and parallels', () => {
      const pipeline = pipelineFromEdges({
        start: [],
        a: ['start'],
        b: ['start'],
        c: ['a', 'b'],
        d: ['b'],
        end: ['c', 'd'],
        side: [],
      });
      const plan = planOf(pipeline);
      expect(plan.text).toBe('(start ; latched{a ; c<b> | b ; d} ; end) | side');
      expect(plan.exact).toBe(true);
      expect(plan.order).toEqual({ broken: [], extraWaits: [], missing: [] });
    });

    it('waits only for what its chain does not imply, and reads each input another chain made', () => {
      const pipeline = pipelineFromEdges({
        a: [],
        b: ['a'],
        c: ['a', 'b'],
        d: ['b'],
        e: ['b', 'c'],
        f: ['d', 'e'],
        g: ['a'],
        h: ['g', 'c'],
      });
      const plan = planOf(pipeline);
      expect(plan.exact).toBe(true);
      expect(plan.order).toEqual({ broken: [], extraWaits: [], missing: [] });
      // e needs b and c, both before it on its chain: no wait. f needs e (its chain) and d (another).
      expect(plan.text).toBe('a ; latched{b ; c ; e ; f<d> | d<b> | g ; h<c>}');
      const units = (plan.root as Extract<Step, { kind: 'sequence' }>).steps[1] as Extract<
        Step,
        { kind: 'latched' }
      >;
      const unit = (key: string) => units.chains.flat().find((u) => u.key === key);
      expect(unit('b')).toMatchObject({ publishes: ['b'], wakes: [{ key: 'd', waitsFor: ['b'] }] });
      expect(unit('c')).toMatchObject({ publishes: ['c'], wakes: [{ key: 'h', waitsFor: ['c'] }] });
      expect(unit('e')).toMatchObject({ waitsFor: [], reads: [], publishes: [], wakes: [] });
      expect(unit('h')).toMatchObject({ waitsFor: ['c'], reads: ['c'] });
    });

    it('without latches, keeps every dependency of the N shape and says it is not exact', () => {
      const pipeline = pipelineFromEdges({ a: [], b: [], c: ['a', 'b'], d: ['b'] });
      const plan = planPipeline(pipeline, { latches: false });
      expect(plan.exact).toBe(false);
      expect(renderPlan(plan.root)).toBe('(a | b) ; (c | d)');
      expect(checkPlanOrder(pipeline, plan.root)).toEqual({
        broken: [],
        extraWaits: ['d waits for a'],
        missing: [],
      });
    });
  });

  describe('retry groups', () => {
    it('wraps the chain from retry.from through the task in one group', () => {
      const pipeline = testPipeline({
        ingest: {},
        transform: { after: ['ingest'] },
        publish: { after: ['transform'], retry: { from: 'transform' } },
        monitor: { after: ['publish'] },
      });
      const plan = planOf(pipeline);
      expect(plan.text).toBe('ingest ; retry[transform..publish]{transform ; publish} ; monitor');
      expect(plan.exact).toBe(true);
      expect(plan.order).toEqual({ broken: [], extraWaits: [], missing: [] });
    });

    it('takes every task on a path between the two ends into the group, branches included', () => {
      const pipeline = testPipeline({
        split: {},
        left: { after: ['split'] },
        right: { after: ['split'] },
        join: { after: ['left', 'right'], retry: { from: 'split' } },
      });
      expect(planOf(pipeline).text).toBe('retry[split..join]{split ; (left | right) ; join}');
    });

    it('nests a group inside another', () => {
      const pipeline = testPipeline({
        a: {},
        b: { after: ['a'] },
        c: { after: ['b'], retry: { from: 'b' } },
        d: { after: ['c'], retry: { from: 'a' } },
      });
      const plan = planOf(pipeline);
      expect(plan.text).toBe('retry[a..d]{a ; retry[b..c]{b ; c} ; d}');
      expect(plan.order).toEqual({ broken: [], extraWaits: [], missing: [] });
    });

    it('says it is not exact when a task outside a group waits for the whole group', () => {
      // 'report' needs only 'transform', but cannot start in the middle of the group.
      const pipeline = testPipeline({
        transform: {},
        publish: { after: ['transform'], retry: { from: 'transform' } },
        report: { after: ['transform'] },
      });
      const plan = planOf(pipeline);
      expect(plan.text).toBe('retry[transform..publish]{transform ; publish} ; report');
      expect(plan.order.broken).toEqual([]);
      expect(plan.order.extraWaits).toEqual(['report waits for publish']);
      expect(plan.exact).toBe(false);
    });

    it('says it is not exact when a group waits for what only its later tasks need', () => {
      const pipeline = testPipeline({
        transform: {},
        lookup: {},
        publish: { after: ['transform', 'lookup'], retry: { from: 'transform' } },
      });
      const plan = planOf(pipeline);
      expect(plan.order.broken).toEqual([]);
      expect(plan.order.extraWaits).toEqual(['transform waits for lookup']);
      expect(plan.exact).toBe(false);
    });
  });

  describe('properties over random graphs', () => {
    const cases = (count: number, make: (random: () => number, seed: number) => Edges) =>
      Array.from({ length: count }, (_, seed) => {
        const random = seededRandom(seed + 1);
        return { seed, edges: make(random, seed) };
      });

    it('plans every series-parallel graph exactly, keeping every dependency and adding none', () => {
      const failures: string[] = [];
      for (const { seed, edges } of cases(300, (random, seed) =>
        randomSeriesParallelDag(random, 1 + (seed % 40)),
      )) {
        const pipeline = pipelineFromEdges(edges);
        const plan = planOf(pipeline);
        const { broken, extraWaits, missing } = plan.order;
        if (!plan.exact || broken.length + extraWaits.length + missing.length > 0) {
          failures.push(
            `seed ${seed}: exact=${plan.exact} ${[...broken, ...extraWaits, ...missing].join(', ')}`,
          );
        }
      }
      expect(failures).toEqual([]);
    });

    it('plans any graph exactly, keeping every dependency and adding none', () => {
      const failures: string[] = [];
      let latchedPlans = 0;
      for (const { seed, edges } of cases(300, (random, seed) =>
        randomDag(random, 2 + (seed % 30), 0.05 + random() * 0.4),
      )) {
        const pipeline = pipelineFromEdges(edges);
        const plan = planOf(pipeline);
        const { broken, extraWaits, missing } = plan.order;
        if (hasLatches(plan.root)) latchedPlans++;
        if (!plan.exact || broken.length + extraWaits.length + missing.length > 0) {
          failures.push(
            `seed ${seed}: exact=${plan.exact} ${[...broken, ...missing, ...extraWaits].join(', ')}`,
          );
        }
      }
      expect(failures).toEqual([]);
      // The generator must produce graphs that are not series-parallel, or the property says little.
      expect(latchedPlans).toBeGreaterThan(30);
      expect(latchedPlans).toBeLessThan(270);
    });

    it('without latches, keeps every dependency of any graph, and calls a plan exact only when it adds no wait', () => {
      const failures: string[] = [];
      let inexact = 0;
      for (const { seed, edges } of cases(300, (random, seed) =>
        randomDag(random, 2 + (seed % 30), 0.05 + random() * 0.4),
      )) {
        const pipeline = pipelineFromEdges(edges);
        const plan = planPipeline(pipeline, { latches: false });
        const { broken, extraWaits, missing } = checkPlanOrder(pipeline, plan.root);
        if (!plan.exact) inexact++;
        if (broken.length + missing.length > 0 || plan.exact !== (extraWaits.length === 0)) {
          failures.push(
            `seed ${seed}: exact=${plan.exact} ${[...broken, ...missing, ...extraWaits].join(', ')}`,
          );
        }
      }
      expect(failures).toEqual([]);
      expect(inexact).toBeGreaterThan(30);
      expect(inexact).toBeLessThan(270);
    });

    it('waits through the latch only for units of other chains, none implied by its chain or another wait', () => {
      const failures: string[] = [];
      for (const { seed, edges } of cases(200, (random, seed) =>
        randomDag(random, 4 + (seed % 30), 0.05 + random() * 0.3),
      )) {
        const pipeline = pipelineFromEdges(edges);
        const plan = planPipeline(pipeline);
        const ancestors = ancestorsOf(pipeline);
        const visit = (step: Step): void => {
          if (step.kind === 'sequence') step.steps.forEach(visit);
          if (step.kind === 'parallel') step.branches.forEach(visit);
          if (step.kind !== 'latched') return;
          for (const [c, chain] of step.chains.entries()) {
            for (const [i, unit] of chain.entries()) {
              const before = chain[i - 1]?.key;
              for (const key of unit.waitsFor) {
                if (step.chains[c]?.some((u) => u.key === key))
                  failures.push(`seed ${seed}: ${unit.key} waits for ${key} on its own chain`);
                if (before !== undefined && (before === key || ancestors.get(before)?.has(key)))
                  failures.push(`seed ${seed}: ${unit.key} waits for ${key}, which ${before} implies`);
                if (unit.waitsFor.some((o) => ancestors.get(o)?.has(key)))
                  failures.push(`seed ${seed}: ${unit.key} waits for ${key}, which another wait implies`);
              }
            }
          }
        };
        visit(plan.root);
      }
      expect(failures).toEqual([]);
    });

    it('keeps every dependency when a random retry group is added, and stays honest about exactness', () => {
      const failures: string[] = [];
      for (const { seed, edges } of cases(200, (random, seed) =>
        randomDag(random, 3 + (seed % 20), 0.1 + random() * 0.3),
      )) {
        const random = seededRandom(10_000 + seed);
        const probe = pipelineFromEdges(edges);
        const ancestors = ancestorsOf(probe);
        const candidates = probe.tasks.filter((t) => (ancestors.get(t.id)?.size ?? 0) > 0);
        const task = candidates[Math.floor(random() * candidates.length)];
        if (!task) continue;
        const upstream = [...(ancestors.get(task.id) ?? [])];
        const from = upstream[Math.floor(random() * upstream.length)] as string;
        const pipeline = testPipeline(
          Object.fromEntries(
            Object.entries(edges).map(([id, after]) => [
              id,
              id === task.id ? { after, retry: { from } } : { after },
            ]),
          ),
        );
        const plan = planOf(pipeline);
        const { broken, extraWaits, missing } = plan.order;
        if (broken.length + missing.length > 0 || plan.exact !== (extraWaits.length === 0)) {
          failures.push(
            `seed ${seed} (${from}..${task.id}): exact=${plan.exact} ${[...broken, ...missing, ...extraWaits].join(', ')}`,
          );
        }
      }
      expect(failures).toEqual([]);
    });
  });
});
