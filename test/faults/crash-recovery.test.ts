// Fault 15: `kill -9` of a `stepwise run` mid-task, then recovery. The next command on that state dir
// closes the dead run (FAILED, States.Aborted, naming the dead process), frees its slot, alerts once,
// runs a new file, refuses the same file again with the way to redrive it, and the redrive finishes it.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../lambdas/dispatcher/dispatch.ts';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import type { LocalRunResult, LocalRuntime } from '../../lib/local/runtime.ts';
import { tempStateDir } from '../local/stepwise-cli.ts';
import {
  alertsOf,
  dropFile,
  FAULTY_SPEC,
  type FaultApp,
  objectExists,
  openRuntime,
  SLOW_SPEC,
  STUCK_SPEC,
  synthesizeFaultApp,
  taskRows,
} from './local-faults.ts';

const CLI = fileURLToPath(new URL('../../bin/stepwise.ts', import.meta.url));
const state = tempStateDir('crash');
const hold = join(state.dir, 'hold');
const KEY = 'in/hold.json';

let killedPid = 0;
let killedRunId = '';
let app: FaultApp;
let runtime: LocalRuntime;
let afterCrash: LocalRunResult;
let again: LocalRunResult;
let runs: RunReport[];

/** Starts `stepwise run` on the held file in its own process, and kills it (SIGKILL) once the task runs. */
function runAndKill(): Promise<void> {
  const upload = join(state.dir, 'hold.upload');
  writeFileSync(upload, JSON.stringify({ holdWhile: hold }));
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'run',
        FAULTY_SPEC,
        SLOW_SPEC,
        STUCK_SPEC,
        '--s3-object',
        `inbox/${KEY}=${upload}`,
        '--state-dir',
        state.dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const started = /run (s3-hold-json-\S+)/.exec(out);
      if (started && out.includes('work started') && child.exitCode === null && !child.killed) {
        killedRunId = started[1] as string;
        killedPid = child.pid ?? 0;
        child.kill('SIGKILL');
      }
    });
    child.stderr.resume();
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      signal === 'SIGKILL'
        ? resolve()
        : reject(new Error(`stepwise run ended by itself (${code}) before it was killed:\n${out}`)),
    );
  });
}

beforeAll(async () => {
  writeFileSync(hold, 'held');
  // The app goes into the state dir first, where the killed command finds it cached: it never synthesizes.
  app = await synthesizeFaultApp(state.dir);
  await runAndKill();
  rmSync(hold);
  runtime = await openRuntime(app, state.dir);
  afterCrash = await dropFile(runtime, app.faulty, state.dir, 'in/after-crash.json');
  again = await dropFile(runtime, app.faulty, state.dir, KEY, { holdWhile: hold });
  runs = await runtime.listRuns('faulty', { limit: 100 });
}, 400_000);

afterAll(async () => {
  await runtime?.close();
  state.remove();
});

describe('kill -9 of a `stepwise run` mid-task, then the next command', () => {
  it('was killed while its task ran', () => {
    expect(killedPid).toBeGreaterThan(0);
    expect(killedRunId).toMatch(/^s3-hold-json-/);
  });

  it('closes the dead run FAILED with States.Aborted, naming the dead process and how to redrive it', () => {
    const dead = runs.find((r) => r.runId === killedRunId);
    expect(dead?.status).toBe('FAILED');
    expect(dead?.error?.error).toBe('States.Aborted');
    expect(dead?.error?.task).toBe('work');
    expect(dead?.error?.message).toContain(
      `the local process running it (pid ${killedPid}, 'stepwise run faulty')`,
    );
    expect(dead?.error?.message).toContain(`stepwise redrive <spec> ${killedRunId}`);
    expect(dead && taskRows(dead)).toEqual([
      ['work', 'FAILED', 1],
      ['check', 'SKIPPED', 0],
      ['emit', 'SKIPPED', 0],
    ]);
  });

  it('alerts once about the dead run', () => {
    expect(alertsOf(state.dir, killedRunId).map((a) => a.subject)).toEqual([
      'stepwise: faulty run ABORTED at work',
    ]);
  });

  it('runs a new file to success, and tells what it recovered', () => {
    expect(afterCrash.report.status).toBe('SUCCEEDED');
    expect(afterCrash.notes.join('\n')).toContain(
      `run ${killedRunId} of 'faulty' was left RUNNING by a process that died; now FAILED`,
    );
  });

  it('leaves no run RUNNING', () => {
    expect(runs.filter((r) => r.status === 'RUNNING')).toEqual([]);
  });

  it('does not silently deduplicate the same file: it says which run had it and how to redrive it', () => {
    expect(again.report.status).toBe('DEDUPLICATED');
    expect(again.report.duplicateOf).toBe(killedRunId);
    expect(again.notes.join('\n')).toContain(
      `this trigger was processed before, by run ${killedRunId}, which ended FAILED (States.Aborted`,
    );
    expect(again.notes.join('\n')).toContain(`stepwise redrive ${FAULTY_SPEC} ${killedRunId}`);
    expect(runs.filter((r) => r.status === 'SUCCEEDED').map((r) => r.runId)).toEqual([
      afterCrash.report.runId,
    ]);
  });

  it('redrives the dead run to SUCCEEDED as the same run, keeping its input file', async () => {
    const redriven = await runtime.redrive(app.faulty, killedRunId);
    expect([redriven.report.runId, redriven.report.status]).toEqual([killedRunId, 'SUCCEEDED']);
    expect(taskRows(redriven.report).map(([id, status]) => [id, status])).toEqual([
      ['work', 'SUCCEEDED'],
      ['check', 'SUCCEEDED'],
      ['emit', 'SUCCEEDED'],
    ]);
    expect(await objectExists(runtime, KEY)).toBe(true);
  }, 120_000);
});

describe('a dispatcher that dies between the claim and the start, then the next command', () => {
  it('starts the claimed trigger to SUCCEEDED: it is not stranded CLAIMED, and its slot is not held', async () => {
    const dispatcher = [...app.deployment.functions.values()].find((f) => f.logicalId.includes('Dispatcher'));
    const env = dispatcher?.environment ?? {};
    const table = env.LEDGER_TABLE as string;
    const ledgerOf = (open: LocalRuntime) =>
      (open as unknown as { services: { dynamodb: DynamoDBClient } }).services.dynamodb;
    const dynamodb = ledgerOf(runtime);
    // The dispatcher claims the run key and takes the slot; its process dies at StartExecution.
    const dies = {
      send: () => Promise.reject(Object.assign(new Error('the process died'), { name: 'Killed' })),
    } as unknown as SFNClient;
    const envelope = {
      kind: 's3',
      pipeline: 'faulty',
      event: { detail: { bucket: { name: 'inbox' }, object: { key: 'in/claimed.json', etag: 'claimed-1' } } },
    };
    await expect(
      dispatch({ dynamodb, sfn: dies, table, now: () => new Date() }, env, envelope),
    ).rejects.toThrow('the process died');
    await runtime.close();

    runtime = await openRuntime(app, state.dir);
    // The next command's work waits for everything set off, the run the reconciler started included.
    expect((await dropFile(runtime, app.faulty, state.dir, 'in/after-claim.json')).report.status).toBe(
      'SUCCEEDED',
    );
    const all = await runtime.listRuns('faulty', { limit: 100 });
    const claimed = all.filter((r) => (r.trigger as { key?: string }).key === 'in/claimed.json');
    expect(claimed.map((r) => [r.status, taskRows(r)])).toEqual([
      [
        'SUCCEEDED',
        [
          ['work', 'SUCCEEDED', 1],
          ['check', 'SUCCEEDED', 1],
          ['emit', 'SUCCEEDED', 1],
        ],
      ],
    ]);
    expect(all.filter((r) => r.status === 'RUNNING')).toEqual([]);
    const { Item: slots } = await ledgerOf(runtime).send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'SLOTS#faulty' }, sk: { S: 'SLOTS' } } }),
    );
    expect(slots?.active?.SS ?? []).toEqual([]);
  }, 180_000);
});
