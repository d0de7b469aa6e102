import { ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import type { JsonObject, State, StateMachineDefinition } from '../compile/asl.ts';
import { adapterForResource } from '../spec/adapters/registry.ts';
import { executionContext, installStateTap } from './asl-runtime.ts';
import { checkDefinition } from './definition-check.ts';
import { HistoryLog } from './history-log.ts';
import {
  authorizeLambdaInvoke,
  authorizeServiceCalls,
  type IntegrationContext,
  integrationFor,
  LOCAL_INTEGRATIONS,
} from './integrations.ts';
import type { LambdaHost } from './lambda-host.ts';
import { isNestedExecution, isNestedTaskState, serveNestedExecution } from './nested-executions.ts';
import { isRedriveState, redriveDefinition } from './redrive.ts';
import type { SavedExecution } from './saved-executions.ts';
import { ApiError, type StepFunctionsApi } from './sfn-server.ts';
import type { SnsPublication } from './sns-server.ts';
import { TASK_TOKENS } from './task-tokens.ts';
import type { LocalDeployment, LocalStateMachine } from './template.ts';

/** What the engine reports as it runs, for the CLI to render. The engine itself never prints. */
export type EngineEvent =
  | { readonly type: 'execution-started'; readonly executionArn: string; readonly name: string }
  | {
      readonly type: 'task-started';
      readonly name: string;
      readonly task: string;
      readonly attempt: number;
      readonly at: string;
    }
  | {
      readonly type: 'task-succeeded';
      readonly name: string;
      readonly task: string;
      readonly attempt: number;
      readonly at: string;
    }
  | {
      readonly type: 'task-failed';
      readonly name: string;
      readonly task: string;
      readonly attempt: number;
      readonly at: string;
      readonly error: string;
      readonly cause: string;
    }
  | { readonly type: 'alert'; readonly alert: SnsPublication }
  /** The execution's history grew by a task attempt that started or ended: worth saving. */
  | { readonly type: 'execution-progress'; readonly executionArn: string }
  | {
      readonly type: 'execution-finished';
      readonly executionArn: string;
      readonly name: string;
      readonly status: ExecutionStatus;
    };

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** Step Functions' payload quota: a state's input or output, as UTF-8 JSON, is at most 256 KiB. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export interface ExecutionRecord {
  readonly arn: string;
  readonly name: string;
  readonly stateMachineArn: string;
  readonly input: string;
  readonly startDate: Date;
  stopDate: Date | undefined;
  status: ExecutionStatus;
  output: unknown;
  error: string | undefined;
  cause: string | undefined;
  /** The same execution as GetExecutionHistory reports it. */
  readonly log: HistoryLog;
  /** How many times this execution was redriven. */
  readonly redriveCount: number;
  readonly done: Promise<ExecutionRecord>;
}

/** A state the engine cannot serve. Raised before any execution starts, naming the state and the fix. */
export class UnsupportedResourceError extends Error {
  override readonly name = 'UnsupportedResourceError';
}

/**
 * Runs synthesized state machines with aws-local-stepfunctions, serving every Task state from the
 * embedded stand-ins: Lambda tasks from their bundled assets, service integrations from dynalite,
 * s3rver and the alert sink. Executions are named, and a name is never reused, as in Step Functions.
 */
export class LocalEngine implements StepFunctionsApi {
  private readonly machines = new Map<
    string,
    { machine: LocalStateMachine; runner: StateMachine; tasks: Set<string>; resources: Map<string, string> }
  >();
  private readonly executions = new Map<string, ExecutionRecord>();

  constructor(
    private readonly deployment: LocalDeployment,
    private readonly lambdas: LambdaHost,
    private readonly integrations: IntegrationContext,
    private readonly onEvent: (event: EngineEvent) => void = () => undefined,
  ) {
    installStateTap();
    for (const machine of deployment.stateMachines) {
      const tasks = new Set<string>();
      const resources = new Map<string, string>();
      for (const [name, state] of allStates(machine.definition)) {
        this.checkServed(machine, name, state);
        if (this.isLambdaTask(state) || machine.standIns?.has(name) || isNestedTaskState(name, state))
          tasks.add(name);
        if (state.Type === 'Task') resources.set(name, String(state.Resource));
      }
      const runner = localStateMachine(machine.definition);
      this.machines.set(machine.arn, { machine, runner, tasks, resources });
    }
  }

  startExecution(request: { stateMachineArn: string; name?: string; input?: string }): {
    executionArn: string;
    startDate: number;
  } {
    const entry = this.machines.get(request.stateMachineArn);
    if (!entry)
      throw new ApiError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${request.stateMachineArn}'`,
      );
    const name = request.name ?? crypto.randomUUID();
    const arn = `${request.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const input = request.input ?? '{}';
    const existing = this.executions.get(arn);
    if (existing) {
      // Step Functions: the same name and input is idempotent while the execution is open; a different
      // input, or any start once it has closed, is refused.
      // @see https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
      if (existing.status === 'RUNNING' && existing.input === input)
        return { executionArn: arn, startDate: existing.startDate.getTime() / 1000 };
      throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const record = this.execute(entry, arn, name, input);
    return { executionArn: arn, startDate: record.startDate.getTime() / 1000 };
  }

  describeExecution(request: { executionArn: string }): Record<string, unknown> {
    const record = this.executions.get(request.executionArn);
    if (!record)
      throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${request.executionArn}'`);
    return {
      executionArn: record.arn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: record.startDate.getTime() / 1000,
      ...(record.stopDate ? { stopDate: record.stopDate.getTime() / 1000 } : {}),
      input: record.input,
      ...(record.output === undefined ? {} : { output: JSON.stringify(record.output) }),
      ...(record.error ? { error: record.error, cause: record.cause } : {}),
      redriveCount: record.redriveCount,
    };
  }

  getExecutionHistory(request: {
    executionArn: string;
    maxResults?: number;
    nextToken?: string;
    reverseOrder?: boolean;
  }): { events: unknown[]; nextToken?: string } {
    const record = this.executions.get(request.executionArn);
    if (!record)
      throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${request.executionArn}'`);
    try {
      return record.log.page(request);
    } catch (error) {
      throw new ApiError('InvalidToken', (error as Error).message);
    }
  }

  execution(arn: string): ExecutionRecord | undefined {
    return this.executions.get(arn);
  }

  /** Every execution started so far, oldest first. */
  allExecutions(): ExecutionRecord[] {
    return [...this.executions.values()];
  }

  /**
   * The local counterpart of RedriveExecution: the same execution (name, input, start time) resumes
   * at its unsuccessful state, and a Parallel runs again only its branches that failed or were cut
   * short (see `redriveDefinition`). What succeeded does not run again, as on AWS.
   */
  redrive(saved: SavedExecution): ExecutionRecord {
    const entry = this.machines.get(saved.stateMachineArn);
    if (!entry)
      throw new ApiError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${saved.stateMachineArn}'`,
      );
    if (saved.status === 'SUCCEEDED' || saved.status === 'RUNNING')
      throw new ApiError(
        'ExecutionNotRedrivable',
        `Execution ${saved.name} is ${saved.status}; only a FAILED, TIMED_OUT or ABORTED execution can be redriven`,
      );
    const plan = redriveDefinition(entry.machine.definition, saved.events);
    const runner = localStateMachine(plan.definition);
    return this.execute({ ...entry, runner }, saved.arn, saved.name, saved.input, {
      log: HistoryLog.redriven(
        saved.events,
        new Map(Object.entries(saved.succeededOutputs)),
        saved.redriveCount + 1,
      ),
      startDate: new Date(saved.startDate),
      redriveCount: saved.redriveCount + 1,
      resumeInput: plan.input,
    });
  }

  /**
   * An execution an earlier command left running when its process died: known again, ABORTED, with
   * its history as far as it got and the cause, so that DescribeExecution and GetExecutionHistory
   * tell the reconciler what happened, and RedriveExecution can take it up where it stopped.
   */
  adoptAbandoned(saved: SavedExecution, cause: string): ExecutionRecord {
    const log = HistoryLog.restored(saved.events, new Map(Object.entries(saved.succeededOutputs)));
    log.aborted(ABORTED_ERROR, cause);
    const stopDate = new Date();
    const record: ExecutionRecord = {
      arn: saved.arn,
      name: saved.name,
      stateMachineArn: saved.stateMachineArn,
      input: saved.input,
      startDate: new Date(saved.startDate),
      stopDate,
      status: 'ABORTED',
      output: undefined,
      error: ABORTED_ERROR,
      cause,
      log,
      redriveCount: saved.redriveCount,
      done: Promise.resolve().then(() => record),
    };
    this.executions.set(saved.arn, record);
    return record;
  }

  private execute(
    entry: {
      machine: LocalStateMachine;
      runner: StateMachine;
      tasks: Set<string>;
      resources: Map<string, string>;
    },
    arn: string,
    name: string,
    input: string,
    redrive?: {
      log: HistoryLog;
      startDate: Date;
      redriveCount: number;
      /** The input of the state the redrive resumes at. */
      resumeInput: unknown;
    },
  ): ExecutionRecord {
    /** States whose last attempt failed: a caught failure also exits its state, but did not succeed. */
    const failedLast = new Set<string>();
    const log =
      redrive?.log ?? new HistoryLog(input, `${entry.machine.arn.replace(':stateMachine:', ':role/')}`);
    const attempts = new Map<string, number>();
    const { tasks, resources } = entry;
    const emit = this.onEvent;
    let resolveDone!: (record: ExecutionRecord) => void;
    const record: ExecutionRecord = {
      arn,
      name,
      stateMachineArn: entry.machine.arn,
      input,
      startDate: redrive?.startDate ?? new Date(),
      stopDate: undefined,
      status: 'RUNNING',
      output: undefined,
      error: undefined,
      cause: undefined,
      log,
      redriveCount: redrive?.redriveCount ?? 0,
      done: new Promise((resolve) => {
        resolveDone = resolve;
      }),
    };
    this.executions.set(arn, record);
    /** Whether the execution has ended, or is ending on States.DataLimitExceeded. */
    const ended = () => record.status !== 'RUNNING' || overLimit !== undefined;
    /**
     * States.DataLimitExceeded is terminal: no Retry or Catch sees it (not even States.ALL), so the
     * execution fails at once, at the state that exceeded the quota.
     */
    let overLimit: { state: string; cause: string } | undefined;
    const checkSize = (state: string, what: 'input' | 'output' | 'result', value: unknown): void => {
      if (ended()) return;
      const bytes = Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
      if (bytes <= MAX_PAYLOAD_BYTES) return;
      overLimit = { state, cause: dataLimitCause(state, what, bytes) };
      run.abort();
    };
    /**
     * An attempt is announced once its start is saved (see `started` below), so that a command killed
     * right after printing "<task> started" leaves a history that names that task.
     */
    const unannounced = new Map<string, EngineEvent>();
    const startTask = (task: string) => {
      const attempt = (attempts.get(task) ?? 0) + 1;
      attempts.set(task, attempt);
      unannounced.set(task, { type: 'task-started', name, task, attempt, at: new Date().toISOString() });
    };
    const announce = (task: string) => {
      const event = unannounced.get(task);
      if (!event) return;
      unannounced.delete(task);
      emit(event);
    };
    const context = executionContext(
      { arn, name, startTime: record.startDate.toISOString() },
      {
        entered(state, type, input) {
          // The states a redrive adds stand for what AWS preserves: no history, as AWS runs nothing.
          if (isRedriveState(state)) return;
          if (ended()) return;
          log.entered(state, type, input);
          failedLast.delete(state);
          if (tasks.has(state)) startTask(state);
        },
        retried(state) {
          if (ended()) return;
          failedLast.delete(state);
          if (tasks.has(state)) startTask(state);
        },
        failed(state, _type, error, cause) {
          if (ended()) return;
          // A state can fail before its handler runs (its Parameters, say): its start is told first.
          announce(state);
          const at = new Date().toISOString();
          log.taskFailed(state, undefined, resources.get(state) ?? '', error, cause);
          failedLast.add(state);
          if (tasks.has(state))
            emit({
              type: 'task-failed',
              name,
              task: state,
              attempt: attempts.get(state) ?? 1,
              at,
              error,
              cause,
            });
        },
        exited(state, type, output) {
          if (isRedriveState(state)) return;
          if (ended()) return;
          checkSize(state, 'output', output);
          if (overLimit) return;
          const at = new Date().toISOString();
          log.exited(state, type, output);
          if (tasks.has(state) && !failedLast.has(state)) {
            announce(state);
            emit({ type: 'task-succeeded', name, task: state, attempt: attempts.get(state) ?? 1, at });
          }
        },
      },
    );
    emit({ type: 'execution-started', executionArn: arn, name });
    const run = entry.runner.run(redrive ? redrive.resumeInput : JSON.parse(input), {
      overrides: {
        taskResourceLocalHandlers: this.taskHandlers(entry.machine.definition, log, {
          ended,
          progress: () => emit({ type: 'execution-progress', executionArn: arn }),
          started: announce,
          checkSize: (state, what, value) => {
            checkSize(state, what, value);
            if (overLimit) throw dataLimitError(overLimit.cause);
          },
        }) as never,
      },
      context,
    });
    run.result
      .then(
        (output) => {
          record.status = 'SUCCEEDED';
          record.output = output;
          log.succeeded(output);
        },
        (error: Error) => {
          if (overLimit) {
            record.status = 'FAILED';
            record.error = DATA_LIMIT_EXCEEDED;
            record.cause = overLimit.cause;
            log.failed(record.error, record.cause);
            return;
          }
          if (error instanceof ExecutionTimeoutError) {
            record.status = 'TIMED_OUT';
            record.error = 'States.Timeout';
            log.timedOut();
            return;
          }
          const cause = (error as { cause?: Error }).cause ?? error;
          record.status = 'FAILED';
          record.error = cause.name;
          record.cause =
            typeof (cause as { cause?: unknown }).cause === 'string'
              ? String((cause as { cause?: unknown }).cause)
              : cause.message;
          log.failed(record.error, record.cause);
        },
      )
      .finally(() => {
        TASK_TOKENS.closeAll(arn);
        record.stopDate = new Date();
        emit({ type: 'execution-finished', executionArn: arn, name, status: record.status });
        resolveDone(record);
      });
    return record;
  }

  /** Serves each Task state, recording every attempt in the execution's history as AWS would. */
  private taskHandlers(
    definition: StateMachineDefinition,
    log: HistoryLog,
    execution: {
      /** Whether the execution has ended: an attempt still running then is no longer recorded. */
      readonly ended: () => boolean;
      /** Tells that an attempt started or ended. */
      readonly progress: () => void;
      /** Tells that an attempt started, once its start is recorded and saved. */
      readonly started: (state: string) => void;
      /** Throws States.DataLimitExceeded, ending the execution, for a payload over the quota. */
      readonly checkSize: (state: string, what: 'input' | 'result', value: unknown) => void;
    },
  ): Record<string, (input: unknown) => Promise<unknown>> {
    const { ended, checkSize } = execution;
    const progress = execution.progress;
    // Every call a Task state makes is the state machine's, under its role.
    const machine = this.deployment.stateMachines.find((m) => m.definition === definition);
    const caller = machine?.logicalId;
    const integrations = { ...this.integrations, caller };
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    const recorded =
      (
        name: string,
        resource: string,
        kind: 'lambda' | 'integration',
        serve: (input: unknown) => Promise<unknown>,
      ) =>
      async (input: unknown) => {
        // The interpreter may still retry a state of an execution that has ended: nothing runs.
        if (ended()) throw new Error('the execution has ended');
        const token = log.taskStarted(name, kind, resource, input);
        progress();
        execution.started(name);
        try {
          // The input after Parameters, which Step Functions checks before the task runs.
          checkSize(name, 'input', input);
          const output = await serve(input);
          checkSize(name, 'result', output);
          if (!ended()) log.taskSucceeded(name, token, resource, output);
          progress();
          return output;
        } catch (error) {
          const e = error as Error & { cause?: unknown };
          if (!ended() || e.name === DATA_LIMIT_EXCEEDED)
            log.taskFailed(name, token, resource, e.name, typeof e.cause === 'string' ? e.cause : e.message);
          throw error;
        }
      };
    for (const [name, state] of allStates(definition)) {
      if (state.Type !== 'Task') continue;
      const resource = String(state.Resource);
      const fn = this.deployment.functions.get(resource);
      if (fn) {
        handlers[name] = recorded(name, resource, 'lambda', async (input) => {
          await authorizeLambdaInvoke(integrations, fn.arn);
          const outcome = await this.lambdas.invoke(fn, input);
          if (outcome.ok) return outcome.result;
          // As Step Functions reports a Lambda error: the errorType names it, the cause is the payload.
          const error = new Error(
            JSON.stringify({
              errorType: outcome.errorType,
              errorMessage: outcome.errorMessage,
              trace: outcome.trace,
            }),
          );
          error.name = outcome.errorType;
          throw error;
        });
        continue;
      }
      if (isNestedExecution(resource)) {
        handlers[name] = recorded(name, resource, 'integration', (input) =>
          serveNestedExecution(this, integrations, input as Record<string, unknown>),
        );
        continue;
      }
      const adapter = adapterForResource(resource);
      const standIn = machine?.standIns?.get(name);
      if (adapter && standIn) {
        // The stand-in gets the request the service would, and returns what its .sync integration would.
        handlers[name] = recorded(name, resource, 'integration', async (input) => {
          await authorizeServiceCalls(integrations, adapter, input as JsonObject);
          const outcome = await this.lambdas.invoke(standIn, input);
          const failure = outcome.ok ? adapter.failure?.(outcome.result) : undefined;
          if (outcome.ok && failure === undefined) return outcome.result;
          // A .sync integration fails the state with States.TaskFailed when the job, task or query does.
          const error = new Error(outcome.ok ? failure : `${outcome.errorType}: ${outcome.errorMessage}`);
          error.name = 'States.TaskFailed';
          throw error;
        });
        continue;
      }
      const integration = integrationFor(resource);
      if (integration)
        handlers[name] = recorded(name, resource, 'integration', (input) =>
          LOCAL_INTEGRATIONS[integration](integrations, input as Record<string, unknown>),
        );
    }
    return handlers;
  }

  private isLambdaTask(state: State): boolean {
    return state.Type === 'Task' && this.deployment.functions.has(String(state.Resource));
  }

  private checkServed(machine: LocalStateMachine, name: string, state: State): void {
    if (state.Type !== 'Task') return;
    const resource = String(state.Resource);
    if (this.deployment.functions.has(resource) || integrationFor(resource) || isNestedExecution(resource))
      return;
    const adapter = adapterForResource(resource);
    if (adapter && machine.standIns?.has(name)) return;
    if (adapter)
      throw new UnsupportedResourceError(
        `task '${name}' runs ${adapter.integration}, which stepwise run cannot call: the service exists only on AWS. ` +
          `Give the task a local stand-in: add local: './stand-ins/${name}.ts' to its ${adapter.kind}(...) options, ` +
          `a file exporting handler = async (request) => ..., which receives the request ${adapter.integration} is sent and returns what the service would. It is never deployed.`,
      );
    throw new UnsupportedResourceError(
      `state '${name}' uses ${resource}, which the local engine cannot serve. Local runs serve Lambda functions from this app and the ledger, S3 and SNS integrations stepwise emits; run this pipeline on AWS (cdk deploy), or replace the state with a Lambda task.`,
    );
  }
}

const DATA_LIMIT_EXCEEDED = 'States.DataLimitExceeded';
const ABORTED_ERROR = 'States.Aborted';

/** Step Functions' wording, with the size and the fix. */
function dataLimitCause(state: string, what: 'input' | 'output' | 'result', bytes: number): string {
  const subject =
    what === 'result'
      ? `The state/task '${state}' returned a result`
      : `The ${what} of state '${state}' has a size`;
  return `${subject} with a size exceeding the maximum number of bytes service limit: ${bytes} bytes, over Step Functions' ${MAX_PAYLOAD_BYTES} bytes (256 KiB) per state. Return a reference (an S3 URI, a count) instead of the data.`;
}

function dataLimitError(cause: string): Error {
  const error = new Error(cause);
  error.name = DATA_LIMIT_EXCEEDED;
  return error;
}

/** Every state in a definition, Parallel branches included. State names are unique machine-wide. */
export function allStates(definition: { States: Record<string, State> }): [string, State][] {
  const result: [string, State][] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    result.push([name, state]);
    if (state.Type === 'Parallel') {
      for (const branch of state.Branches as { States: Record<string, State> }[])
        result.push(...allStates(branch));
    }
  }
  return result;
}

/** The local runner of a definition, checked as valid Amazon States Language once (`checkDefinition`). */
function localStateMachine(definition: StateMachineDefinition): StateMachine {
  checkDefinition(definition);
  return new StateMachine(definition as never, { validationOptions: { noValidate: true } });
}
