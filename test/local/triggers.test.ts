// Issue 5's local acceptance cases, end to end on the stand-ins: a backfill run twice processes no slot
// twice, each upstream run starts its downstream pipeline, 50 triggers at once respect
// maxConcurrentRuns and none is lost, and a failed run is redriven without rerunning what succeeded.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DynamoDBClient, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpec } from '../../lib/cli/load-spec.ts';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { synthesizeLocal } from '../../lib/local/synth.ts';
import { fixture, jsonOf, type RunJson, stepwise, taskOf, tempStateDir } from './stepwise-cli.ts';

const hourly = fixture('triggers/hourly.ts');
const report = fixture('triggers/report.ts');

interface BackfillJson {
  pipeline: string;
  slots: number;
  counts: Record<string, number>;
  results: { slot: string; status: string; runId: string }[];
}

describe('a backfill over 13 hourly slots, run twice, with a downstream pipeline', () => {
  const state = tempStateDir('backfill');
  const backfill = () =>
    stepwise(
      'backfill',
      hourly,
      report,
      '--from',
      '2026-11-01T00:00:00Z',
      '--to',
      '2026-11-01T13:00:00Z',
      '--concurrency',
      '13',
      '--json',
      '--state-dir',
      state.dir,
    );
  let first: BackfillJson;
  let second: BackfillJson;
  let firstCode: number;
  let secondCode: number;
  let runs: RunReport[];
  let downstream: RunReport[];

  beforeAll(async () => {
    const a = await backfill();
    firstCode = a.code;
    first = jsonOf<BackfillJson>(a);
    const b = await backfill();
    secondCode = b.code;
    second = jsonOf<BackfillJson>(b);
    runs = jsonOf<{ runs: RunReport[] }>(
      await stepwise('runs', 'hourly', '--json', '--limit', '100', '--state-dir', state.dir),
    ).runs;
    downstream = jsonOf<{ runs: RunReport[] }>(
      await stepwise('runs', 'report', '--json', '--limit', '100', '--state-dir', state.dir),
    ).runs;
  }, 240_000);
  afterAll(() => state.remove());

  it('runs every slot once, then deduplicates every slot, exit 0 both times', () => {
    expect([firstCode, secondCode]).toEqual([0, 0]);
    expect(first.slots).toBe(13);
    expect(first.counts).toEqual({ SUCCEEDED: 13 });
    expect(second.counts).toEqual({ DEDUPLICATED: 13 });
    expect(second.results.map((r) => r.slot)).toEqual(first.results.map((r) => r.slot));
  });

  it('leaves as many SUCCEEDED runs as DEDUPLICATED ones in the ledger, one SUCCEEDED run per slot', () => {
    const succeeded = runs.filter((r) => r.status === 'SUCCEEDED');
    const deduplicated = runs.filter((r) => r.status === 'DEDUPLICATED');
    expect(succeeded).toHaveLength(13);
    expect(deduplicated).toHaveLength(13);
    const slotsRun = succeeded.map((r) => (r.trigger as { time: string }).time).sort();
    expect(new Set(slotsRun).size).toBe(13);
    expect(slotsRun[0]).toBe('2026-11-01T00:00:00.000Z');
    expect(slotsRun[12]).toBe('2026-11-01T12:00:00.000Z');
    for (const run of succeeded) expect(taskOf(run as unknown as RunJson, 'extract').attempts).toBe(1);
  });

  it("starts the downstream pipeline once per upstream run, at the upstream's logical time", () => {
    expect(downstream.map((r) => r.status)).toEqual(new Array(13).fill('SUCCEEDED'));
    const upstreamIds = new Set(runs.filter((r) => r.status === 'SUCCEEDED').map((r) => r.runId));
    for (const run of downstream) {
      const trigger = run.trigger as { type: string; upstreams: { pipeline: string; runId: string }[] };
      expect(trigger.type).toBe('pipeline');
      expect(trigger.upstreams).toHaveLength(1);
      expect(trigger.upstreams[0]?.pipeline).toBe('hourly');
      expect(upstreamIds.has(trigger.upstreams[0]?.runId ?? '')).toBe(true);
    }
    expect(
      new Set(downstream.map((r) => (r.trigger as { upstreams: { runId: string }[] }).upstreams[0]?.runId))
        .size,
    ).toBe(13);
  });

  // Every slot of 'hourly' (maxConcurrentRuns 3) is held by a run that has no execution, as a holder
  // whose start was lost would be: what the next command triggers can only queue. The command after it
  // reconciles the state dir first, which lets the holders go and starts what was queued.
  describe('when no slot can free up during the command', () => {
    const ghosts = ['ghost-1', 'ghost-2', 'ghost-3'];
    const more = (from: string, to: string) =>
      stepwise('backfill', hourly, report, '--from', from, '--to', to, '--state-dir', state.dir);
    let stuck: Awaited<ReturnType<typeof stepwise>>;
    let stuckRun: Awaited<ReturnType<typeof stepwise>>;
    let next: Awaited<ReturnType<typeof stepwise>>;
    let last: Awaited<ReturnType<typeof stepwise>>;

    /** Every slot of 'hourly' held by a run with no execution, as holders whose start was lost. */
    const holdEverySlot = async () => {
      const ledger = await LocalRuntime.openLedger({ stateDir: state.dir, command: 'test' });
      try {
        const { dynamodb } = (ledger as unknown as { services: { dynamodb: DynamoDBClient } }).services;
        const table = (await dynamodb.send(new ListTablesCommand({}))).TableNames?.find((t) =>
          t.startsWith('StepwisePlatformLedgerTable'),
        );
        await dynamodb.send(
          new PutItemCommand({
            TableName: table,
            Item: { pk: { S: 'SLOTS#hourly' }, sk: { S: 'SLOTS' }, active: { SS: ghosts } },
          }),
        );
      } finally {
        await ledger.close();
      }
    };

    beforeAll(async () => {
      await holdEverySlot();
      stuck = await more('2026-11-02T00:00:00Z', '2026-11-02T02:00:00Z');
      next = await more('2026-11-02T02:00:00Z', '2026-11-02T03:00:00Z');
      await holdEverySlot();
      stuckRun = await stepwise('run', hourly, report, '--input', '{}', '--state-dir', state.dir);
      last = await more('2026-11-02T03:00:00Z', '2026-11-02T04:00:00Z');
    }, 300_000);

    it('backfill exits 1, naming each slot and run left QUEUED, and why', () => {
      expect(stuck.code).toBe(1);
      const lines = stuck.stderr.split('\n').filter((l) => l.startsWith('error: slot '));
      expect(lines).toEqual([
        expect.stringMatching(
          /^error: slot 2026-11-02T00:00:00\.000Z: run schedule-\S+ is still QUEUED after everything this backfill set off has ended: no concurrency slot was freed for it, so it never started; it stays queued in the ledger$/,
        ),
        expect.stringMatching(/^error: slot 2026-11-02T01:00:00\.000Z: run schedule-\S+ is still QUEUED/),
      ]);
    });

    it('run exits 1, naming the run left QUEUED, why, and where to look', () => {
      expect(stuckRun.code).toBe(1);
      expect(stuckRun.stderr.replaceAll(state.dir, '<state>')).toMatch(
        /^error: run manual-\S+ is still QUEUED after everything this command set off has ended: no concurrency slot of pipeline 'hourly' \(maxConcurrentRuns 3\) was freed for it, so it never started\. It stays queued in the ledger and starts when a run of 'hourly' ends; 'stepwise runs hourly --status RUNNING' lists what holds the slots$/m,
      );
    });

    it('the next command lets the dead holders go, runs what was queued, then its own slot: exit 0', () => {
      expect(next.stderr).not.toContain('error:');
      expect(next.code).toBe(0);
      expect(last.code).toBe(0);
    });

    it('leaves nothing queued: every slot of the backfills and the manual run SUCCEEDED in the ledger', async () => {
      const listed = jsonOf<{ runs: RunReport[] }>(
        await stepwise('runs', 'hourly', '--json', '--limit', '100', '--state-dir', state.dir),
      ).runs;
      const late = listed.filter((r) => (r.trigger as { time: string }).time >= '2026-11-02T00:00:00.000Z');
      expect(late.map((r) => [(r.trigger as { time: string }).time, r.status]).sort()).toEqual([
        ['2026-11-02T00:00:00.000Z', 'SUCCEEDED'],
        ['2026-11-02T01:00:00.000Z', 'SUCCEEDED'],
        ['2026-11-02T02:00:00.000Z', 'SUCCEEDED'],
        ['2026-11-02T03:00:00.000Z', 'SUCCEEDED'],
      ]);
      // The manual run left QUEUED, too.
      expect(
        listed.filter((r) => (r.trigger as { type: string }).type === 'manual').map((r) => r.status),
      ).toEqual(['SUCCEEDED']);
    });
  });
});

describe('50 triggers at once for a pipeline with maxConcurrentRuns: 2', () => {
  const state = tempStateDir('capped');
  let reports: RunReport[];
  let executions: { start: number; stop: number }[];

  beforeAll(async () => {
    const spec = await loadSpec(fixture('triggers/capped.ts'));
    const { deployment } = await synthesizeLocal([spec], state.dir);
    const runtime = await LocalRuntime.open(deployment, {
      stateDir: state.dir,
      command: 'test',
      buckets: [],
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => runtime.run(spec, { kind: 'manual', input: { n: i } })),
      );
      reports = results.map((r) => r.report);
      executions = runtime
        .executionWindows()
        .map((w) => ({ start: w.startDate.getTime(), stop: (w.stopDate ?? new Date()).getTime() }));
    } finally {
      await runtime.close();
    }
  }, 240_000);
  afterAll(() => state.remove());

  it('loses none: 50 distinct runs, all SUCCEEDED', () => {
    expect(new Set(reports.map((r) => r.runId)).size).toBe(50);
    expect(reports.map((r) => r.status)).toEqual(new Array(50).fill('SUCCEEDED'));
    expect(executions).toHaveLength(50);
  });

  it('never has more than two executions running together, and does run two at once', () => {
    const edges = executions.flatMap((e) => [
      { at: e.start, delta: 1 },
      { at: e.stop, delta: -1 },
    ]);
    // A run that ends and one that starts at the same millisecond do not overlap: ends first.
    edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let running = 0;
    let most = 0;
    for (const edge of edges) {
      running += edge.delta;
      most = Math.max(most, running);
    }
    expect(most).toBe(2);
  });
});

describe('redrive of a failed run', () => {
  const state = tempStateDir('redrive');
  const spec = fixture('triggers/redrivable.ts');
  const marker = join(state.dir, 'fixed');
  let failed: RunJson;
  let failedCode: number;
  let redriven: RunJson;
  let redrivenCode: number;

  beforeAll(async () => {
    const run = await stepwise(
      'run',
      spec,
      '--input',
      JSON.stringify({ marker }),
      '--json',
      '--state-dir',
      state.dir,
    );
    failedCode = run.code;
    failed = jsonOf<RunJson>(run);
    writeFileSync(marker, 'fixed');
    const again = await stepwise('redrive', spec, failed.runId, '--json', '--state-dir', state.dir);
    redrivenCode = again.code;
    redriven = jsonOf<RunJson>(again);
  }, 240_000);
  afterAll(() => state.remove());

  it('fails first, exit 1, after the retries of the broken task', () => {
    expect([failedCode, failed.status]).toEqual([1, 'FAILED']);
    expect(taskOf(failed, 'second')).toMatchObject({ status: 'FAILED', attempts: 2 });
  });

  it('succeeds once redriven, exit 0, as the same run', () => {
    expect([redrivenCode, redriven.status, redriven.runId]).toEqual([0, 'SUCCEEDED', failed.runId]);
  });

  it('does not run again what succeeded, and counts the attempts across both', () => {
    expect(taskOf(redriven, 'first')).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(taskOf(redriven, 'second')).toMatchObject({ status: 'SUCCEEDED', attempts: 3 });
  });
});

describe('a custom EventBridge event', () => {
  const state = tempStateDir('event');
  const spec = fixture('triggers/invoice.ts');
  const event = (detailType: string) =>
    stepwise(
      'run',
      spec,
      '--event',
      JSON.stringify({ source: 'acme.billing', 'detail-type': detailType, detail: { invoice: 7 } }),
      '--json',
      '--state-dir',
      state.dir,
    );
  afterAll(() => state.remove());

  it('starts the pipeline whose onEvent pattern matches it, through the synthesized rule', async () => {
    const result = await event('Invoice Paid');
    expect(result.code).toBe(0);
    const run = jsonOf<RunJson>(result);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.trigger).toMatchObject({
      type: 'event',
      source: 'acme.billing',
      detailType: 'Invoice Paid',
      detail: { invoice: 7 },
    });
  }, 120_000);

  it('starts nothing for an event the pattern does not match, and says so', async () => {
    const result = await event('Invoice Voided');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no trigger of pipeline 'invoice' matched the event");
  }, 120_000);
});
