import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';

/**
 * Builds execution histories shaped as GetExecutionHistory returns them: ids from 1, each event's
 * `previousEventId` pointing at the event before it in the same state (so that Parallel branches can
 * interleave), one second between events unless told otherwise.
 */
export const RUN_START = Date.UTC(2026, 10, 1, 2, 0, 0);

/** Second `s` of the run, as an ISO time. */
export const at = (s: number) => new Date(RUN_START + s * 1000).toISOString();

export const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:orders-handler';

/** A Lambda error's cause as the Node.js runtime reports it. */
export function lambdaCause(errorType: string, errorMessage: string, frames = 2): string {
  const trace = [`${errorType}: ${errorMessage}`];
  for (let i = 0; i < frames; i++) trace.push(`    at step${i} (file:///var/task/index.mjs:${10 + i}:7)`);
  return JSON.stringify({ errorType, errorMessage, trace });
}

export type Outcome =
  | 'ok'
  | { readonly error: string; readonly message: string }
  | 'timeout'
  | 'startFailed'
  | 'open';

export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  private second = 0;

  /** Moves the clock on, so that the next event happens `seconds` later than it would. */
  wait(seconds: number): this {
    this.second += seconds;
    return this;
  }

  add(type: HistoryEventType, previousEventId: number, details: Partial<HistoryEvent> = {}): number {
    const id = this.events.length + 1;
    this.events.push({
      id,
      previousEventId,
      timestamp: new Date(RUN_START + this.second * 1000),
      type,
      ...details,
    });
    this.second += 1;
    return id;
  }

  executionStarted(input: unknown): number {
    return this.add('ExecutionStarted', 0, {
      executionStartedEventDetails: { input: JSON.stringify(input), roleArn: 'arn:aws:iam::1:role/sm' },
    });
  }

  entered(kind: 'Task' | 'Pass' | 'Parallel' | 'Choice' | 'Fail', name: string, prev: number): number {
    return this.add(`${kind}StateEntered`, prev, { stateEnteredEventDetails: { name, input: '{}' } });
  }

  exited(kind: 'Task' | 'Pass' | 'Parallel' | 'Choice', name: string, prev: number, output = '{}'): number {
    return this.add(`${kind}StateExited`, prev, { stateExitedEventDetails: { name, output } });
  }

  /** `Start run` (a Pass state settling the ledger key) and `Record run start` (a DynamoDB PutItem). */
  runStart(prev: number, ledger: { pk: string; sk: string }): number {
    const entered = this.entered('Pass', 'Start run', prev);
    const exited = this.exited(
      'Pass',
      'Start run',
      entered,
      JSON.stringify({ run: { id: 'run-1', pipeline: 'orders' }, ledger, results: {} }),
    );
    return this.integration('Record run start', exited);
  }

  /** A Task state with a service integration (not a Lambda function): never a task attempt. */
  integration(name: string, prev: number): number {
    const entered = this.entered('Task', name, prev);
    const resource = { resourceType: 'dynamodb', resource: 'putItem' };
    const scheduled = this.add('TaskScheduled', entered, {
      taskScheduledEventDetails: { ...resource, region: 'eu-west-1', parameters: '{}' },
    });
    const started = this.add('TaskStarted', scheduled, { taskStartedEventDetails: resource });
    const succeeded = this.add('TaskSucceeded', started, {
      taskSucceededEventDetails: { ...resource, output: '{}' },
    });
    return this.exited('Task', name, succeeded);
  }

  /** One attempt of a Lambda task: Scheduled, Started and how it ended. Returns its last event. */
  attempt(prev: number, outcome: Outcome): number {
    const scheduled = this.add('LambdaFunctionScheduled', prev, {
      lambdaFunctionScheduledEventDetails: { resource: FUNCTION_ARN, input: '{}', timeoutInSeconds: 900 },
    });
    if (outcome === 'startFailed')
      return this.add('LambdaFunctionStartFailed', scheduled, {
        lambdaFunctionStartFailedEventDetails: {
          error: 'Lambda.AWSLambdaException',
          cause: 'Rate Exceeded.',
        },
      });
    const started = this.add('LambdaFunctionStarted', scheduled);
    if (outcome === 'open') return started;
    if (outcome === 'ok')
      return this.add('LambdaFunctionSucceeded', started, {
        lambdaFunctionSucceededEventDetails: { output: '{"rows":3}' },
      });
    if (outcome === 'timeout')
      return this.add('LambdaFunctionTimedOut', started, {
        lambdaFunctionTimedOutEventDetails: { error: 'States.Timeout' },
      });
    return this.add('LambdaFunctionFailed', started, {
      lambdaFunctionFailedEventDetails: {
        error: outcome.error,
        cause: lambdaCause(outcome.error, outcome.message),
      },
    });
  }

  /**
   * A Lambda task state: entered, one attempt per outcome (each retry chained to the attempt before),
   * and exited when the last attempt succeeded or a Catch caught its failure. Returns the last event.
   */
  task(name: string, prev: number, outcomes: readonly Outcome[], options: { caught?: boolean } = {}): number {
    let last = this.entered('Task', name, prev);
    for (const outcome of outcomes) last = this.attempt(last, outcome);
    const final = outcomes.at(-1);
    return final === 'ok' || (options.caught && final !== 'open') ? this.exited('Task', name, last) : last;
  }

  parallelStarted(name: string, prev: number): number {
    return this.add('ParallelStateStarted', this.entered('Parallel', name, prev));
  }

  parallelSucceeded(name: string, prev: number): number {
    return this.exited('Parallel', name, this.add('ParallelStateSucceeded', prev));
  }

  executionSucceeded(prev: number): number {
    return this.add('ExecutionSucceeded', prev, { executionSucceededEventDetails: { output: '{}' } });
  }

  executionFailed(prev: number, error: string, cause: string): number {
    return this.add('ExecutionFailed', prev, { executionFailedEventDetails: { error, cause } });
  }

  executionTimedOut(prev: number): number {
    return this.add('ExecutionTimedOut', prev, { executionTimedOutEventDetails: {} });
  }

  executionAborted(prev: number): number {
    return this.add('ExecutionAborted', prev, { executionAbortedEventDetails: {} });
  }
}
