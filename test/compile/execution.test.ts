// Runs compiled definitions with aws-local-stepfunctions, with fake tasks, to check what the states do
// rather than how they are written: routing, retries and the ledger writes. Alerts are the recorder's
// (it reads the execution history); the state machine sends none.
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

/** What a critical task that met bad data writes on the run row before it re-raises for quarantine. */
const RECORD_FAILED_TASK = 'SET failedTask = :task, #error = :error, errorCause = :cause';

/** Each ledger write: the status it sets, else its update expression. */
const ledgerStatus = (calls: readonly ServiceCall[]) =>
  calls
    .filter((c) => c.resource.includes(':dynamodb:'))
    .map((c) => {
      const values = c.parameters.ExpressionAttributeValues as Record<string, { S?: string }> | undefined;
      const item = c.parameters.Item as Record<string, { S?: string }> | undefined;
      return values?.[':status']?.S ?? item?.status?.S ?? c.parameters.UpdateExpression;
    });

const callTo = (calls: readonly ServiceCall[], state: string): ServiceCall => {
  const call = calls.find((c) => c.state === state);
  if (!call) throw new Error(`no call from state '${state}'`);
  return call;
};

/** Integrations called other than DynamoDB and S3: none, since alerts left the state machine. */
const otherServices = (calls: readonly ServiceCall[]) =>
  calls.filter((c) => !/:states:::(dynamodb:|aws-sdk:s3:)/.test(c.resource)).map((c) => c.resource);

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
    expect(otherServices(run.calls)).toEqual([]);
  });

  it('opens the run row with its expiry from the execution input and every task id in plan order', async () => {
    const run = await runDefinition(orders, passing);
    expect(callTo(run.calls, 'Record run start').parameters).toEqual({
      TableName: FAKE.ledgerTable,
      Item: {
        pk: { S: 'PIPELINE#test' },
        // aws-local-stepfunctions sets $$.Execution.StartTime itself, to the time of the test.
        sk: { S: expect.stringMatching(/^RUN#\d{4}-\d\d-\d\dT[\d:.]+Z#run-1$/) },
        kind: { S: 'run' },
        pipeline: { S: 'test' },
        runId: { S: 'run-1' },
        status: { S: 'RUNNING' },
        startedAt: { S: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/) },
        logicalTime: { S: '2026-11-01T02:00:00Z' },
        runKey: { S: 'manual#run-1' },
        trigger: { S: '{"type":"manual","input":{}}' },
        executionArn: { S: FAKE.executionId },
        expiresAt: { N: FAKE.expiresAt },
        tasks: { L: ['ingest', 'validate', 'transform', 'publish', 'monitor'].map((id) => ({ S: id })) },
      },
    });
  });

  it('quarantines the run when a gate says no, with its reason in the ledger, and ends there', async () => {
    const run = await runDefinition(orders, {
      ...passing,
      validate: () => ({ pass: false, reason: 'bad header' }),
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.attempts).toEqual(['ingest', 'validate']);
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING', RECORD_FAILED_TASK, 'QUARANTINED']);
    expect(callTo(run.calls, 'validate bad data').parameters.ExpressionAttributeValues).toEqual({
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
    expect(run.calls.at(-1)?.state).toBe('Record quarantine');
    expect(otherServices(run.calls)).toEqual([]);
  });

  it('quarantines the run when a gate says no without a reason', async () => {
    const run = await runDefinition(orders, { ...passing, validate: () => ({ pass: false }) });
    expect(run.status).toBe('SUCCEEDED');
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING', RECORD_FAILED_TASK, 'QUARANTINED']);
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
      'validate bad data',
      'Copy to quarantine',
      'Delete original',
      'Record quarantine',
    ]);
    expect(callTo(run.calls, 'Copy to quarantine').parameters).toEqual({
      Bucket: 'raw',
      Key: 'quarantine/orders/a.csv',
      CopySource: 'raw/orders/a.csv?versionId=v1',
    });
    expect(callTo(run.calls, 'Delete original').parameters).toEqual({ Bucket: 'raw', Key: 'orders/a.csv' });
    expect(run.states).toContain('Versioned original?');
    expect(callTo(run.calls, 'Record quarantine').parameters.ExpressionAttributeValues).toMatchObject({
      ':bucket': { S: 'raw' },
      ':key': { S: 'quarantine/orders/a.csv' },
    });
  });

  it('deletes the very version it copied when the trigger names one', async () => {
    const run = await runDefinition(
      orders,
      { ...passing, validate: () => ({ pass: false, reason: 'bad header' }) },
      {
        trigger: {
          type: 's3',
          bucket: 'raw',
          key: 'orders/a.csv',
          versionId: 'v1',
          copySource: 'raw/orders/a.csv?versionId=v1',
        },
      },
    );
    expect(run.calls.map((c) => c.state)).toContain('Delete original version');
    expect(run.calls.map((c) => c.state)).not.toContain('Delete original');
    expect(callTo(run.calls, 'Delete original version').parameters).toEqual({
      Bucket: 'raw',
      Key: 'orders/a.csv',
      VersionId: 'v1',
    });
  });

  it('copies into the bucket the construct substitutes for quarantine.bucket, not the short name', async () => {
    const elsewhere = compilePipeline(
      testPipeline({ only: {} }, { quarantine: { prefix: 'bad/', bucket: 'rejects' } }),
    ).definition;
    const run = await runDefinition(
      elsewhere,
      {
        only: () => {
          throw taskError('DataError', JSON.stringify({ errorType: 'DataError', errorMessage: 'no rows' }));
        },
      },
      { trigger: { type: 's3', bucket: 'raw', key: 'a.csv', copySource: 'raw/a.csv' } },
    );
    expect(callTo(run.calls, 'Copy to quarantine').parameters).toMatchObject({
      Bucket: FAKE.quarantineBucket,
      Key: 'bad/a.csv',
    });
    expect(callTo(run.calls, 'Record quarantine').parameters.ExpressionAttributeValues).toMatchObject({
      ':bucket': { S: FAKE.quarantineBucket },
    });
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
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING', RECORD_FAILED_TASK, 'QUARANTINED']);
    expect(callTo(run.calls, 'transform bad data').parameters.ExpressionAttributeValues).toMatchObject({
      ':task': { S: 'transform' },
      ':error': { S: 'DataError' },
    });
    expect(callTo(run.calls, 'Record quarantine').parameters.ExpressionAttributeValues).toMatchObject({
      ':reason': { S: reason },
    });
  });

  it('retries a failing task as its policy says, then fails the execution at that task with its error, writing nothing more', async () => {
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
    // No state runs after the task: RedriveExecution resumes there. The recorder closes the run FAILED.
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING']);
    expect(run.states.at(-1)).toBe('ingest');
    expect(otherServices(run.calls)).toEqual([]);
  });

  it('fails at the task of a Parallel branch, with its error, and quarantines nothing', async () => {
    const diamond = compilePipeline(
      testPipeline({ a: {}, b: { after: ['a'] }, c: { after: ['a'] }, d: { after: ['b', 'c'] } }),
    ).definition;
    const run = await runDefinition(diamond, {
      a: () => ({}),
      b: () => ({ ok: true }),
      c: () => {
        throw taskError('States.Timeout', 'Task timed out after 900 seconds');
      },
      d: () => ({}),
    });
    expect(run.status).toBe('FAILED');
    expect([run.error, run.cause]).toEqual(['States.Timeout', 'Task timed out after 900 seconds']);
    expect(run.attempts).not.toContain('d');
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING']);
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
    // The failed try writes nothing; the group's retry then succeeds and closes the run.
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING', 'SUCCEEDED']);
  });

  it('lets the run succeed when a non-critical task fails, with a warning on the run row', async () => {
    const run = await runDefinition(orders, {
      ...passing,
      monitor: () => {
        throw taskError('Error', 'dashboard unreachable');
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.attempts.filter((t) => t === 'monitor')).toHaveLength(3);
    expect(ledgerStatus(run.calls)).toEqual(['RUNNING', 'ADD warnings :task', 'SUCCEEDED']);
    expect(callTo(run.calls, 'monitor warning').parameters.ExpressionAttributeValues).toEqual({
      ':task': { SS: ['monitor'] },
    });
    expect(otherServices(run.calls)).toEqual([]);
  });
});
