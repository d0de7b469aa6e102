// Part of the fault suite: each way a run can go wrong, on the local stand-ins, through the deployed
// dispatcher, state machine and recorder. Each case pins the run's status, its ledger rows (the run
// and its task attempts), the alert, and where the S3 input is afterwards. What goes wrong is named
// by the trigger's key (see fixtures/handlers/act.ts); the stand-in faults come from
// test/private/fault-injectors.ts. The cases are spread over the files of this directory, which run in
// parallel; crash recovery (kill -9) is in crash-recovery.test.ts.
//
// Retries: transient failures within and past the budget, a handler whose process exits, and an input
// gone before the task reads it.
import { describe, expect, it } from 'vitest';
import { beforeRunStarts, withFault } from '../private/fault-injectors.ts';
import {
  alertsOf,
  deleteObject,
  faultSuite,
  itLeavesNoRunRunning,
  objectExists,
  taskRows,
} from './local-faults.ts';

const suite = faultSuite('faults-retries');
const drop = (key: string) => suite.drop(key);
const CASE_TIMEOUT = 180_000;

describe('fault suite: retries', () => {
  it(
    '1. transient failures within the retry budget: SUCCEEDED, every attempt in the ledger, no alert, input kept',
    async () => {
      const { report } = await drop('in/fail-2.json');
      expect(report.status).toBe('SUCCEEDED');
      expect(taskRows(report)).toEqual([
        ['work', 'SUCCEEDED', 3],
        ['check', 'SUCCEEDED', 1],
        ['emit', 'SUCCEEDED', 1],
      ]);
      expect(alertsOf(suite.stateDir, report.runId)).toEqual([]);
      expect(await objectExists(suite.runtime, 'in/fail-2.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

  it(
    '2. failures past the retry budget: FAILED at the task after 3 attempts, one alert, input kept',
    async () => {
      const { report } = await drop('in/fail-9.json');
      expect(report.status).toBe('FAILED');
      expect(taskRows(report)).toEqual([
        ['work', 'FAILED', 3],
        ['check', 'SKIPPED', 0],
        ['emit', 'SKIPPED', 0],
      ]);
      expect(report.error).toMatchObject({
        task: 'work',
        error: 'Error',
        message: 'transient failure on attempt 3',
      });
      expect(alertsOf(suite.stateDir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED at work',
      ]);
      expect(alertsOf(suite.stateDir, report.runId)[0]?.message).toContain('Task:      work (3 attempts)');
      expect(await objectExists(suite.runtime, 'in/fail-9.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

  it(
    "8. the handler's process exits: each attempt Runtime.ExitError, FAILED after the budget, input kept",
    async () => {
      const { report } = await drop('in/exit.json');
      expect(report.status).toBe('FAILED');
      expect(taskRows(report)).toEqual([
        ['work', 'FAILED', 3],
        ['check', 'SKIPPED', 0],
        ['emit', 'SKIPPED', 0],
      ]);
      expect(report.error).toMatchObject({ task: 'work', error: 'Runtime.ExitError' });
      expect(report.tasks[0]?.error).toBe("the function's runtime exited with code 3");
      expect(alertsOf(suite.stateDir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED at work',
      ]);
      expect(alertsOf(suite.stateDir, report.runId)[0]?.message).toContain('Runtime.ExitError');
      expect(await objectExists(suite.runtime, 'in/exit.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

  it(
    '13. the trigger object is deleted before the task reads it: FAILED at the task after the budget, alert',
    async () => {
      const { report } = await withFault(
        beforeRunStarts(() => deleteObject(suite.runtime, 'in/read-gone.json')),
        () => drop('in/read-gone.json'),
      );
      expect(report.status).toBe('FAILED');
      expect(taskRows(report)[0]).toEqual(['work', 'FAILED', 3]);
      // S3 answers NoSuchKey, or AccessDenied to a reader without s3:ListBucket.
      expect(['NoSuchKey', 'AccessDenied']).toContain(report.error?.error);
      expect(alertsOf(suite.stateDir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED at work',
      ]);
      expect(await objectExists(suite.runtime, 'in/read-gone.json')).toBe(false);
    },
    CASE_TIMEOUT,
  );

  itLeavesNoRunRunning(suite, 4);
});
