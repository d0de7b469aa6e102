// Part of the fault suite: each way a run can go wrong, on the local stand-ins, through the deployed
// dispatcher, state machine and recorder. Each case pins the run's status, its ledger rows (the run
// and its task attempts), the alert, and where the S3 input is afterwards. What goes wrong is named
// by the trigger's key (see fixtures/handlers/act.ts); the stand-in faults come from
// test/private/fault-injectors.ts. The cases are spread over the files of this directory, which run in
// parallel; crash recovery (kill -9) is in crash-recovery.test.ts.
//
// A task past its timeout, and a pipeline whose timeout passes while its task sleeps (most of this
// file's time is those timeouts passing).
import { describe, expect, it } from 'vitest';
import {
  alertsOf,
  dropFile,
  faultSuite,
  itLeavesNoRunRunning,
  objectExists,
  taskRows,
} from './local-faults.ts';

const suite = faultSuite('faults-timeouts');
const drop = (key: string) => suite.drop(key);
const CASE_TIMEOUT = 180_000;

describe('fault suite: a task past its timeout, and a pipeline past its own', () => {
  it(
    '6. a task past its timeout: each attempt States.Timeout, FAILED after the retry budget, input kept',
    async () => {
      const { report } = await drop('in/sleep.json');
      expect(report.status).toBe('FAILED');
      expect(taskRows(report)).toEqual([
        ['work', 'FAILED', 3],
        ['check', 'SKIPPED', 0],
        ['emit', 'SKIPPED', 0],
      ]);
      expect(report.error).toMatchObject({ task: 'work', error: 'States.Timeout' });
      expect(alertsOf(suite.stateDir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED at work',
      ]);
      expect(await objectExists(suite.runtime, 'in/sleep.json')).toBe(true);
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
