/**
 * One execution's history in the shape Step Functions' GetExecutionHistory returns, so the deployed
 * recorder's code reads local executions unchanged. Event ids count from 1; each event's
 * `previousEventId` follows AWS's chains: a task's Scheduled event points at its state's Entered event
 * (or, on a retry, at the previous attempt's Failed event), Started at Scheduled, and the outcome at
 * Started. Timestamps are Dates; the JSON 1.0 server sends them as epoch seconds.
 */
export interface AwsHistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: Date;
  readonly type: string;
  readonly [details: string]: unknown;
}

/** Lambda tasks report LambdaFunction* events; service integrations report Task* events. */
export type TaskKind = 'lambda' | 'integration';

export class HistoryLog {
  readonly events: AwsHistoryEvent[] = [];
  /** The last event of each state, for the next event's `previousEventId`. */
  private readonly lastOfState = new Map<string, number>();
  /** Task attempts scheduled and not yet ended, by state name. */
  private readonly openTask = new Map<string, { kind: TaskKind; startedId: number }>();
  /** The last attempt's output of each Task state that succeeded, and no longer for one that failed since. */
  readonly succeededOutputs = new Map<string, unknown>();

  constructor(input: string, roleArn: string) {
    this.push('ExecutionStarted', 0, { executionStartedEventDetails: { input, roleArn } });
  }

  /**
   * The history of a redriven execution: the earlier events, then ExecutionRedriven, then whatever the
   * redrive does, as Step Functions keeps one history per execution across redrives.
   */
  static redriven(
    events: readonly AwsHistoryEvent[],
    succeededOutputs: ReadonlyMap<string, unknown>,
    redriveCount: number,
  ): HistoryLog {
    const log = Object.create(HistoryLog.prototype) as HistoryLog;
    Object.assign(log, {
      events: events.map((e) => ({ ...e, timestamp: new Date(e.timestamp) })),
      lastOfState: new Map(),
      openTask: new Map(),
      succeededOutputs: new Map(succeededOutputs),
    });
    log.push('ExecutionRedriven', log.last(), { executionRedrivenEventDetails: { redriveCount } });
    return log;
  }

  /** The history of an execution saved by an earlier command, as far as it got. */
  static restored(
    events: readonly AwsHistoryEvent[],
    succeededOutputs: ReadonlyMap<string, unknown>,
  ): HistoryLog {
    const log = Object.create(HistoryLog.prototype) as HistoryLog;
    Object.assign(log, {
      events: events.map((e) => ({ ...e, timestamp: new Date(e.timestamp) })),
      lastOfState: new Map(),
      openTask: new Map(),
      succeededOutputs: new Map(succeededOutputs),
    });
    return log;
  }

  entered(state: string, type: string, input: unknown): void {
    const id = this.push(`${type}StateEntered`, this.last(), {
      stateEnteredEventDetails: { name: state, input: json(input) },
    });
    this.lastOfState.set(state, id);
  }

  exited(state: string, type: string, output: unknown): void {
    const id = this.push(`${type}StateExited`, this.lastOfState.get(state) ?? this.last(), {
      stateExitedEventDetails: { name: state, output: json(output) },
    });
    this.lastOfState.set(state, id);
  }

  /** A task attempt starts: Scheduled, then Started. */
  /** Returns the attempt's token: only that attempt's outcome may close it. */
  taskStarted(state: string, kind: TaskKind, resource: string, parameters: unknown): number {
    const previous = this.lastOfState.get(state) ?? this.last();
    const scheduled =
      kind === 'lambda'
        ? this.push('LambdaFunctionScheduled', previous, {
            lambdaFunctionScheduledEventDetails: { resource, input: json(parameters) },
          })
        : this.push('TaskScheduled', previous, {
            taskScheduledEventDetails: {
              ...integrationOf(resource),
              region: 'us-east-1',
              parameters: json(parameters),
            },
          });
    const started =
      kind === 'lambda'
        ? this.push('LambdaFunctionStarted', scheduled, {})
        : this.push('TaskStarted', scheduled, { taskStartedEventDetails: integrationOf(resource) });
    this.openTask.set(state, { kind, startedId: started });
    this.lastOfState.set(state, started);
    return started;
  }

  taskSucceeded(state: string, token: number, resource: string, output: unknown): void {
    const open = this.close(state, token);
    if (!open) return;
    this.succeededOutputs.set(state, output);
    const id =
      open.kind === 'lambda'
        ? this.push('LambdaFunctionSucceeded', open.startedId, {
            lambdaFunctionSucceededEventDetails: { output: json(output) },
          })
        : this.push('TaskSucceeded', open.startedId, {
            taskSucceededEventDetails: { ...integrationOf(resource), output: json(output) },
          });
    this.lastOfState.set(state, id);
  }

  /**
   * The attempt failed; a timeout of the state (TimeoutSeconds) ends it as TimedOut. Without a token,
   * whichever attempt is open: the interpreter reports a timeout while the function still runs.
   */
  taskFailed(state: string, token: number | undefined, resource: string, error: string, cause: string): void {
    const open = this.close(state, token);
    if (!open) return;
    this.succeededOutputs.delete(state);
    const timedOut = error === 'States.Timeout';
    const details = { error, cause };
    const id =
      open.kind === 'lambda'
        ? timedOut
          ? this.push('LambdaFunctionTimedOut', open.startedId, {
              lambdaFunctionTimedOutEventDetails: details,
            })
          : this.push('LambdaFunctionFailed', open.startedId, { lambdaFunctionFailedEventDetails: details })
        : this.push(timedOut ? 'TaskTimedOut' : 'TaskFailed', open.startedId, {
            [timedOut ? 'taskTimedOutEventDetails' : 'taskFailedEventDetails']: {
              ...integrationOf(resource),
              ...details,
            },
          });
    this.lastOfState.set(state, id);
  }

  succeeded(output: unknown): void {
    this.push('ExecutionSucceeded', this.last(), {
      executionSucceededEventDetails: { output: json(output) },
    });
  }

  failed(error: string, cause: string | undefined): void {
    this.push('ExecutionFailed', this.last(), {
      executionFailedEventDetails: { error, ...(cause === undefined ? {} : { cause }) },
    });
  }

  aborted(error: string, cause: string): void {
    this.push('ExecutionAborted', this.last(), { executionAbortedEventDetails: { error, cause } });
  }

  timedOut(): void {
    this.push('ExecutionTimedOut', this.last(), {
      executionTimedOutEventDetails: { error: 'States.Timeout' },
    });
  }

  /** One page, as GetExecutionHistory pages: `nextToken` is where the next page starts. */
  page(options: {
    maxResults?: number;
    nextToken?: string;
    reverseOrder?: boolean;
    includeExecutionData?: boolean;
  }): {
    events: AwsHistoryEvent[];
    nextToken?: string;
  } {
    const size = Math.min(Math.max(options.maxResults || 100, 1), 1000);
    const start = options.nextToken === undefined ? 0 : Number(options.nextToken);
    if (!Number.isInteger(start) || start < 0 || start > this.events.length)
      throw new RangeError(`invalid nextToken '${options.nextToken}'`);
    const ordered = options.reverseOrder ? [...this.events].reverse() : this.events;
    const events = ordered.slice(start, start + size);
    const end = start + events.length;
    return { events, ...(end < ordered.length ? { nextToken: String(end) } : {}) };
  }

  private close(state: string, token: number | undefined): { kind: TaskKind; startedId: number } | undefined {
    const open = this.openTask.get(state);
    if (!open || (token !== undefined && open.startedId !== token)) return undefined;
    this.openTask.delete(state);
    return open;
  }

  private last(): number {
    return this.events.length;
  }

  private push(type: string, previousEventId: number, details: Record<string, unknown>): number {
    const id = this.events.length + 1;
    this.events.push({ id, previousEventId, timestamp: new Date(), type, ...details });
    return id;
  }
}

/** `arn:aws:states:::dynamodb:updateItem` → resourceType `dynamodb`, resource `updateItem`. */
function integrationOf(resource: string): { resourceType: string; resource: string } {
  const service = resource.replace(/^arn:[^:]+:states:::/, '').replace(/^aws-sdk:/, '');
  const [resourceType = service, name = ''] = service.split(':');
  return { resourceType, resource: name };
}

function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}
