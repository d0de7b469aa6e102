// Load: 100 manual runs at once under a concurrency cap, on the local stand-ins, through the deployed
// dispatcher (slots and queue), state machine and recorder. All SUCCEEDED, none twice, no run row and no
// attempt row lost. (The load cases are spread over this directory's files, which run in parallel.)
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { tempStateDir } from '../local/stepwise-cli.ts';
import { allRuns, expectWhole, loadApp, withRuntime } from './load-app.ts';

const app = loadApp();

describe('load: a burst of manual runs', () => {
  it('100 manual runs, 20 at a time, under maxConcurrentRuns 10: 100 SUCCEEDED, none twice, nothing lost', async () => {
    const state = tempStateDir('load-burst');
    try {
      const { reports, ledger } = await withRuntime(app, state.dir, async (runtime) => {
        const reports: RunReport[] = [];
        let next = 0;
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            while (next < 100) {
              const n = next++;
              reports.push((await runtime.run(app.burst, { kind: 'manual', input: { n } })).report);
            }
          }),
        );
        return { reports, ledger: await allRuns(runtime, 'burst') };
      });
      expect(reports).toHaveLength(100);
      expect(reports.filter((r) => r.status === 'SUCCEEDED')).toHaveLength(100);
      expect(new Set(reports.map((r) => r.runId)).size).toBe(100);
      expect(ledger).toHaveLength(100);
      expect(new Set(ledger.map((r) => r.runId))).toEqual(new Set(reports.map((r) => r.runId)));
      expectWhole(ledger);
    } finally {
      state.remove();
    }
  }, 600_000);
});
