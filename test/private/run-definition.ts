import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import aslValidator from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import dynalite from 'dynalite';
import type { StateMachineDefinition } from '../../lib/compile/asl.ts';
import { INTEGRATIONS, SUBSTITUTIONS } from '../../lib/compile/integrations.ts';
import { integrationFor, LOCAL_INTEGRATIONS } from '../../lib/local/integrations.ts';
import { isRedriveState, type RedriveHistoryEvent } from '../../lib/local/redrive.ts';
import type { LocalServices } from '../../lib/local/services.ts';
import { TASK_TOKENS } from '../../lib/local/task-tokens.ts';
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

/** The integrations of a latched step: a definition with any of them reads the ledger back. */
const LATCH_RESOURCES = new Set<string>(
  [INTEGRATIONS.latchWait, INTEGRATIONS.sendTaskSuccess, INTEGRATIONS.dynamodbGetItem].map((arn) =>
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the DefinitionSubstitutions placeholder
    arn.replace('${Partition}', 'aws'),
  ),
);

let ledger: Promise<DynamoDBClient> | undefined;

/**
 * An in-memory dynalite with the ledger table, started once per test process: the DynamoDB stand-in
 * the local engine uses, so a latch's conditional writes and read-backs behave as they do there.
 */
function ledgerStandIn(): Promise<DynamoDBClient> {
  ledger ??= (async () => {
    const server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    server.unref();
    const client = new DynamoDBClient({
      region: FAKE.region,
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await client.send(
      new CreateTableCommand({
        TableName: FAKE.ledgerTable,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    return client;
  })();
  return ledger;
}

/**
 * Runs a compiled definition with aws-local-stepfunctions, after the substitutions CloudFormation would
 * make. Task states of the graph run the given fakes. Service integrations are recorded and succeed;
 * a definition with a latched step reads the ledger back, so there DynamoDB and SendTaskSuccess are
 * served by the local engine's integrations, against an in-memory dynalite (S3 is still recorded only).
 * Retries wait no time.
 */
export async function runDefinition(
  definition: StateMachineDefinition,
  tasks: Readonly<Record<string, FakeTask>>,
  run: Record<string, unknown> = {},
  /** The execution input, in place of the one built from `run`: a redrive's, for one. */
  input?: unknown,
  /** Told of each service-integration call as it is made, before it is served. */
  onCall: (call: ServiceCall) => void = () => undefined,
): Promise<LocalRun> {
  const substituted = substitute(definition);
  const calls: ServiceCall[] = [];
  const attempts: string[] = [];
  const handlers: Record<string, (input: never) => unknown> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  const found = allStates(substituted);
  const latched = found.some(({ state }) => LATCH_RESOURCES.has(String(state.Resource)));
  const services = latched ? ({ dynamodb: await ledgerStandIn() } as unknown as LocalServices) : undefined;
  for (const { name, state } of found) {
    if (state.Retry) retryIntervalOverrides[name] = 0;
    if (state.Type !== 'Task') continue;
    const resource = state.Resource as string;
    const integration = integrationFor(resource);
    if (services && integration && !resource.includes(':s3:')) {
      handlers[name] = async (parameters: Record<string, unknown>) => {
        const call = { state: name, resource, parameters };
        calls.push(call);
        onCall(call);
        return LOCAL_INTEGRATIONS[integration]({ services }, parameters);
      };
    } else if (resource.startsWith('arn:aws:lambda:')) {
      handlers[name] = async (event: { task: string; inputs: Record<string, unknown> }) => {
        attempts.push(event.task);
        const fake = tasks[event.task];
        if (!fake) throw new Error(`no fake for task '${event.task}'`);
        return fake(event);
      };
    } else {
      handlers[name] = async (parameters: Record<string, unknown>) => {
        const call = { state: name, resource, parameters };
        calls.push(call);
        onCall(call);
        // A service adapter's task answers with its fake, when one is given, as the service would.
        const fake = tasks[name];
        return fake ? fake({ task: name, inputs: {} } as never) : {};
      };
    }
  }
  checkOnce(substituted);
  const machine = new StateMachine(substituted as never, { validationOptions: { noValidate: true } });
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
        Task: {
          get Token() {
            return TASK_TOKENS.mint();
          },
        },
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

/** Definitions (as JSON) found valid in this process. */
const valid = new Set<string>();

/**
 * Throws, as aws-local-stepfunctions would when given it, unless the definition is valid Amazon States
 * Language, paths included (ARNs are stand-ins). Once per definition: asl-validator compiles its schemas
 * anew on every call (~0.3 s of CPU), and the cases run some definitions several times.
 */
function checkOnce(definition: StateMachineDefinition): void {
  const json = JSON.stringify(definition);
  if (valid.has(json)) return;
  // On a copy: asl-validator writes its defaults (QueryLanguage) into what it is given.
  const { isValid, errorsText } = aslValidator(JSON.parse(json), { checkArn: false, checkPaths: true });
  if (!isValid)
    throw new Error(`State machine definition is invalid, see error(s) below:\n ${errorsText('\n')}`);
  valid.add(json);
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
    // A service adapter's value (a cluster, a role, a subnet list): a stand-in of ARN shape.
    if (key.startsWith('Adapter_')) return `arn:aws:local:${FAKE.region}:123456789012:${key}`;
    const value = values[key];
    if (value === undefined) throw new Error(`no substitution for \${${key}}`);
    return value;
  });
  return JSON.parse(text) as StateMachineDefinition;
}
