import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type FakeExecution, putRunRow } from './recorder-fakes.ts';
import { HistoryBuilder, lambdaCause, type Outcome, RUN_START } from './recorder-history.ts';

/**
 * Executions of a compiled stepwise state machine, as Step Functions would report them: the
 * dispatcher's input, and a history that runs `Start run`, `Record run start` and the task graph in
 * `Run tasks`, then ends the way each scenario needs.
 */
export const TRIGGER = { type: 'manual', input: { note: 'a "quoted" \\ word' } };

export function runInput(name: string, startedAt: string) {
  return {
    run: {
      id: name,
      pipeline: 'orders',
      trigger: TRIGGER,
      logicalTime: startedAt,
      key: `manual:${name}`,
      expiresAt: '1798000000',
    },
  };
}

export const ledgerKey = (name: string, startedAt: string) => ({
  pk: 'PIPELINE#orders',
  sk: `RUN#${startedAt}#${name}`,
});

const fail = (message: string): Outcome => ({ error: 'Error', message });

function begin(name: string, startedAt: string) {
  const b = new HistoryBuilder();
  const started = b.executionStarted(runInput(name, startedAt));
  const tasks = b.parallelStarted('Run tasks', b.runStart(started, ledgerKey(name, startedAt)));
  return { b, tasks };
}

function execution(
  name: string,
  startedAt: string,
  b: HistoryBuilder,
  ending: Pick<FakeExecution, 'status' | 'error' | 'cause'>,
): FakeExecution {
  return {
    name,
    startDate: new Date(startedAt),
    ...(ending.status === 'RUNNING' ? {} : { stopDate: b.events.at(-1)?.timestamp as Date }),
    input: runInput(name, startedAt),
    events: b.events,
    ...ending,
  };
}

export const START = new Date(RUN_START).toISOString();
export const PUBLISH_CAUSE = lambdaCause('Error', 'connection reset by warehouse');

/**
 * ingest succeeds; publish fails three times, and with no Catch for its error the execution fails at
 * publish: `Run tasks` fails with publish's error, and so does the execution. About 20 events.
 */
export function failedExecution(name: string, startedAt = START): FakeExecution {
  return execution(name, startedAt, failedHistory(name, startedAt), {
    status: 'FAILED',
    error: 'Error',
    cause: PUBLISH_CAUSE,
  });
}

function failedHistory(name: string, startedAt: string): HistoryBuilder {
  const { b, tasks } = begin(name, startedAt);
  const ingest = b.task('ingest', tasks, ['ok']);
  const publish = b.task('publish', ingest, [
    fail('timeout'),
    fail('timeout'),
    fail('connection reset by warehouse'),
  ]);
  b.executionFailed(b.add('ParallelStateFailed', publish), 'Error', PUBLISH_CAUSE);
  return b;
}

/** The events of a redrive: `Run tasks` runs its failed branch again, from publish. */
function redrive(b: HistoryBuilder, count: number): number {
  const redriven = b.add('ExecutionRedriven', b.events.length, {
    executionRedrivenEventDetails: { redriveCount: count },
  });
  return b.add('ParallelStateStarted', b.entered('Parallel', 'Run tasks', redriven));
}

/** `failedExecution`, redriven once: publish runs again and succeeds, and so does the run. */
export function redrivenExecution(name: string, startedAt = START): FakeExecution {
  const b = failedHistory(name, startedAt);
  const tasks = redrive(b, 1);
  const done = b.parallelSucceeded('Run tasks', b.task('publish', tasks, ['ok']));
  b.executionSucceeded(b.integration('Record run success', done));
  return { ...execution(name, startedAt, b, { status: 'SUCCEEDED' }), redriveCount: 1 };
}

export const NOTIFY_CAUSE = lambdaCause('Error', 'mail server down');

/** `failedExecution`, redriven once: publish succeeds now, but notify, after it, fails. */
export function failedAgainExecution(name: string, startedAt = START): FakeExecution {
  const b = failedHistory(name, startedAt);
  const publish = b.task('publish', redrive(b, 1), ['ok']);
  const notify = b.task('notify', publish, [fail('mail server down')]);
  b.executionFailed(b.add('ParallelStateFailed', notify), 'Error', NOTIFY_CAUSE);
  return {
    ...execution(name, startedAt, b, { status: 'FAILED', error: 'Error', cause: NOTIFY_CAUSE }),
    redriveCount: 1,
  };
}

/**
 * Two branches side by side: report (non-critical) fails and is caught, load is cut short when export,
 * in the other branch, fails for good. The execution fails at export.
 */
export function failedInBranchExecution(name: string, startedAt = START): FakeExecution {
  const { b, tasks } = begin(name, startedAt);
  const branches = b.parallelStarted('Parallel 1: export, load, report', b.task('ingest', tasks, ['ok']));
  const report = b.task('report', branches, [fail('dashboard unreachable')], { caught: true });
  b.integration('report warning', report);
  const load = b.task('load', branches, ['open']);
  const exported = b.task('export', branches, [fail('bucket gone'), fail('bucket gone')]);
  b.add('TaskStateAborted', load);
  const inner = b.add('ParallelStateFailed', exported);
  b.executionFailed(b.add('ParallelStateFailed', inner), 'Error', lambdaCause('Error', 'bucket gone'));
  return execution(name, startedAt, b, {
    status: 'FAILED',
    error: 'Error',
    cause: lambdaCause('Error', 'bucket gone'),
  });
}

/** ingest and load succeed, then transform is still running when the execution times out. */
export function timedOutExecution(name: string, startedAt = START): FakeExecution {
  const { b, tasks } = begin(name, startedAt);
  const load = b.task('load', b.task('ingest', tasks, ['ok']), [fail('throttled'), 'ok']);
  const transform = b.task('transform', load, ['open']);
  b.wait(7200).executionTimedOut(transform);
  return execution(name, startedAt, b, { status: 'TIMED_OUT' });
}

/** Stopped by hand while load was running. */
export function abortedExecution(name: string, startedAt = START): FakeExecution {
  const { b, tasks } = begin(name, startedAt);
  const load = b.task('load', b.task('ingest', tasks, ['ok']), ['open']);
  b.executionAborted(load);
  return execution(name, startedAt, b, { status: 'ABORTED', cause: 'stopped by j.doe: wrong input file' });
}

/** Every task succeeds, except `monitor` (non-critical) when `warning` is set. */
export function succeededExecution(name: string, options: { warning?: boolean; startedAt?: string } = {}) {
  const startedAt = options.startedAt ?? START;
  const { b, tasks } = begin(name, startedAt);
  let last = b.task('ingest', tasks, ['ok']);
  last = b.task('transform', last, ['ok']);
  if (options.warning) {
    const monitor = b.task('monitor', last, [fail('dashboard unreachable'), fail('dashboard unreachable')], {
      caught: true,
    });
    last = b.integration('monitor warning', monitor);
  }
  const done = b.parallelSucceeded('Run tasks', last);
  b.executionSucceeded(b.integration('Record run success', done));
  return execution(name, startedAt, b, { status: 'SUCCEEDED' });
}

/** validate (a gate) rejects the data; the quarantine branch moves the object and ends the run. */
export function quarantinedExecution(name: string, startedAt = START): FakeExecution {
  const { b, tasks } = begin(name, startedAt);
  const validate = b.task('validate', b.task('ingest', tasks, ['ok']), ['ok']);
  const rejected = b.entered('Pass', 'validate rejected', b.exited('Choice', 'validate passed?', validate));
  const branchFailed = b.add('ParallelStateFailed', rejected);
  const moved = b.integration('Delete original', b.integration('Copy to quarantine', branchFailed));
  b.executionSucceeded(b.integration('Record quarantine', moved));
  return execution(name, startedAt, b, { status: 'SUCCEEDED' });
}

/** `Record run start` fails (DynamoDB refused it), so the run row never exists. */
export function failedBeforeStartExecution(name: string, startedAt = START): FakeExecution {
  const b = new HistoryBuilder();
  const started = b.executionStarted(runInput(name, startedAt));
  const entered = b.entered('Pass', 'Start run', started);
  const exited = b.exited(
    'Pass',
    'Start run',
    entered,
    JSON.stringify({ run: runInput(name, startedAt).run, ledger: ledgerKey(name, startedAt), results: {} }),
  );
  const record = b.entered('Task', 'Record run start', exited);
  const scheduled = b.add('TaskScheduled', record);
  const failed = b.add('TaskFailed', scheduled, {
    taskFailedEventDetails: {
      resourceType: 'dynamodb',
      resource: 'putItem',
      error: 'DynamoDB.AmazonDynamoDBException',
      cause: 'User is not authorized to perform: dynamodb:PutItem',
    },
  });
  b.executionFailed(
    failed,
    'DynamoDB.AmazonDynamoDBException',
    'User is not authorized to perform: dynamodb:PutItem',
  );
  return execution(name, startedAt, b, {
    status: 'FAILED',
    error: 'DynamoDB.AmazonDynamoDBException',
    cause: 'User is not authorized to perform: dynamodb:PutItem',
  });
}

/** Still running: ingest in progress. */
export function runningExecution(name: string, startedAt = START): FakeExecution {
  const { b, tasks } = begin(name, startedAt);
  b.task('ingest', tasks, ['open']);
  return execution(name, startedAt, b, { status: 'RUNNING' });
}

/**
 * The run row as the state machine leaves it for `failedExecution`: still RUNNING, since the execution
 * failed at publish and only the recorder closes it.
 */
export function putRunningRow(client: DynamoDBClient, table: string, name: string) {
  return putRunRow(client, table, { pipeline: 'orders', runId: name, startedAt: START, status: 'RUNNING' });
}
