import { StateMachine } from 'aws-local-stepfunctions';
import type { StateMachineDefinition } from '../../lib/compile/asl.ts';
import { SUBSTITUTIONS } from '../../lib/compile/integrations.ts';
import { isRedriveState, type RedriveHistoryEvent } from '../../lib/local/redrive.ts';
import { allStates } from './asl.ts';

// aws-local-stepfunctions 3 uses Promise.withResolvers, which Node 20 lacks.
const promiseStatics = Promise as unknown as { withResolvers?: () => unknown };
promiseStatics.withResolvers ??= () => {
  let resolve: unknown;
  let reject: unknown;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

export const FAKE = {
  region: 'eu-central-1',
  ledgerTable: 'stepwise-ledger',
  /** What the construct substitutes for `${QuarantineBucket}`: the real name of `quarantine.bucket`. */
  quarantineBucket: 'acct-rejects-bucket',
  executionId: 'arn:aws:states:eu-central-1:123456789012:execution:test:run-1',
  /** The execution input's `run.expiresAt`: epoch seconds, as a string, as the dispatcher sends it. */
  expiresAt: '1793491201',
} as const;

/** What a fake task does with its event: return an output, or throw the way a Lambda error arrives. */
export type FakeTask = (event: { task: string; inputs: Record<string, unknown> }) => unknown;

/** A task error with a plain-text cause, the way a failure other than a Lambda error arrives. */
export function taskError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export interface ServiceCall {
  readonly state: string;
  readonly resource: string;
  readonly parameters: Record<string, unknown>;
}

export interface LocalRun {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly error?: string;
  readonly cause?: string;
  /** Calls to service integrations (DynamoDB, S3), in order. */
  readonly calls: readonly ServiceCall[];
  /** Task ids in the order their handlers ran, one entry per attempt. */
  readonly attempts: readonly string[];
  /** The states entered, in order, those inside Parallel branches included. */
  readonly states: readonly string[];
  /**
   * Each state's Entered and Exited events, as GetExecutionHistory has them (inputs and outputs as
   * JSON), leaving out the states a redrive adds, as the local engine does.
   */
  readonly history: readonly RedriveHistoryEvent[];
}

/**
 * Runs a compiled definition with aws-local-stepfunctions, after the substitutions CloudFormation would
 * make. Task states of the graph run the given fakes; service integrations are recorded and succeed
 * (the definition never reads the ledger back, so a fake that answers nothing is enough). Retries wait
 * no time.
 */
export async function runDefinition(
  definition: StateMachineDefinition,
  tasks: Readonly<Record<string, FakeTask>>,
  run: Record<string, unknown> = {},
  /** The execution input, in place of the one built from `run`: a redrive's, for one. */
  input?: unknown,
): Promise<LocalRun> {
  const substituted = substitute(definition);
  const calls: ServiceCall[] = [];
  const attempts: string[] = [];
  const handlers: Record<string, (input: never) => unknown> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const { name, state } of allStates(substituted)) {
    if (state.Retry) retryIntervalOverrides[name] = 0;
    if (state.Type !== 'Task') continue;
    const resource = state.Resource as string;
    if (resource.startsWith('arn:aws:lambda:')) {
      handlers[name] = async (event: { task: string; inputs: Record<string, unknown> }) => {
        attempts.push(event.task);
        const fake = tasks[event.task];
        if (!fake) throw new Error(`no fake for task '${event.task}'`);
        return fake(event);
      };
    } else {
      handlers[name] = async (parameters: Record<string, unknown>) => {
        calls.push({ state: name, resource, parameters });
        return {};
      };
    }
  }
  const machine = new StateMachine(substituted as never, { validationOptions: { checkArn: false } });
  const execution = machine.run(
    (input ?? {
      run: {
        id: 'run-1',
        pipeline: 'test',
        trigger: { type: 'manual', input: {} },
        logicalTime: '2026-11-01T02:00:00Z',
        key: 'manual#run-1',
        expiresAt: FAKE.expiresAt,
        ...run,
      },
    }) as never,
    {
      overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
      // aws-local-stepfunctions does not fill in $$.State; the compiled definition reads from it.
      context: {
        Execution: { Id: FAKE.executionId, Name: 'run-1', StartTime: '2026-11-01T02:00:01Z' },
        State: { Name: 'any', EnteredTime: '2026-11-01T02:00:02Z', RetryCount: 0 },
      } as never,
    },
  );
  let failure: { Error?: string; Cause?: string } | undefined;
  const states: string[] = [];
  const history: RedriveHistoryEvent[] = [];
  for await (const event of execution.eventLogs) {
    if (event.type === 'ExecutionFailed') failure = event as { Error?: string; Cause?: string };
    if (event.type !== 'StateEntered' && event.type !== 'StateExited') continue;
    const { name } = event.state;
    if (event.type === 'StateEntered') states.push(name);
    if (isRedriveState(name)) continue;
    const id = history.length + 1;
    if (event.type === 'StateEntered')
      history.push({
        id,
        type: `${event.state.type}StateEntered`,
        stateEnteredEventDetails: { name, input: JSON.stringify(event.state.input) },
      });
    if (event.type === 'StateExited')
      history.push({
        id,
        type: `${event.state.type}StateExited`,
        stateExitedEventDetails: { name, output: JSON.stringify(event.state.output ?? null) },
      });
  }
  await execution.result.catch(() => undefined);
  if (failure) {
    return {
      status: 'FAILED',
      error: failure.Error ?? '',
      cause: failure.Cause ?? '',
      calls,
      attempts,
      states,
      history,
    };
  }
  return { status: 'SUCCEEDED', calls, attempts, states, history };
}

/** Fills in the DefinitionSubstitutions placeholders the way the Pipeline construct does. */
export function substitute(definition: StateMachineDefinition): StateMachineDefinition {
  const values: Record<string, string> = {
    [SUBSTITUTIONS.partition]: 'aws',
    [SUBSTITUTIONS.ledgerTable]: FAKE.ledgerTable,
    [SUBSTITUTIONS.quarantineBucket]: FAKE.quarantineBucket,
  };
  const text = JSON.stringify(definition).replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, key: string) => {
    if (key.startsWith('Handler_'))
      return `arn:aws:lambda:${FAKE.region}:123456789012:function:${key.slice(8)}`;
    const value = values[key];
    if (value === undefined) throw new Error(`no substitution for \${${key}}`);
    return value;
  });
  return JSON.parse(text) as StateMachineDefinition;
}
