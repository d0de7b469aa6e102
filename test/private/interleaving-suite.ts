import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { playSeed, type SeedResult, startLedger } from './interleaving.ts';

/**
 * The interleaving test over seeds [first, first + count): one dynalite, one pipeline (key space) per
 * seed. Split over two test files so that vitest runs the halves on two cores.
 * STEPWISE_INTERLEAVING_SEEDS overrides the count, STEPWISE_INTERLEAVING_REPORT prints the totals.
 */
export function interleavingSuite(first: number, count: number): void {
  const seeds = Number(process.env.STEPWISE_INTERLEAVING_SEEDS ?? count);
  let ledger: { client: DynamoDBClient; close(): Promise<void> };

  beforeAll(async () => {
    ledger = await startLedger();
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it(`keeps the cap, strands nothing, starts nothing twice and ends every trigger: seeds ${first} to ${first + seeds - 1}, with duplicated, delayed, reordered and dead-lettered events and killed dispatchers`, async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const failures: SeedResult[] = [];
    const totals = {
      killed: 0,
      deliveries: 0,
      steps: 0,
      refusedRuns: 0,
      deadLettered: 0,
      reconcilerPasses: 0,
    };
    const started = Date.now();
    for (let seed = first; seed < first + seeds; seed++) {
      const result = await playSeed(ledger.client, seed);
      totals.killed += result.killed;
      totals.deliveries += result.deliveries;
      totals.steps += result.steps;
      totals.refusedRuns += result.scenario.refused.length;
      totals.deadLettered += result.deadLettered;
      totals.reconcilerPasses += result.reconcilerPasses;
      if (result.violations.length > 0) failures.push(result);
    }
    vi.restoreAllMocks();
    if (process.env.STEPWISE_INTERLEAVING_REPORT)
      console.log(
        JSON.stringify({ first, seeds, failing: failures.length, ...totals, ms: Date.now() - started }),
      );
    expect(failures.map((f) => ({ seed: f.scenario.seed, violations: f.violations }))).toEqual([]);
    // The faults were there to be survived: invocations were killed and their events delivered again.
    expect(totals.killed).toBeGreaterThan(seeds / 2);
    expect(totals.deliveries).toBeGreaterThan(seeds * 3);
    expect(totals.refusedRuns).toBeGreaterThan(seeds / 10);
    // Some events were lost for good, and the reconciler mended what they left.
    expect(totals.deadLettered).toBeGreaterThan(seeds / 20);
  }, 1_800_000);
}
