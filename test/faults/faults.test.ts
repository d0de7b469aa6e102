// The fault suite: each way a run can go wrong, on the local stand-ins, through the deployed
// dispatcher, state machine and recorder. Each case pins the run's status, its ledger rows (the run
// and its task attempts), the alert, and where the S3 input is afterwards. What goes wrong is named
// by the trigger's key (see fixtures/handlers/act.ts); the stand-in faults come from
// test/private/fault-injectors.ts. Crash recovery (kill -9) is in crash-recovery.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { tempStateDir } from '../local/stepwise-cli.ts';
import {
  beforeRunStarts,
  denyQuarantineCopy,
  refuseStartExecution,
  throttleLedgerWrites,
  withFault,
} from '../private/fault-injectors.ts';
import {
  alertsOf,
  deleteObject,
  dropFile,
  type FaultApp,
  objectExists,
  openRuntime,
  synthesizeFaultApp,
  taskRows,
} from './local-faults.ts';

const synthDir = tempStateDir('faults-synth');
const state = tempStateDir('faults');
let app: FaultApp;
let runtime: LocalRuntime;

beforeAll(async () => {
  app = await synthesizeFaultApp(synthDir.dir);
  runtime = await openRuntime(app, state.dir);
}, 300_000);

afterAll(async () => {
  await runtime?.close();
  state.remove();
  synthDir.remove();
});

const drop = (key: string) => dropFile(runtime, app.faulty, state.dir, key);
const CASE_TIMEOUT = 180_000;

describe('fault suite', () => {
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
      expect(alertsOf(state.dir, report.runId)).toEqual([]);
      expect(await objectExists(runtime, 'in/fail-2.json')).toBe(true);
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
      expect(alertsOf(state.dir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED at work',
      ]);
      expect(alertsOf(state.dir, report.runId)[0]?.message).toContain('Task:      work (3 attempts)');
      expect(await objectExists(runtime, 'in/fail-9.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

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
      expect(alertsOf(state.dir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run QUARANTINED at work',
      ]);
      expect(await objectExists(runtime, 'in/data-error.json')).toBe(false);
      expect(await objectExists(runtime, 'quarantine/in/data-error.json')).toBe(true);
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
      expect(alertsOf(state.dir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run QUARANTINED at check',
      ]);
      expect(await objectExists(runtime, 'in/gate-false.json')).toBe(false);
      expect(await objectExists(runtime, 'quarantine/in/gate-false.json')).toBe(true);
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
      expect(alertsOf(state.dir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED at check',
      ]);
      expect(await objectExists(runtime, 'in/gate-malformed.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

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
      expect(alertsOf(state.dir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED at work',
      ]);
      expect(await objectExists(runtime, 'in/sleep.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

  it(
    '7. the pipeline timeout passes while its task sleeps: TIMED_OUT at that task, alert, the command returns, input kept',
    async () => {
      const { report } = await dropFile(runtime, app.slow, state.dir, 'slow/nap.json');
      expect(report.status).toBe('TIMED_OUT');
      expect(taskRows(report)).toEqual([['nap', 'FAILED', 1]]);
      expect(report.error).toMatchObject({ task: 'nap', error: 'States.Timeout' });
      expect(alertsOf(state.dir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: slow run TIMED_OUT at nap',
      ]);
      expect(await objectExists(runtime, 'slow/nap.json')).toBe(true);
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
      expect(alertsOf(state.dir, report.runId)).toHaveLength(1);
      expect(await objectExists(runtime, 'in/exit.json')).toBe(true);
    },
    CASE_TIMEOUT,
  );

  it(
    '9. an endless loop: timed out and its worker replaced, FAILED after the budget, the next run works',
    async () => {
      const { report } = await drop('in/loop.json');
      expect(report.status).toBe('FAILED');
      expect(taskRows(report)).toEqual([
        ['work', 'FAILED', 3],
        ['check', 'SKIPPED', 0],
        ['emit', 'SKIPPED', 0],
      ]);
      expect(['States.Timeout', 'Sandbox.Timedout']).toContain(report.error?.error);
      expect(alertsOf(state.dir, report.runId)).toHaveLength(1);
      expect(await objectExists(runtime, 'in/loop.json')).toBe(true);
      // The spinning worker is gone: the same function serves the next run.
      expect((await drop('in/afterwards.json')).report.status).toBe('SUCCEEDED');
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
      expect(alertsOf(state.dir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED at emit',
      ]);
      expect(await objectExists(runtime, 'in/big.json')).toBe(true);
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
      expect(alertsOf(state.dir, report.runId)).toEqual([]);
      expect(await objectExists(runtime, 'in/throttled.json')).toBe(true);
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
      expect(taskRows(report)[0]).toEqual(['work', 'FAILED', 1]);
      expect(alertsOf(state.dir, report.runId)).toHaveLength(1);
      expect(alertsOf(state.dir, report.runId)[0]?.message).toContain('S3.AccessDenied');
      expect(await objectExists(runtime, 'in/data-error-denied.json')).toBe(true);
      expect(await objectExists(runtime, 'quarantine/in/data-error-denied.json')).toBe(false);
    },
    CASE_TIMEOUT,
  );

  it(
    '13. the trigger object is deleted before the task reads it: FAILED at the task after the budget, alert',
    async () => {
      const { report } = await withFault(
        beforeRunStarts(() => deleteObject(runtime, 'in/read-gone.json')),
        () => drop('in/read-gone.json'),
      );
      expect(report.status).toBe('FAILED');
      expect(taskRows(report)[0]).toEqual(['work', 'FAILED', 3]);
      // S3 answers NoSuchKey, or AccessDenied to a reader without s3:ListBucket.
      expect(['NoSuchKey', 'AccessDenied']).toContain(report.error?.error);
      expect(alertsOf(state.dir, report.runId).map((a) => a.subject)).toEqual([
        'stepwise: faulty run FAILED at work',
      ]);
      expect(await objectExists(runtime, 'in/read-gone.json')).toBe(false);
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
      expect(alertsOf(state.dir, report.runId)).toHaveLength(1);
      expect(await objectExists(runtime, 'in/refused.json')).toBe(true);
      expect((await drop('in/after-refused.json')).report.status).toBe('SUCCEEDED');
    },
    CASE_TIMEOUT,
  );

  it(
    'leaves no run RUNNING and nothing queued behind the faults',
    async () => {
      const runs = await runtime.listRuns('faulty', { limit: 100 });
      expect(runs.filter((r) => r.status === 'RUNNING')).toEqual([]);
      expect(runs.length).toBeGreaterThanOrEqual(15);
    },
    CASE_TIMEOUT,
  );
});
