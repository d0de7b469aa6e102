// Part of the fault suite: each way a run can go wrong, on the local stand-ins, through the deployed
// dispatcher, state machine and recorder. Each case pins the run's status, its ledger rows (the run
// and its task attempts), the alert, and where the S3 input is afterwards. What goes wrong is named
// by the trigger's key (see fixtures/handlers/act.ts); the stand-in faults come from
// test/private/fault-injectors.ts. The cases are spread over the files of this directory, which run in
// parallel; crash recovery (kill -9) is in crash-recovery.test.ts.
//
// An endless loop: the local Lambda host times the invocation out and replaces its worker. Alone in its
// file: the spinning worker would hold up any other case's invocation of the same function. The loop
// runs in the stuck pipeline (2 s task timeout); the run afterwards in the faulty one.
import { describe, expect, it } from 'vitest';
import { alertsOf, faultSuite, itLeavesNoRunRunning, objectExists, taskRows } from './local-faults.ts';

const suite = faultSuite('faults-endless-loop');
const drop = (key: string) => suite.drop(key);
const CASE_TIMEOUT = 180_000;

describe('fault suite: an endless loop', () => {
  it(
    '9. an endless loop: timed out and its worker replaced, FAILED after the budget, the next run works',
    async () => {
      const { report } = await drop('stuck/loop.json');
      expect(report.status).toBe('FAILED');
      expect(taskRows(report)).toEqual([
        ['work', 'FAILED', 3],
        ['check', 'SKIPPED', 0],
        ['emit', 'SKIPPED', 0],
      ]);
      expect(['States.Timeout', 'Sandbox.Timedout']).toContain(report.error?.error);
      expect(alertsOf(suite.stateDir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: stuck run FAILED at work',
      ]);
      expect(await objectExists(suite.runtime, 'stuck/loop.json')).toBe(true);
      // The spinning worker is gone: the same function serves the next run.
      expect((await drop('in/afterwards.json')).report.status).toBe('SUCCEEDED');
    },
    CASE_TIMEOUT,
  );

  itLeavesNoRunRunning(suite, 2);
});
