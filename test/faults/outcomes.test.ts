// Part of the fault suite: each way a run can go wrong, on the local stand-ins, through the deployed
// dispatcher, state machine and recorder. Each case pins the run's status, its ledger rows (the run
// and its task attempts), the alert, and where the S3 input is afterwards. What goes wrong is named
// by the trigger's key (see fixtures/handlers/act.ts); the stand-in faults come from
// test/private/fault-injectors.ts. The cases are spread over the files of this directory, which run in
// parallel; crash recovery (kill -9) is in crash-recovery.test.ts.
//
// Quarantine, gates, an output over Step Functions' limit, and the faults of AWS itself (throttled
// ledger writes, a denied quarantine move, a refused StartExecution).
import { describe, expect, it } from 'vitest';
import {
  denyQuarantineCopy,
  refuseStartExecution,
  throttleLedgerWrites,
  withFault,
} from '../private/fault-injectors.ts';
import { alertsOf, faultSuite, itLeavesNoRunRunning, objectExists, taskRows } from './local-faults.ts';

const suite = faultSuite('faults-outcomes');
const drop = (key: string) => suite.drop(key);
const CASE_TIMEOUT = 180_000;

describe('fault suite: quarantine, gates, output limits and AWS faults', () => {
  it(
    '3. DataError: QUARANTINED at once (one attempt), reason recorded, alert, input moved',
    async () => {
      const { report } = await drop('in/data-error.json');
      expect(report.status).toBe('QUARANTINED');
      expect(taskRows(report)).toEqual([
        ['work', 'QUARANTINED', 1],
        ['check', 'SKIPPED', 0],
        ['emit', 'SKIPPED', 0],
      ]);
      expect(report.quarantine).toEqual({
        bucket: 'inbox',
        key: 'quarantine/in/data-error.json',
        reason: 'in/data-error.json: row 2 has no amount',
      });
      expect(alertsOf(suite.stateDir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run QUARANTINED at work',
      ]);
      expect(await objectExists(suite.runtime, 'in/data-error.json')).toBe(false);
      expect(await objectExists(suite.runtime, 'quarantine/in/data-error.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

  it(
    "4. a gate that says false: QUARANTINED at the gate with the gate's reason, alert, input moved",
    async () => {
      const { report } = await drop('in/gate-false.json');
      expect(report.status).toBe('QUARANTINED');
      expect(taskRows(report)).toEqual([
        ['work', 'SUCCEEDED', 1],
        ['check', 'QUARANTINED', 1],
        ['emit', 'SKIPPED', 0],
      ]);
      expect(report.quarantine?.reason).toBe('in/gate-false.json fails the row count check');
      expect(alertsOf(suite.stateDir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run QUARANTINED at check',
      ]);
      expect(await objectExists(suite.runtime, 'in/gate-false.json')).toBe(false);
      expect(await objectExists(suite.runtime, 'quarantine/in/gate-false.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

  it(
    '5. a gate whose output is not a verdict: FAILED at the gate, not retried, not quarantined, input kept',
    async () => {
      const { report } = await drop('in/gate-malformed.json');
      expect(report.status).toBe('FAILED');
      expect(taskRows(report)).toEqual([
        ['work', 'SUCCEEDED', 1],
        ['check', 'FAILED', 1],
        ['emit', 'SKIPPED', 0],
      ]);
      expect(report.error?.error).toBe('GateOutputError');
      expect(report.error?.message).toContain(
        "gate task 'check' must return { pass: boolean, reason?: string }",
      );
      expect(alertsOf(suite.stateDir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED at check',
      ]);
      expect(await objectExists(suite.runtime, 'in/gate-malformed.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

  it(
    '10. a task output over 256 KiB (no defineTask): FAILED at that task with States.DataLimitExceeded and the size, not retried',
    async () => {
      const { report } = await drop('in/big.json');
      expect(report.status).toBe('FAILED');
      expect(taskRows(report)).toEqual([
        ['work', 'SUCCEEDED', 1],
        ['check', 'SUCCEEDED', 1],
        ['emit', 'FAILED', 1],
      ]);
      expect(report.error?.task).toBe('emit');
      expect(report.error?.error).toBe('States.DataLimitExceeded');
      expect(report.error?.message).toMatch(/300011 bytes, over Step Functions' 262144 bytes \(256 KiB\)/);
      expect(alertsOf(suite.stateDir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED at emit',
      ]);
      expect(await objectExists(suite.runtime, 'in/big.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

  it(
    '11. DynamoDB throttles the ledger writes, then recovers: retried, SUCCEEDED, every row written',
    async () => {
      const counter = { throttled: 0 };
      const { report } = await withFault(throttleLedgerWrites(2, counter), () => drop('in/throttled.json'));
      expect(counter.throttled).toBe(2);
      expect(report.status).toBe('SUCCEEDED');
      expect(taskRows(report)).toEqual([
        ['work', 'SUCCEEDED', 1],
        ['check', 'SUCCEEDED', 1],
        ['emit', 'SUCCEEDED', 1],
      ]);
      expect(alertsOf(suite.stateDir, report.runId)).toEqual([]);
      expect(await objectExists(suite.runtime, 'in/throttled.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

  it(
    '12. S3 denies the quarantine move: FAILED (not QUARANTINED) naming the denial, alert, input left where it was',
    async () => {
      const { report } = await withFault(denyQuarantineCopy, () => drop('in/data-error-denied.json'));
      expect(report.status).toBe('FAILED');
      expect(report.error?.error).toBe('S3.AccessDenied');
      expect(report.error?.message).toContain('explicit deny');
      expect(taskRows(report)).toEqual([
        ['work', 'FAILED', 1],
        ['check', 'SKIPPED', 0],
        ['emit', 'SKIPPED', 0],
      ]);
      expect(alertsOf(suite.stateDir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED at work',
      ]);
      expect(alertsOf(suite.stateDir, report.runId)[0]?.message).toContain('S3.AccessDenied');
      expect(await objectExists(suite.runtime, 'in/data-error-denied.json')).toBe(true);
      expect(await objectExists(suite.runtime, 'quarantine/in/data-error-denied.json')).toBe(false);
    },
    CASE_TIMEOUT,
  );

  it(
    '14. Step Functions refuses StartExecution: the run is recorded FAILED with the reason, alerted, and the slot is free for the next',
    async () => {
      const { report } = await withFault(refuseStartExecution('AccessDeniedException', 1), () =>
        drop('in/refused.json'),
      );
      expect(report.status).toBe('FAILED');
      expect(taskRows(report)).toEqual([
        ['work', 'SKIPPED', 0],
        ['check', 'SKIPPED', 0],
        ['emit', 'SKIPPED', 0],
      ]);
      expect(JSON.stringify(report.error)).toContain('AccessDeniedException');
      const alerts = alertsOf(suite.stateDir, report.runId);
      expect(alerts.map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED: could not start (AccessDeniedException)',
      ]);
      expect(alerts[0]?.message).toContain('the run is set aside and the queue goes on without it');
      expect(await objectExists(suite.runtime, 'in/refused.json')).toBe(true);
      expect((await drop('in/after-refused.json')).report.status).toBe('SUCCEEDED');
    },
    CASE_TIMEOUT,
  );

  itLeavesNoRunRunning(suite, 8);
});
