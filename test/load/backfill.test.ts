// Load: a long backfill under a concurrency cap, on the local stand-ins, through the deployed
// dispatcher (slots and queue), state machine and recorder. All SUCCEEDED, one run per slot, no run row
// and no attempt row lost, nothing left queued when it returns. (The load cases are spread over this
// directory's files, which run in parallel.)
import { describe, expect, it } from 'vitest';
import { tempStateDir } from '../local/stepwise-cli.ts';
import { allRuns, expectWhole, loadApp, slotsOf, withRuntime } from './load-app.ts';

const app = loadApp();

describe('load: a backfill', () => {
  it('a 200-slot backfill, 50 at a time, under maxConcurrentRuns 5: 200 SUCCEEDED, one run per slot, nothing lost', async () => {
    const state = tempStateDir('load-backfill');
    try {
      const slots = Array.from({ length: 200 }, (_, i) => new Date(Date.UTC(2026, 0, 1, i)).toISOString());
      const { results, ledger } = await withRuntime(app, state.dir, async (runtime) => ({
        results: await runtime.backfill(app.hourly, slots, { concurrency: 50 }),
        ledger: await allRuns(runtime, 'hourly-pair'),
      }));
      // Any slot that did not succeed, with the reason (a DROPPED slot's error says why).
      expect(results.filter((r) => r.status !== 'SUCCEEDED')).toEqual([]);
      expect(results).toHaveLength(200);
      expect(ledger).toHaveLength(200);
      expect(new Set(slotsOf(ledger))).toEqual(new Set(slots));
      expect(new Set(ledger.map((r) => r.runId)).size).toBe(200);
      expectWhole(ledger);
    } finally {
      state.remove();
    }
  }, 900_000);
});
