// Load: many runs at once under a concurrency cap, on the local stand-ins, through the deployed
// dispatcher (slots and queue), state machine and recorder. Every case counts, never times: all
// SUCCEEDED, none twice, no run row and no attempt row lost, nothing left queued when the command returns.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpec } from '../../lib/cli/load-spec.ts';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { synthesizeLocal } from '../../lib/local/synth.ts';
import type { LocalDeployment } from '../../lib/local/template.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { jsonOf, stepwise, tempStateDir } from '../local/stepwise-cli.ts';

const HOURLY = fileURLToPath(new URL('./fixtures/hourly-pair.ts', import.meta.url));
const BURST = fileURLToPath(new URL('./fixtures/burst.ts', import.meta.url));
const synthDir = tempStateDir('load-synth');
let hourly: PipelineDefinition;
let burst: PipelineDefinition;
let deployment: LocalDeployment;

beforeAll(async () => {
  hourly = await loadSpec(HOURLY);
  burst = await loadSpec(BURST);
  // The order the CLI loads them in, so that a command on a copy of this synth finds it cached.
  ({ deployment } = await synthesizeLocal([hourly, burst], synthDir.dir));
}, 300_000);
afterAll(() => synthDir.remove());

async function withRuntime<T>(stateDir: string, work: (runtime: LocalRuntime) => Promise<T>): Promise<T> {
  const runtime = await LocalRuntime.open(deployment, { stateDir, command: 'load test', buckets: [] });
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

/** Every run row of a pipeline, with its attempts, as `runs` lists them. */
const allRuns = (runtime: LocalRuntime, pipeline: string) => runtime.listRuns(pipeline, { limit: 10_000 });

/** Each run SUCCEEDED with both tasks recorded once, SUCCEEDED. */
function expectWhole(runs: readonly RunReport[]): void {
  for (const run of runs) {
    expect([run.runId, run.status]).toEqual([run.runId, 'SUCCEEDED']);
    expect([run.runId, run.tasks.map((t) => [t.id, t.status, t.attempts])]).toEqual([
      run.runId,
      [
        ['extract', 'SUCCEEDED', 1],
        ['load', 'SUCCEEDED', 1],
      ],
    ]);
  }
}

const slotsOf = (runs: readonly RunReport[]) => runs.map((r) => (r.trigger as { time: string }).time);

describe('load', () => {
  it('100 manual runs, 20 at a time, under maxConcurrentRuns 10: 100 SUCCEEDED, none twice, nothing lost', async () => {
    const state = tempStateDir('load-burst');
    try {
      const { reports, ledger } = await withRuntime(state.dir, async (runtime) => {
        const reports: RunReport[] = [];
        let next = 0;
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            while (next < 100) {
              const n = next++;
              reports.push((await runtime.run(burst, { kind: 'manual', input: { n } })).report);
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

  it('a 200-slot backfill, 50 at a time, under maxConcurrentRuns 5: 200 SUCCEEDED, one run per slot, nothing lost', async () => {
    const state = tempStateDir('load-backfill');
    try {
      const slots = Array.from({ length: 200 }, (_, i) => new Date(Date.UTC(2026, 0, 1, i)).toISOString());
      const { results, ledger } = await withRuntime(state.dir, async (runtime) => ({
        results: await runtime.backfill(hourly, slots, { concurrency: 50 }),
        ledger: await allRuns(runtime, 'hourly-pair'),
      }));
      expect(results.map((r) => r.status)).toEqual(new Array(200).fill('SUCCEEDED'));
      expect(ledger).toHaveLength(200);
      expect(new Set(slotsOf(ledger))).toEqual(new Set(slots));
      expect(new Set(ledger.map((r) => r.runId)).size).toBe(200);
      expectWhole(ledger);
    } finally {
      state.remove();
    }
  }, 900_000);

  it('`stepwise backfill` of 30 hourly slots at --concurrency 30 under maxConcurrentRuns 5: exit 0, 30 SUCCEEDED in the ledger when it returns', async () => {
    const state = tempStateDir('load-cli');
    try {
      cpSync(join(synthDir.dir, 'cdk.out'), join(state.dir, 'cdk.out'), { recursive: true });
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
