// The diamond fixture (a -> b, c -> d -> report), run end to end through `stepwise run`: transient
// failures retried, a non-critical failure that only warns, retries that run out, and the ledger after.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliResult,
  fixture,
  jsonOf,
  type RunJson,
  STACK_LINE,
  stepwise,
  taskOf,
  tempStateDir,
} from './stepwise-cli.ts';

const spec = fixture('diamond/pipeline.ts');
const state = tempStateDir('diamond');
const probeFile = join(state.dir, 'probe.jsonl');
const failedProbeFile = join(state.dir, 'probe-failed.jsonl');

interface Alert {
  readonly subject: string;
  readonly message: string;
}
interface Probe {
  readonly task: string;
  readonly attempt: number;
  readonly inputs: Record<string, unknown>;
}

const lines = <T>(file: string): T[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as T)
    : [];

let succeeded: CliResult;
let failed: CliResult;
let ok: RunJson;
let bad: RunJson;

beforeAll(async () => {
  const run = (input: unknown) =>
    stepwise('run', spec, '--input', JSON.stringify(input), '--json', '--state-dir', state.dir);
  succeeded = await run({ probe: probeFile });
  failed = await run({ probe: failedProbeFile, failB: true });
  ok = jsonOf<RunJson>(succeeded);
  bad = jsonOf<RunJson>(failed);
});

afterAll(() => state.remove());

describe('a transient failure, retried, and a non-critical task that fails', () => {
  it('succeeds, exit 0', () => {
    expect([ok.status, succeeded.code]).toEqual(['SUCCEEDED', 0]);
    expect(ok.pipeline).toBe('diamond');
    expect(ok.trigger).toEqual({ type: 'manual', input: { probe: probeFile } });
    expect(succeeded.stderr).toBe('');
  });

  it('records every task, b after its third attempt', () => {
    expect(ok.tasks.map((t) => [t.id, t.status, t.attempts])).toEqual([
      ['a', 'SUCCEEDED', 1],
      ['b', 'SUCCEEDED', 3],
      ['c', 'SUCCEEDED', 1],
      ['d', 'SUCCEEDED', 1],
      ['report', 'FAILED', 1],
    ]);
    expect(taskOf(ok, 'b')).not.toHaveProperty('error');
  });

  it('waits the retry interval between attempts', () => {
    const b = taskOf(ok, 'b');
    // Two retries, 1 s apart (backoff 1, no jitter); a timer may fire a hair early.
    expect(Date.parse(b.endedAt ?? '') - Date.parse(b.startedAt ?? '')).toBeGreaterThanOrEqual(1950);
  });

  it('reports the non-critical failure with its message, as a warning', () => {
    expect(taskOf(ok, 'report').error).toBe('dashboard unreachable');
    expect(ok.warnings).toEqual(['report']);
  });

  it('alerts on the non-critical failure, naming the pipeline, the task and the error', () => {
    const alerts = lines<Alert>(join(state.dir, 'alerts.jsonl')).filter((a) => a.message.includes(ok.runId));
    expect(alerts).toHaveLength(1);
    const [alert] = alerts as [Alert];
    expect(alert.subject).toMatch(/^stepwise: diamond run SUCCEEDED, non-critical .*report/);
    expect(alert.message).toContain('Pipeline:  diamond');
    expect(alert.message).toContain(`Run:       ${ok.runId}`);
    expect(alert.message).toContain('Task:      report (1 attempt, non-critical)');
    expect(alert.message).toContain('dashboard unreachable');
  });

  it('runs d only after both b and c have ended', () => {
    const d = Date.parse(taskOf(ok, 'd').startedAt ?? '');
    for (const id of ['b', 'c']) expect(d).toBeGreaterThanOrEqual(Date.parse(taskOf(ok, id).endedAt ?? ''));
    expect(Date.parse(taskOf(ok, 'b').startedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(taskOf(ok, 'a').endedAt ?? ''),
    );
  });

  it('counts ctx.attempt from 1', () => {
    const probes = lines<Probe>(probeFile);
    expect(probes.filter((p) => p.task === 'b').map((p) => p.attempt)).toEqual([1, 2, 3]);
    expect(probes.filter((p) => p.task !== 'b').map((p) => [p.task, p.attempt])).toEqual(
      expect.arrayContaining([
        ['a', 1],
        ['c', 1],
        ['d', 1],
      ]),
    );
  });

  it('hands each task exactly the outputs of its direct upstream tasks', () => {
    const inputsOf = (task: string) => lines<Probe>(probeFile).find((p) => p.task === task)?.inputs;
    expect(inputsOf('a')).toEqual({});
    expect(inputsOf('b')).toEqual({ a: { from: 'a', attempt: 1 } });
    expect(inputsOf('c')).toEqual({ a: { from: 'a', attempt: 1 } });
    // Not a: it is upstream of d, but not directly.
    expect(inputsOf('d')).toEqual({ b: { from: 'b', attempt: 3 }, c: { from: 'c', attempt: 1 } });
  });

  it('prints the documented keys, and the warning', () => {
    expect(Object.keys(ok).sort()).toEqual(
      ['durationMs', 'pipeline', 'runId', 'status', 'tasks', 'transitions', 'trigger', 'warnings'].sort(),
    );
    expect(ok.transitions).toBeGreaterThan(0);
  });
});

describe('retries that run out', () => {
  it('fails the run, exit 1, without a stack trace', () => {
    expect([bad.status, failed.code]).toEqual(['FAILED', 1]);
    expect(failed.stderr).not.toMatch(STACK_LINE);
  });

  it('tries the task as often as retry.attempts says, and reports its error', () => {
    expect(taskOf(bad, 'b')).toMatchObject({
      status: 'FAILED',
      attempts: 3,
      error: 'warehouse unreachable (attempt 3)',
    });
    expect(lines<Probe>(failedProbeFile).filter((p) => p.task === 'b')).toHaveLength(3);
  });

  it('skips what depends on it, and lets the other branch finish', () => {
    expect(bad.tasks.map((t) => [t.id, t.status])).toEqual([
      ['a', 'SUCCEEDED'],
      ['b', 'FAILED'],
      ['c', 'SUCCEEDED'],
      ['d', 'SKIPPED'],
      ['report', 'SKIPPED'],
    ]);
    expect(taskOf(bad, 'd')).toEqual({
      id: 'd',
      status: 'SKIPPED',
      attempts: 0,
      startedAt: null,
      endedAt: null,
    });
  });

  it('alerts, naming the pipeline, the run, the task and the error', () => {
    const alerts = lines<Alert>(join(state.dir, 'alerts.jsonl')).filter((a) => a.message.includes(bad.runId));
    expect(alerts.map((a) => a.subject)).toEqual(['stepwise: diamond run FAILED at b']);
    const message = alerts[0]?.message ?? '';
    expect(message).toContain('Pipeline:  diamond');
    expect(message).toContain(`Run:       ${bad.runId}`);
    expect(message).toContain('Task:      b (3 attempts)');
    expect(message).toContain('warehouse unreachable (attempt 3)');
    expect(message).toContain(`#/v2/executions/details/arn:aws:states:us-east-1:000000000000:execution:`);
    expect(message).toMatch(/Ledger: +pk=PIPELINE#diamond sk=RUN#.*#/);
  });

  it('is in the ledger with its failed task and every attempt', async () => {
    const result = await stepwise('runs', 'diamond', '--json', '--state-dir', state.dir);
    expect(result.code).toBe(0);
    const { pipeline, runs } = jsonOf<{ pipeline: string; runs: (RunJson & { error?: unknown })[] }>(result);
    expect(pipeline).toBe('diamond');
    expect(runs.map((r) => [r.runId, r.status])).toEqual([
      [bad.runId, 'FAILED'],
      [ok.runId, 'SUCCEEDED'],
    ]);
    const run = runs[0] as RunJson & { error?: unknown };
    expect(run.error).toMatchObject({ task: 'b', message: 'warehouse unreachable (attempt 3)' });
    // One ledger row per attempt.
    expect(run.tasks.map((t) => [t.id, t.status, t.attempts])).toEqual(
      bad.tasks.map((t) => [t.id, t.status, t.attempts]),
    );
    expect(taskOf(run, 'b')).toEqual(taskOf(bad, 'b'));
  });
});
