// The recorder Lambda, configured by environment variables alone, against DynamoDB (dynalite through
// the real SDK) and fakes of Step Functions, SNS and EventBridge (test/private/recorder-fakes.ts).
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  type MockInstance,
  vi,
} from 'vitest';
import { getRun, readAttempts } from '../../lib/ledger/ledger.ts';
import {
  ACCOUNT,
  type FakeExecution,
  putRunRow,
  REGION,
  scanTable,
  TOPIC_ARN,
} from '../private/recorder-fakes.ts';
import { type RecorderHarness, startRecorderHarness, statusEvent } from '../private/recorder-harness.ts';
import {
  abortedExecution,
  failedAgainExecution,
  failedBeforeStartExecution,
  failedExecution,
  failedInBranchExecution,
  NOTIFY_CAUSE,
  PUBLISH_CAUSE,
  putRunningRow,
  quarantinedExecution,
  redrivenExecution,
  START,
  succeededExecution,
  TRIGGER,
  timedOutExecution,
} from '../private/recorder-scenarios.ts';

let harness: RecorderHarness;
let handler: (event: unknown) => Promise<unknown>;
let table: string;
let log: MockInstance<typeof console.log>;

beforeAll(async () => {
  harness = await startRecorderHarness();
  ({ handler } = await import('../../lambdas/recorder/index.ts'));
});

afterAll(async () => {
  await harness?.close();
});

beforeEach(async () => {
  table = await harness.useNewTable();
  harness.reset();
  log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => {
  log.mockRestore();
});

const printed = () => log.mock.calls.map((call) => String(call[0]));
const emfLines = () =>
  printed()
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const runFinished = () =>
  harness.bus.entries.map((e) => ({ ...e, Detail: JSON.parse(e.Detail) as Record<string, unknown> }));
const openRow = (name: string) => putRunningRow(harness.ledger.client, table, name);

describe('recorder', () => {
  it('records a failed run: attempt rows with the TTL, the run closed at its failed task, one alert, one EMF line, one Run Finished', async () => {
    const execution = failedExecution('run-failed');
    const failedAt = execution.stopDate?.toISOString();
    harness.sfn.put(execution);
    const key = await openRow('run-failed');

    const result = await handler(statusEvent(execution));
    expect(result).toMatchObject({
      outcome: 'recorded',
      status: 'FAILED',
      attempts: 4,
      createdRow: false,
      closedRow: true,
      notified: true,
      alerted: true,
    });

    const attempts = await readAttempts(harness.ledger.client, table, 'run-failed');
    expect(attempts.map((a) => `${a.task}#${a.attempt} ${a.status}`)).toEqual([
      'ingest#1 SUCCEEDED',
      'publish#1 FAILED',
      'publish#2 FAILED',
      'publish#3 FAILED',
    ]);
    expect(attempts[3]).toMatchObject({ error: 'Error', cause: PUBLISH_CAUSE });
    const attemptItems = (await scanTable(harness.ledger.client, table)).filter(
      (i) => i.kind?.S === 'attempt',
    );
    expect(attemptItems.map((i) => i.expiresAt?.N)).toEqual([
      '1798000000',
      '1798000000',
      '1798000000',
      '1798000000',
    ]);

    const row = await getRun(harness.ledger.client, table, key);
    expect(row).toMatchObject({
      status: 'FAILED',
      failedTask: 'publish',
      error: 'Error',
      errorCause: PUBLISH_CAUSE,
      endedAt: failedAt,
      tasks: ['ingest', 'publish'],
      trigger: TRIGGER,
    });
    // Start run, Record run start, Run tasks, ingest, publish: nothing runs after the failed task.
    expect(row?.transitions).toBe(5);
    expect(row?.notifiedAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    expect(harness.sns.published).toHaveLength(1);
    expect(harness.sns.published[0]?.TopicArn).toBe(TOPIC_ARN);
    expect(harness.sns.published[0]?.Subject).toBe('stepwise: orders run FAILED at publish');
    expect(harness.sns.published[0]?.Message).toContain('Task:      publish (3 attempts)');
    expect(harness.sns.published[0]?.Message).toContain('Message:   connection reset by warehouse');
    expect(harness.sns.published[0]?.Message).toContain(
      `https://${REGION}.console.aws.amazon.com/states/home?region=${REGION}#/v2/executions/details/arn:aws:states:${REGION}:${ACCOUNT}:execution:OrdersStateMachine:run-failed`,
    );
    expect(harness.sns.published[0]?.Message).toContain(`Ledger:    pk=${key.pk} sk=${key.sk}`);

    expect(emfLines()).toEqual([
      expect.objectContaining({
        _aws: {
          Timestamp: expect.any(Number),
          CloudWatchMetrics: [
            {
              Namespace: 'stepwise',
              Dimensions: [['Pipeline']],
              Metrics: [
                { Name: 'RunsSucceeded', Unit: 'Count' },
                { Name: 'RunsFailed', Unit: 'Count' },
                { Name: 'RunsQuarantined', Unit: 'Count' },
                { Name: 'RunsTimedOut', Unit: 'Count' },
                { Name: 'TaskRetries', Unit: 'Count' },
                { Name: 'TaskFailures', Unit: 'Count' },
                { Name: 'RunDuration', Unit: 'Milliseconds' },
              ],
            },
          ],
        },
        Pipeline: 'orders',
        RunsSucceeded: 0,
        RunsFailed: 1,
        RunsQuarantined: 0,
        RunsTimedOut: 0,
        TaskRetries: 2,
        TaskFailures: 3,
        RunDuration: 26_000,
      }),
    ]);

    expect(runFinished()).toEqual([
      {
        Source: 'stepwise',
        DetailType: 'Run Finished',
        EventBusName: 'default',
        Resources: [`arn:aws:states:${REGION}:${ACCOUNT}:execution:OrdersStateMachine:run-failed`],
        Detail: {
          pipeline: 'orders',
          runId: 'run-failed',
          status: 'FAILED',
          logicalTime: START,
          runKey: 'manual:run-failed',
          startedAt: START,
          endedAt: failedAt,
          executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:OrdersStateMachine:run-failed`,
        },
      },
    ]);
    const history = harness.sfn.requests.filter((r) => r.operation === 'GetExecutionHistory');
    expect(history.map((r) => [r.body.maxResults, r.body.includeExecutionData])).toEqual([[1000, true]]);
  });

  it('changes nothing and sends nothing when the same event is delivered again', async () => {
    const execution = failedExecution('run-twice');
    harness.sfn.put(execution);
    await openRow('run-twice');
    await handler(statusEvent(execution));
    const before = await scanTable(harness.ledger.client, table);
    const sent = {
      alerts: harness.sns.published.length,
      events: harness.bus.entries.length,
      emf: emfLines().length,
    };

    const again = await handler(statusEvent(execution));

    expect(again).toMatchObject({ outcome: 'recorded', notified: false, alerted: false });
    expect(await scanTable(harness.ledger.client, table)).toEqual(before);
    expect({
      alerts: harness.sns.published.length,
      events: harness.bus.entries.length,
      emf: emfLines().length,
    }).toEqual(sent);
    expect(sent).toEqual({ alerts: 1, events: 1, emf: 1 });
  });

  it('notifies the new ending of a redriven execution once, with the attempts counted across both', async () => {
    const failed = failedExecution('run-redriven');
    harness.sfn.put(failed);
    const key = await openRow('run-redriven');
    await handler(statusEvent(failed));
    const redriven = redrivenExecution('run-redriven');
    harness.sfn.put(redriven);
    // The redriven execution's `Record run success`.
    await harness.ledger.client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: key.pk }, sk: { S: key.sk } },
        UpdateExpression: 'SET #status = :status, endedAt = :endedAt',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': { S: 'SUCCEEDED' },
          ':endedAt': { S: redriven.stopDate?.toISOString() as string },
        },
      }),
    );

    expect(await handler(statusEvent(redriven))).toMatchObject({
      status: 'SUCCEEDED',
      notified: true,
      alerted: false,
    });

    expect(runFinished().map((e) => e.Detail.status)).toEqual(['FAILED', 'SUCCEEDED']);
    expect(harness.sns.published.map((p) => p.Subject)).toEqual(['stepwise: orders run FAILED at publish']);
    const attempts = await readAttempts(harness.ledger.client, table, 'run-redriven');
    expect(attempts.filter((a) => a.task === 'publish').map((a) => `${a.attempt} ${a.status}`)).toEqual([
      '1 FAILED',
      '2 FAILED',
      '3 FAILED',
      '4 SUCCEEDED',
    ]);
    expect((await getRun(harness.ledger.client, table, key))?.notifiedRedrives).toBe(1);

    await handler(statusEvent(redriven));
    expect(harness.bus.entries).toHaveLength(2);
  });

  it('closes a redriven run again when it fails again, at the task it failed at this time', async () => {
    const failed = failedExecution('run-again');
    harness.sfn.put(failed);
    const key = await openRow('run-again');
    await handler(statusEvent(failed));
    const again = failedAgainExecution('run-again');
    harness.sfn.put(again);

    expect(await handler(statusEvent(again))).toMatchObject({
      status: 'FAILED',
      closedRow: true,
      notified: true,
      alerted: true,
    });

    expect(await getRun(harness.ledger.client, table, key)).toMatchObject({
      status: 'FAILED',
      failedTask: 'notify',
      error: 'Error',
      errorCause: NOTIFY_CAUSE,
      endedAt: again.stopDate?.toISOString(),
      notifiedRedrives: 1,
    });
    expect(harness.sns.published.map((p) => p.Subject)).toEqual([
      'stepwise: orders run FAILED at publish',
      'stepwise: orders run FAILED at notify',
    ]);
    expect(runFinished().map((e) => e.Detail.status)).toEqual(['FAILED', 'FAILED']);
  });

  it('names the task the execution failed at inside a Parallel, not a caught or cut-short one', async () => {
    const execution = failedInBranchExecution('run-branch');
    harness.sfn.put(execution);
    const key = await openRow('run-branch');

    expect(await handler(statusEvent(execution))).toMatchObject({ status: 'FAILED', closedRow: true });

    expect(await getRun(harness.ledger.client, table, key)).toMatchObject({
      status: 'FAILED',
      failedTask: 'export',
    });
    expect(harness.sns.published.map((p) => p.Subject)).toEqual(['stepwise: orders run FAILED at export']);
    expect(harness.sns.published[0]?.Message).toContain('Task:      export (2 attempts)');
  });

  it('reads a history of many pages into the same rows as a history of one page', async () => {
    const execution = failedExecution('run-paged');
    harness.sfn.put(execution);
    await openRow('run-paged');
    await handler(statusEvent(execution));
    const onePage = await scanTable(harness.ledger.client, table);

    table = await harness.useNewTable();
    await openRow('run-paged');
    harness.sfn.pageLimit = 7;
    harness.sfn.requests.length = 0;
    await handler(statusEvent(execution));

    const pages = harness.sfn.requests.filter((r) => r.operation === 'GetExecutionHistory');
    expect(execution.events.length).toBeGreaterThan(3 * 7);
    expect(pages).toHaveLength(Math.ceil(execution.events.length / 7));
    expect(
      pages.every((p) => p.body.maxResults === 1000 && p.body.executionArn === pages[0]?.body.executionArn),
    ).toBe(true);
    expect(pages.map((p) => p.body.nextToken === undefined)).toEqual(pages.map((_, i) => i === 0));
    const withoutMark = (items: typeof onePage) => items.map(({ notifiedAt: _, ...item }) => item);
    expect(withoutMark(await scanTable(harness.ledger.client, table))).toEqual(withoutMark(onePage));
  });

  it('closes a run the state machine left RUNNING when the execution timed out, naming the task it cut short', async () => {
    const execution = timedOutExecution('run-timeout');
    harness.sfn.put(execution);
    const key = await putRunRow(harness.ledger.client, table, {
      pipeline: 'orders',
      runId: 'run-timeout',
      startedAt: START,
    });

    const result = await handler(statusEvent(execution));

    expect(result).toMatchObject({ status: 'TIMED_OUT', closedRow: true, alerted: true });
    expect(await getRun(harness.ledger.client, table, key)).toMatchObject({
      status: 'TIMED_OUT',
      endedAt: execution.stopDate?.toISOString(),
      error: 'States.Timeout',
      failedTask: 'transform',
      tasks: ['ingest', 'load', 'transform'],
    });
    const attempts = await readAttempts(harness.ledger.client, table, 'run-timeout');
    expect(attempts.find((a) => a.task === 'transform')).toMatchObject({
      status: 'FAILED',
      error: 'States.Timeout',
      endedAt: execution.stopDate?.toISOString(),
    });
    expect(harness.sns.published[0]?.Subject).toBe('stepwise: orders run TIMED_OUT at transform');
    expect(emfLines()[0]).toMatchObject({ RunsTimedOut: 1, RunsFailed: 0, TaskRetries: 1, TaskFailures: 2 });
    expect(runFinished()[0]?.Detail).toMatchObject({ status: 'TIMED_OUT' });
  });

  it('records an aborted execution as FAILED with States.Aborted, and alerts it as ABORTED', async () => {
    const execution = abortedExecution('run-aborted');
    harness.sfn.put(execution);
    const key = await putRunRow(harness.ledger.client, table, {
      pipeline: 'orders',
      runId: 'run-aborted',
      startedAt: START,
    });

    await handler(statusEvent(execution));

    expect(await getRun(harness.ledger.client, table, key)).toMatchObject({
      status: 'FAILED',
      error: 'States.Aborted',
      errorCause: 'stopped by j.doe: wrong input file',
      failedTask: 'load',
    });
    expect(harness.sns.published[0]?.Subject).toBe('stepwise: orders run ABORTED at load');
    expect(harness.sns.published[0]?.Message).toContain('Cause:\n  stopped by j.doe: wrong input file');
    expect(runFinished()[0]?.Detail).toMatchObject({ status: 'FAILED' });
    expect(emfLines()[0]).toMatchObject({ RunsFailed: 1 });
  });

  it('writes the run row of an execution that failed before recording its start, and alerts once', async () => {
    const execution = failedBeforeStartExecution('run-no-row');
    harness.sfn.put(execution);

    const result = await handler(statusEvent(execution));

    expect(result).toMatchObject({ status: 'FAILED', createdRow: true, attempts: 0, alerted: true });
    const row = await getRun(harness.ledger.client, table, {
      pk: 'PIPELINE#orders',
      sk: `RUN#${START}#run-no-row`,
    });
    expect(row).toMatchObject({
      status: 'FAILED',
      runId: 'run-no-row',
      error: 'DynamoDB.AmazonDynamoDBException',
      errorCause: 'User is not authorized to perform: dynamodb:PutItem',
      runKey: 'manual:run-no-row',
      trigger: TRIGGER,
      expiresAt: '1798000000',
      transitions: 2,
    });
    expect(harness.sns.published.map((p) => p.Subject)).toEqual(['stepwise: orders run FAILED']);
    expect(harness.sns.published[0]?.Message).toContain(
      'Error:     DynamoDB.AmazonDynamoDBException\nCause:\n  User is not authorized to perform: dynamodb:PutItem',
    );

    const before = await scanTable(harness.ledger.client, table);
    await handler(statusEvent(execution));
    expect(await scanTable(harness.ledger.client, table)).toEqual(before);
    expect(harness.sns.published).toHaveLength(1);
    expect(harness.bus.entries).toHaveLength(1);
  });

  it('records an execution started by hand with input that is not a run, under its own name', async () => {
    const execution: FakeExecution = { ...failedBeforeStartExecution('by-hand'), input: { hello: 'world' } };
    const started = execution.events[0];
    if (started?.executionStartedEventDetails)
      started.executionStartedEventDetails.input = '{"hello":"world"}';
    harness.sfn.put({ ...execution, events: execution.events.filter((e) => e.type !== 'PassStateExited') });

    await handler(statusEvent(execution));

    const row = await getRun(harness.ledger.client, table, {
      pk: 'PIPELINE#OrdersStateMachine',
      sk: `RUN#${START}#by-hand`,
    });
    expect(row).toMatchObject({ status: 'FAILED', pipeline: 'OrdersStateMachine', runId: 'by-hand' });
    expect(harness.sns.published[0]?.Subject).toBe('stepwise: OrdersStateMachine run FAILED');
  });

  it('alerts a quarantined run with its reason and where the object went', async () => {
    const execution = quarantinedExecution('run-bad-data');
    harness.sfn.put(execution);
    await putRunRow(harness.ledger.client, table, {
      pipeline: 'orders',
      runId: 'run-bad-data',
      startedAt: START,
      status: 'QUARANTINED',
      extra: {
        endedAt: { S: execution.stopDate?.toISOString() as string },
        failedTask: { S: 'validate' },
        error: { S: 'GateRejected' },
        errorCause: { S: 'line 3: amount "x" is not a number' },
        reason: { S: 'line 3: amount "x" is not a number' },
        quarantineBucket: { S: 'raw' },
        quarantineKey: { S: 'quarantine/orders/a.csv' },
      },
    });

    await handler(statusEvent(execution));

    expect(harness.sns.published[0]?.Subject).toBe('stepwise: orders run QUARANTINED at validate');
    expect(harness.sns.published[0]?.Message).toContain(
      'Reason:    line 3: amount "x" is not a number\nMoved to:  s3://raw/quarantine/orders/a.csv',
    );
    expect(emfLines()[0]).toMatchObject({ RunsQuarantined: 1, RunsSucceeded: 0 });
    expect(runFinished()[0]?.Detail).toMatchObject({ status: 'QUARANTINED' });
  });

  it('sends no alert for a clean success, but the metrics and Run Finished; alerts a success with warnings', async () => {
    const clean = succeededExecution('run-ok');
    harness.sfn.put(clean);
    const key = await putRunRow(harness.ledger.client, table, {
      pipeline: 'orders',
      runId: 'run-ok',
      startedAt: START,
      status: 'SUCCEEDED',
      extra: { endedAt: { S: clean.stopDate?.toISOString() as string } },
    });
    expect(await handler(statusEvent(clean))).toMatchObject({
      status: 'SUCCEEDED',
      alerted: false,
      notified: true,
    });
    expect(harness.sns.published).toHaveLength(0);
    expect(emfLines()[0]).toMatchObject({ RunsSucceeded: 1, TaskRetries: 0, TaskFailures: 0 });
    expect(runFinished()[0]?.Detail).toMatchObject({ runId: 'run-ok', status: 'SUCCEEDED' });
    expect((await getRun(harness.ledger.client, table, key))?.notifiedAt).toBeDefined();

    const warned = succeededExecution('run-warned', { warning: true });
    harness.sfn.put(warned);
    await putRunRow(harness.ledger.client, table, {
      pipeline: 'orders',
      runId: 'run-warned',
      startedAt: START,
      status: 'SUCCEEDED',
      extra: { endedAt: { S: warned.stopDate?.toISOString() as string }, warnings: { SS: ['monitor'] } },
    });
    await handler(statusEvent(warned));
    expect(harness.sns.published.map((p) => p.Subject)).toEqual([
      'stepwise: orders run SUCCEEDED, non-critical task monitor failed',
    ]);
    expect(harness.sns.published[0]?.Message).toContain('Task:      monitor (2 attempts, non-critical)');
  });

  it('logs a malformed event as an error and drops it, and ignores a RUNNING one', async () => {
    const malformed = {
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: {},
    };
    expect(await handler(malformed)).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringContaining('malformed status-change event'),
    });
    const logged = printed().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'error',
        message: expect.stringContaining('executionArn'),
        event: malformed,
      }),
    ]);

    const running = succeededExecution('run-now');
    harness.sfn.put({ ...running, status: 'RUNNING' });
    expect(await handler(statusEvent(running, 'RUNNING'))).toEqual({
      outcome: 'ignored',
      reason: 'execution is RUNNING, not ended',
    });
    expect(harness.sfn.requests).toHaveLength(0);
  });

  it('fails when EventBridge refuses Run Finished, leaves the run unmarked, and sends again on the retry', async () => {
    const execution = failedExecution('run-refused');
    harness.sfn.put(execution);
    const key = await openRow('run-refused');
    harness.bus.refuse(1);

    await expect(handler(statusEvent(execution))).rejects.toThrow(
      'EventBridge refused the "Run Finished" event of run run-refused (orders): InternalFailure: try again',
    );
    expect((await getRun(harness.ledger.client, table, key))?.notifiedAt).toBeUndefined();
    expect(harness.sns.published).toHaveLength(1);

    // Lambda retries the event: at least once, so the alert goes out a second time with the event.
    await handler(statusEvent(execution));
    expect(harness.sns.published).toHaveLength(2);
    expect(harness.bus.entries).toHaveLength(1);
    expect((await getRun(harness.ledger.client, table, key))?.notifiedAt).toBeDefined();
  });
});
