// The intake fixture, run end to end through `stepwise run`: a gate that rejects an S3 object, a
// DataError on a manual run, the same object twice, then the ledger as `stepwise runs` lists it, and a
// state dir that another command holds.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliResult,
  fixture,
  jsonOf,
  type RunJson,
  STACK_LINE,
  s3Objects,
  stepwise,
  taskOf,
  tempStateDir,
} from './stepwise-cli.ts';

const spec = fixture('intake/pipeline.ts');
const goodFile = fixture('intake/data/good.csv');
const rejectedFile = fixture('intake/data/rejected.csv');
const state = tempStateDir('intake');
const run = (...args: string[]) => stepwise('run', spec, ...args, '--json', '--state-dir', state.dir);

const DOCUMENTED_KEYS = ['durationMs', 'pipeline', 'runId', 'status', 'tasks', 'transitions', 'trigger'];
const TASK_KEYS = ['attempts', 'endedAt', 'id', 'startedAt', 'status'];

let rejected: CliResult;
let dataError: CliResult;
let groupRetry: CliResult;
let first: CliResult;
let again: CliResult;

beforeAll(async () => {
  rejected = await run('--s3-object', `landing/incoming/2026-11-01-reject.csv=${rejectedFile}`);
  dataError = await run('--input', JSON.stringify({ dataError: 'row 2: amount "x" is not a number' }));
  groupRetry = await run('--input', JSON.stringify({ failOnce: join(state.dir, 'publish-failed-once') }));
  first = await run('--s3-object', `landing/incoming/2026-11-02.csv=${goodFile}`);
  again = await run('--s3-object', `landing/incoming/2026-11-02.csv=${goodFile}`);
});

afterAll(() => state.remove());

/** Reads the local S3 store of this file's state dir. */
const objectsIn = (bucket: string, keys: readonly string[]) => s3Objects(state.dir, bucket, keys);

it('prints nothing on stdout but the JSON object, even when functions log', () => {
  for (const result of [rejected, dataError, groupRetry, first, again]) {
    expect(result.strayStdout).toBe('');
    expect(() => JSON.parse(result.stdout)).not.toThrow();
  }
});

describe('a gate that rejects the S3 object', () => {
  it('quarantines the run, exit 1', () => {
    expect([jsonOf<RunJson>(rejected).status, rejected.code]).toEqual(['QUARANTINED', 1]);
    expect(rejected.stderr).not.toMatch(STACK_LINE);
  });

  it("records where the object went and the gate's reason", () => {
    expect(jsonOf<RunJson>(rejected).quarantine).toEqual({
      bucket: 'landing',
      key: 'quarantine/incoming/2026-11-01-reject.csv',
      reason: 'incoming/2026-11-01-reject.csv is marked as rejected',
    });
  });

  it('marks the gate QUARANTINED and skips everything after it', () => {
    const report = jsonOf<RunJson>(rejected);
    expect(report.tasks.map((t) => [t.id, t.status, t.attempts])).toEqual([
      ['receive', 'SUCCEEDED', 1],
      ['screen', 'QUARANTINED', 1],
      ['load', 'SKIPPED', 0],
      ['publish', 'SKIPPED', 0],
    ]);
    expect(taskOf(report, 'screen').error).toBe('incoming/2026-11-01-reject.csv is marked as rejected');
  });

  it('moves the object from its key to the quarantine key', async () => {
    expect(
      await objectsIn('landing', [
        'incoming/2026-11-01-reject.csv',
        'quarantine/incoming/2026-11-01-reject.csv',
        'incoming/2026-11-02.csv',
      ]),
    ).toEqual({
      'incoming/2026-11-01-reject.csv': null,
      'quarantine/incoming/2026-11-01-reject.csv': readFileSync(rejectedFile, 'utf8'),
      // A run that passes leaves its object where it was.
      'incoming/2026-11-02.csv': readFileSync(goodFile, 'utf8'),
    });
  });

  it('alerts, naming the pipeline, the task and the reason', () => {
    const runId = jsonOf<RunJson>(rejected).runId;
    const alerts = readFileSync(join(state.dir, 'alerts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { subject: string; message: string })
      .filter((a) => a.message.includes(runId));
    expect(alerts.map((a) => a.subject)).toEqual(['stepwise: intake run QUARANTINED at screen']);
    expect(alerts[0]?.message.split('\n').slice(0, 7)).toEqual([
      'Pipeline:  intake',
      `Run:       ${runId}`,
      'Status:    QUARANTINED',
      'Task:      screen (1 attempt)',
      'Reason:    incoming/2026-11-01-reject.csv is marked as rejected',
      'Moved to:  s3://landing/quarantine/incoming/2026-11-01-reject.csv',
      'Error:     GateRejected',
    ]);
  });

  it('prints the documented keys, with quarantine', () => {
    const report = jsonOf<RunJson>(rejected);
    expect(Object.keys(report).sort()).toEqual([...DOCUMENTED_KEYS, 'quarantine'].sort());
    expect(report.transitions).toBeGreaterThan(0);
    expect(Object.keys(taskOf(report, 'screen')).sort()).toEqual([...TASK_KEYS, 'error'].sort());
  });
});

describe('a DataError on a run with no S3 input', () => {
  it('quarantines the run with its reason, exit 1, and moves nothing', () => {
    const report = jsonOf<RunJson>(dataError);
    expect([report.status, dataError.code]).toEqual(['QUARANTINED', 1]);
    expect(report.quarantine).toEqual({ bucket: '', key: '', reason: 'row 2: amount "x" is not a number' });
  });

  it('never retries it', () => {
    const report = jsonOf<RunJson>(dataError);
    expect(taskOf(report, 'load')).toMatchObject({
      status: 'QUARANTINED',
      attempts: 1,
      error: 'row 2: amount "x" is not a number',
    });
    expect(report.tasks.map((t) => [t.id, t.status])).toEqual([
      ['receive', 'SUCCEEDED'],
      ['screen', 'SUCCEEDED'],
      ['load', 'QUARANTINED'],
      ['publish', 'SKIPPED'],
    ]);
  });

  it('keeps the manual input as given, quotes included', () => {
    expect(jsonOf<RunJson>(dataError).trigger).toEqual({
      type: 'manual',
      input: { dataError: 'row 2: amount "x" is not a number' },
    });
  });
});

describe('a task that retries from an earlier task', () => {
  it('runs the chain again as a group, and the run succeeds', () => {
    const report = jsonOf<RunJson>(groupRetry);
    expect([report.status, groupRetry.code]).toEqual(['SUCCEEDED', 0]);
    expect(report).not.toHaveProperty('error');
  });

  it('counts the attempts of every task of the group across the run', () => {
    const report = jsonOf<RunJson>(groupRetry);
    expect(report.tasks.map((t) => [t.id, t.status, t.attempts])).toEqual([
      ['receive', 'SUCCEEDED', 1],
      ['screen', 'SUCCEEDED', 1],
      ['load', 'SUCCEEDED', 2],
      ['publish', 'SUCCEEDED', 2],
    ]);
    // The second pass starts after the first failed, and the retry interval.
    const publish = taskOf(report, 'publish');
    expect(
      Date.parse(publish.endedAt ?? '') - Date.parse(taskOf(report, 'load').startedAt ?? ''),
    ).toBeGreaterThanOrEqual(1000);
  });
});

describe('the same S3 object twice', () => {
  it('runs it once, then records the duplicate, exit 0 both times', () => {
    const [once, twice] = [jsonOf<RunJson>(first), jsonOf<RunJson>(again)];
    expect([once.status, first.code]).toEqual(['SUCCEEDED', 0]);
    expect([twice.status, again.code]).toEqual(['DEDUPLICATED', 0]);
    expect(twice.runId).not.toBe(once.runId);
    expect(twice.tasks.every((t) => t.status === 'SKIPPED' && t.attempts === 0)).toBe(true);
  });

  it('prints the documented keys for a run that succeeded', () => {
    const report = jsonOf<RunJson>(first);
    expect(Object.keys(report).sort()).toEqual(DOCUMENTED_KEYS);
    expect(report.trigger).toMatchObject({ type: 's3', bucket: 'landing', key: 'incoming/2026-11-02.csv' });
    expect(report.transitions).toBeGreaterThan(0);
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
    for (const task of report.tasks) {
      expect(Object.keys(task).sort()).toEqual(TASK_KEYS);
      expect(task.status).toBe('SUCCEEDED');
    }
  });
});

describe('stepwise runs', () => {
  const runs = async (...args: string[]) => {
    const result = await stepwise('runs', 'intake', '--json', '--state-dir', state.dir, ...args);
    expect(result.code).toBe(0);
    return jsonOf<{ pipeline: string; runs: (RunJson & { startedAt: string })[] }>(result).runs;
  };

  it('lists the runs newest first', async () => {
    const listed = await runs();
    expect(listed.map((r) => r.status)).toEqual([
      'DEDUPLICATED',
      'SUCCEEDED',
      'SUCCEEDED',
      'QUARANTINED',
      'QUARANTINED',
    ]);
    expect(listed.map((r) => r.runId).slice(1)).toEqual(
      [first, groupRetry, dataError, rejected].map((r) => jsonOf<RunJson>(r).runId),
    );
    const starts = listed.map((r) => r.startedAt);
    expect([...starts].sort().reverse()).toEqual(starts);
  });

  it('filters by --status', async () => {
    expect((await runs('--status', 'QUARANTINED')).map((r) => r.runId)).toEqual(
      [dataError, rejected].map((r) => jsonOf<RunJson>(r).runId),
    );
    expect((await runs('--status', 'failed')).map((r) => r.runId)).toEqual([]);
  });

  it('limits with --limit', async () => {
    expect((await runs('--limit', '2')).map((r) => r.status)).toEqual(['DEDUPLICATED', 'SUCCEEDED']);
    expect((await runs('--status', 'QUARANTINED', '--limit', '1')).map((r) => r.runId)).toEqual([
      jsonOf<RunJson>(dataError).runId,
    ]);
  });

  it('keeps the quarantine of a run', async () => {
    const oldest = (await runs()).at(-1);
    expect(oldest?.quarantine).toEqual(jsonOf<RunJson>(rejected).quarantine);
  });
});

describe('a state dir that another command holds', () => {
  const lockFile = join(state.dir, 'lock');
  const holdLock = (pid: number) =>
    writeFileSync(
      lockFile,
      JSON.stringify({ pid, command: 'stepwise run intake', since: '2026-11-01T00:00:00.000Z' }),
    );

  it('is refused, naming the command that holds it', async () => {
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      holdLock(sleeper.pid as number);
      const listing = await stepwise('runs', 'intake', '--state-dir', state.dir);
      const running = await run('--input', '{}');
      for (const result of [listing, running]) {
        expect(result.code).toBe(1);
        expect(result.stdout).toBe('');
        expect(result.stderr).toContain(
          `state dir ${state.dir} is busy: 'stepwise run intake' (pid ${sleeper.pid})`,
        );
        expect(result.stderr).not.toMatch(STACK_LINE);
      }
      // The refused commands leave the holder's lock alone.
      expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(sleeper.pid);
    } finally {
      sleeper.kill();
    }
  });

  it('is taken over when the process holding it is gone', async () => {
    const gone = spawn('true', [], { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('exit', resolve));
    holdLock(gone.pid as number);
    const result = await stepwise('runs', 'intake', '--json', '--state-dir', state.dir);
    expect(result.code).toBe(0);
    expect(jsonOf<{ runs: unknown[] }>(result).runs).toHaveLength(5);
    expect(existsSync(lockFile)).toBe(false);
  });
});
