// Part of the fault suite: each way a run can go wrong, on the local stand-ins, through the deployed
// dispatcher, state machine and recorder. Each case pins the run's status, its ledger rows (the run
// and its task attempts), the alert, and where the S3 input is afterwards. What goes wrong is named
// by the trigger's key (see fixtures/handlers/act.ts); the stand-in faults come from
// test/private/fault-injectors.ts. The cases are spread over the files of this directory, which run in
// parallel; crash recovery (kill -9) is in crash-recovery.test.ts.
//
// A task past its timeout, and a pipeline whose timeout passes while its task sleeps (most of this
// file's time is those timeouts passing).
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempStateDir } from '../local/stepwise-cli.ts';
import {
  alertsOf,
  dropFile,
  FAULTY_SPEC,
  faultSuite,
  itLeavesNoRunRunning,
  objectExists,
  SLOW_SPEC,
  STUCK_SPEC,
  synthesizeFaultApp,
  taskRows,
} from './local-faults.ts';

const suite = faultSuite('faults-timeouts');
const drop = (key: string) => suite.drop(key);
const CASE_TIMEOUT = 180_000;

describe('fault suite: a task past its timeout, and a pipeline past its own', () => {
  it(
    '6. a task past its timeout: each attempt States.Timeout, FAILED after the retry budget, input kept',
    async () => {
      const { report } = await drop('stuck/sleep.json');
      expect(report.status).toBe('FAILED');
      expect(taskRows(report)).toEqual([
        ['work', 'FAILED', 3],
        ['check', 'SKIPPED', 0],
        ['emit', 'SKIPPED', 0],
      ]);
      expect(report.error).toMatchObject({ task: 'work', error: 'States.Timeout' });
      expect(alertsOf(suite.stateDir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: stuck run FAILED at work',
      ]);
      expect(await objectExists(suite.runtime, 'stuck/sleep.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

  it(
    '7. the pipeline timeout passes while its task sleeps: TIMED_OUT at that task, alert, the command returns, input kept',
    async () => {
      const { report } = await dropFile(suite.runtime, suite.app.slow, suite.stateDir, 'slow/nap.json');
      expect(report.status).toBe('TIMED_OUT');
      expect(taskRows(report)).toEqual([['nap', 'FAILED', 1]]);
      expect(report.error).toMatchObject({ task: 'nap', error: 'States.Timeout' });
      expect(alertsOf(suite.stateDir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: slow run TIMED_OUT at nap',
      ]);
      expect(await objectExists(suite.runtime, 'slow/nap.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

  itLeavesNoRunRunning(suite, 2);
});

describe('`stepwise run` of a pipeline whose timeout passes while its task never returns', () => {
  const CLI = fileURLToPath(new URL('../../bin/stepwise.ts', import.meta.url));
  const state = tempStateDir('faults-timed-out-cli');
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    state.remove();
  });

  it(
    'exits by itself, 1, with TIMED_OUT: the task still running (and its timer) does not hold the process',
    async () => {
      // The app into the state dir first, where the command finds it cached (`run` runs the first spec's
      // pipeline).
      await synthesizeFaultApp(state.dir);
      const upload = join(state.dir, 'forever.upload');
      writeFileSync(upload, '{}');
      const spawned = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          CLI,
          'run',
          SLOW_SPEC,
          FAULTY_SPEC,
          STUCK_SPEC,
          '--s3-object',
          `inbox/slow/forever.json=${upload}`,
          '--state-dir',
          state.dir,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
      );
      child = spawned;
      let stdout = '';
      spawned.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      spawned.stderr.resume();
      // Were the process held open, this would never settle, and the case would fail on its timeout.
      const code = await new Promise<number | null>((resolve, reject) => {
        spawned.on('error', reject);
        spawned.on('exit', (exitCode) => resolve(exitCode));
      });
      expect(code).toBe(1);
      expect(stdout).toMatch(/^TIMED_OUT slow run s3-forever-json-\S+ in /m);
      expect(stdout).toMatch(/^ {2}nap +FAILED +1 attempt/m);
      // The timeout has no message: the line ends at the error's name.
      expect(stdout).toMatch(/^ {2}failed in nap: States\.Timeout$/m);
    },
    CASE_TIMEOUT,
  );
});
