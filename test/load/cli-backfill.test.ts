// Load through the CLI: `stepwise backfill` with more slots at once than the pipeline's cap, on the
// local stand-ins. Exit 0, every slot SUCCEEDED in the ledger when the command returns. (The load cases
// are spread over this directory's files, which run in parallel.)
import { cpSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { jsonOf, stepwise, tempStateDir } from '../local/stepwise-cli.ts';
import { BURST, cdkOut, expectWhole, HOURLY, loadApp, slotsOf } from './load-app.ts';

const app = loadApp();

describe('load: `stepwise backfill`', () => {
  it('`stepwise backfill` of 30 hourly slots at --concurrency 30 under maxConcurrentRuns 5: exit 0, 30 SUCCEEDED in the ledger when it returns', async () => {
    const state = tempStateDir('load-cli');
    try {
      // A copy of the app's synth, which the command finds cached.
      cpSync(cdkOut(app.synthDir), cdkOut(state.dir), { recursive: true });
      const from = '2026-02-01T00:00:00Z';
      const to = '2026-02-02T06:00:00Z';
      const backfill = await stepwise(
        'backfill',
        HOURLY,
        BURST,
        '--from',
        from,
        '--to',
        to,
        '--concurrency',
        '30',
        '--json',
        '--state-dir',
        state.dir,
      );
      const printed = jsonOf<{ counts: Record<string, number>; results: { status: string }[] }>(backfill);
      expect([backfill.code, printed.counts]).toEqual([0, { SUCCEEDED: 30 }]);
      const listed = jsonOf<{ runs: RunReport[] }>(
        await stepwise('runs', 'hourly-pair', '--json', '--limit', '100', '--state-dir', state.dir),
      ).runs;
      expect(listed.map((r) => r.status)).toEqual(new Array(30).fill('SUCCEEDED'));
      expect(new Set(slotsOf(listed)).size).toBe(30);
      expectWhole(listed);
    } finally {
      state.remove();
    }
  }, 600_000);
});
