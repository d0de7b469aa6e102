// Runs compiled definitions with aws-local-stepfunctions, with fake tasks, to check what the states do
// rather than how they are written: routing, retries, the ledger writes and the alert text.
import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../lib/compile/states.ts';
import { FAKE, runDefinition, type ServiceCall, taskError } from '../private/run-definition.ts';
import { CHECK_HANDLER, NOTIFY_HANDLER, testPipeline } from '../private/specs.ts';

const check = { kind: 'lambda', entry: CHECK_HANDLER } as const;
const notify = { kind: 'lambda', entry: NOTIFY_HANDLER } as const;

const orders = compilePipeline(
  testPipeline(
    {
      ingest: {},
      validate: { run: check, gate: true, after: ['ingest'] },
      transform: { after: ['validate'] },
      publish: { after: ['transform'], retry: { attempts: 2, from: 'transform' } },
      monitor: { run: notify, after: ['publish'], critical: false },
    },
    { name: 'orders', defaults: { retry: { attempts: 3 } } },
  ),
).definition;

const passing = {
  ingest: () => ({ rows: 3 }),
  validate: () => ({ pass: true }),
  transform: () => ({ uri: 's3://out/t.json' }),
  publish: () => ({ published: true }),
  monitor: () => ({ ok: true }),
};

/** What a failed critical task writes on the run row before it re-raises its error. */
const RECORD_FAILED_TASK = 'SET failedTask = :task, #error = :error, errorCause = :cause';

/** Each ledger call: the status a write sets, else its update expression; a read is 'GetItem'. */
const ledgerStatus = (calls: readonly ServiceCall[]) =>
  calls
    .filter((c) => c.resource.includes(':dynamodb:'))
    .map((c) => {
      if (c.resource.endsWith(':dynamodb:getItem')) return 'GetItem';
      const values = c.parameters.ExpressionAttributeValues as Record<string, { S?: string }> | undefined;
      const item = c.parameters.Item as Record<string, { S?: string }> | undefined;
      return values?.[':status']?.S ?? item?.status?.S ?? c.parameters.UpdateExpression;
    });

const callTo = (calls: readonly ServiceCall[], state: string): ServiceCall => {
  const call = calls.find((c) => c.state === state);
  if (!call) throw new Error(`no call from state '${state}'`);
  return call;
};

const alerts = (calls: readonly ServiceCall[]) =>
  calls
    .filter((c) => c.resource.includes(':sns:'))
    .map((c) => `${c.parameters.Subject}\n${c.parameters.Message}`);

describe('compiled definitions, run locally', () => {
  it('runs every task in order, hands each its upstream output, and records success', async () => {
    const seen: Record<string, unknown> = {};
    const tasks = Object.fromEntries(
      Object.entries(passing).map(([id, fake]) => [
        id,
        (event: { inputs: Record<string, unknown> }) => {
          seen[id] = event.inputs;
          return fake();
        },
      ]),
    );
    const run = await runDefinition(orders, tasks);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.attempts).toEqual(['ingest', 'validate', 'transform', 'publish', 'monitor']);
    expect(seen).toEqual({
      ingest: {},
      validate: { ingest: { rows: 3 } },
      transform: { validate: { pass: true } },
      publish: { transform: { uri: 's3://out/t.json' } },
      monitor: { publish: { published: true } },
    });
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING', 'SUCCEEDED']);
    expect(alerts(run.calls)).toEqual([]);
  });

  it('quarantines the run when a gate says no, with its reason in the ledger and the alert', async () => {
    const run = await runDefinition(orders, {
      ...passing,
      validate: () => ({ pass: false, reason: 'bad header' }),
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.attempts).toEqual(['ingest', 'validate']);
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING', RECORD_FAILED_TASK, 'GetItem', 'QUARANTINED']);
    expect(callTo(run.calls, 'validate failed').parameters.ExpressionAttributeValues).toEqual({
      ':task': { S: 'validate' },
      ':error': { S: 'GateRejected' },
      ':cause': { S: 'bad header' },
    });
    expect(callTo(run.calls, 'Record quarantine').parameters.ExpressionAttributeValues).toMatchObject({
      ':status': { S: 'QUARANTINED' },
      ':reason': { S: 'bad header' },
      ':bucket': { S: '' },
      ':key': { S: '' },
    });
    expect(alerts(run.calls)).toEqual([
      [
        'stepwise: orders run QUARANTINED',
        'Pipeline test run run-1 QUARANTINED by task validate.',
        'Reason: bad header',
        'Moved to: s3:///',
        `Execution: ${FAKE.executionId}`,
        `Console: https://${FAKE.region}.console.aws.amazon.com/states/home?region=${FAKE.region}#/v2/executions/details/${FAKE.executionId}`,
      ].join('\n'),
    ]);
  });

  it('quarantines the run when a gate says no without a reason', async () => {
    const run = await runDefinition(orders, { ...passing, validate: () => ({ pass: false }) });
    expect(run.status).toBe('SUCCEEDED');
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING', RECORD_FAILED_TASK, 'GetItem', 'QUARANTINED']);
    expect(callTo(run.calls, 'Record quarantine').parameters.ExpressionAttributeValues).toMatchObject({
      ':reason': { S: "gate 'validate' returned pass: false without a reason" },
    });
  });

  it('moves the triggering object aside when the run came from S3', async () => {
    const run = await runDefinition(
      orders,
      { ...passing, validate: () => ({ pass: false, reason: 'bad header' }) },
      {
        trigger: {
          type: 's3',
          bucket: 'raw',
          key: 'orders/a.csv',
          copySource: 'raw/orders/a.csv?versionId=v1',
        },
      },
    );
    expect(run.calls.map((c) => c.state)).toEqual([
      'Record run start',
      'validate failed',
      'Read rejection',
      'Copy to quarantine',
      'Delete original',
      'Record quarantine',
      'Alert quarantine',
    ]);
    expect(callTo(run.calls, 'Copy to quarantine').parameters).toEqual({
      Bucket: 'raw',
      Key: 'quarantine/orders/a.csv',
      CopySource: 'raw/orders/a.csv?versionId=v1',
    });
    expect(callTo(run.calls, 'Delete original').parameters).toEqual({ Bucket: 'raw', Key: 'orders/a.csv' });
  });

  it('quarantines the run on a DataError, with the message of the Lambda error as its reason', async () => {
    const reason = 'line 3: amount "12,5x" is not a number';
    const run = await runDefinition(orders, {
      ...passing,
      transform: () => {
        // As a Lambda error reaches Step Functions: the cause is the error as JSON.
        throw taskError(
          'DataError',
          JSON.stringify({ errorType: 'DataError', errorMessage: reason, trace: [] }),
        );
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.attempts).toEqual(['ingest', 'validate', 'transform']);
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING', RECORD_FAILED_TASK, 'GetItem', 'QUARANTINED']);
    expect(callTo(run.calls, 'transform failed').parameters.ExpressionAttributeValues).toMatchObject({
      ':task': { S: 'transform' },
      ':error': { S: 'DataError' },
    });
    expect(callTo(run.calls, 'Record quarantine').parameters.ExpressionAttributeValues).toMatchObject({
      ':reason': { S: reason },
    });
    expect(alerts(run.calls)[0]?.split('\n').slice(0, 3)).toEqual([
      'stepwise: orders run QUARANTINED',
      'Pipeline test run run-1 QUARANTINED by task transform.',
      `Reason: ${reason}`,
    ]);
  });

  it('retries a failing task as its policy says, then fails the run with an alert', async () => {
    const run = await runDefinition(orders, {
      ...passing,
      ingest: () => {
        throw taskError('Error', 'connection reset');
      },
    });
    expect(run.attempts).toEqual(['ingest', 'ingest', 'ingest']);
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('Error');
    expect(run.cause).toBe('connection reset');
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING', RECORD_FAILED_TASK, 'GetItem', 'FAILED']);
    expect(callTo(run.calls, 'ingest failed').parameters.ExpressionAttributeValues).toEqual({
      ':task': { S: 'ingest' },
      ':error': { S: 'Error' },
      ':cause': { S: 'connection reset' },
    });
    expect(alerts(run.calls)[0]?.split('\n').slice(0, 3)).toEqual([
      'stepwise: orders run FAILED',
      'Pipeline test run run-1 FAILED in task ingest.',
      'Error: Error',
    ]);
  });

  it('runs the chain from retry.from again when the task that declares it fails', async () => {
    let publishTries = 0;
    const run = await runDefinition(orders, {
      ...passing,
      publish: () => {
        publishTries++;
        if (publishTries === 1) throw taskError('Error', 'throttled by the warehouse');
        return { published: true };
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.attempts).toEqual([
      'ingest',
      'validate',
      'transform',
      'publish',
      'transform',
      'publish',
      'monitor',
    ]);
    // The failed try records itself on the run row; the group's retry then succeeds and closes the run.
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING', RECORD_FAILED_TASK, 'SUCCEEDED']);
  });

  it('lets the run succeed when a non-critical task fails, with a warning and an alert', async () => {
    const run = await runDefinition(orders, {
      ...passing,
      monitor: () => {
        throw taskError('Error', 'dashboard unreachable');
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.attempts.filter((t) => t === 'monitor')).toHaveLength(3);
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING', 'ADD warnings :task', 'SUCCEEDED']);
    const [alert] = alerts(run.calls);
    expect(alert?.split('\n').slice(0, 3)).toEqual([
      'stepwise: orders task monitor failed (non-critical)',
      'Pipeline test run run-1: non-critical task monitor failed; the run goes on.',
      'Error: Error',
    ]);
  });
});
