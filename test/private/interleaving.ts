import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AttributeValue,
  BatchGetItemCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import dynalite from 'dynalite';
import { pipelineConfig, pipelineConfigJson, pipelineVariable } from '../../lambdas/dispatcher/config.ts';
import type { DispatcherContext } from '../../lambdas/dispatcher/context.ts';
import { dispatch } from '../../lambdas/dispatcher/dispatch.ts';
import { runRequest } from '../../lambdas/dispatcher/run-key.ts';
import { restartStaleClaims } from '../../lambdas/reconciler/claims.ts';
import { repairSlots } from '../../lambdas/reconciler/slots.ts';
import { LEDGER_TABLE_PROPERTIES } from './ledger-table.ts';

/**
 * A randomized, step-by-step interleaving of dispatcher invocations against dynalite (the real SDK):
 * every DynamoDB and StartExecution call of every invocation waits for a seeded scheduler, which picks
 * what happens next: a new delivery begins, one waiting call goes ahead, a running execution ends (and
 * its "Run Finished" event is queued, maybe twice), or an invocation is killed just before or just
 * after its call. A killed invocation's event is delivered again, as Lambda and EventBridge retry, or
 * in some seeds dead-lettered for good (a "Run Finished", or a trigger its invocation had claimed):
 * then, once everything is at rest, the reconciler's passes must finish what the lost event left.
 */

export { TABLE as INTERLEAVING_TABLE };

/** mulberry32: a seeded order, so a failing interleaving can be replayed from its seed. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TABLE = 'InterleavingLedger';
const DYNALITE_URL = new URL('http://dynalite.in-process');

/**
 * dynalite in memory with the ledger table, shared by every seed; each seed uses its own pipeline. The
 * SDK client talks to dynalite's own request handler in process: the same requests, serialized and parsed
 * by the real SDK and served by the real dynalite, without a socket per call (several times faster).
 */
export async function startLedger(): Promise<{ client: DynamoDBClient; close(): Promise<void> }> {
  const server = dynalite({ createTableMs: 0, updateTableMs: 0, deleteTableMs: 0 });
  const serve = server.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
  const client = new DynamoDBClient({
    endpoint: DYNALITE_URL.href,
    region: 'us-east-1',
    credentials: { accessKeyId: 'interleaving', secretAccessKey: 'interleaving' },
    requestHandler: inProcessHandler(serve),
    // The SDK's own option: resolve each command's middleware stack once, not on every call.
    cacheMiddleware: true,
    // The endpoint the rules would resolve from `endpoint` anyway, without evaluating them per call.
    endpointProvider: () => ({ url: DYNALITE_URL }),
  });
  trimForSpeed(client);
  const { TimeToLiveSpecification: _ttl, ...properties } = LEDGER_TABLE_PROPERTIES;
  await client.send(
    new CreateTableCommand({
      ...(properties as unknown as Omit<CreateTableCommandInput, 'TableName'>),
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  for (let waited = 0; ; waited++) {
    const { Table } = await client
      .send(new DescribeTableCommand({ TableName: TABLE }))
      .catch(() => ({ Table: undefined }));
    if (Table?.TableStatus === 'ACTIVE') break;
    if (waited > 100) throw new Error(`dynalite never made ${TABLE} ACTIVE`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    client,
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Keeps the SDK's serializer and deserializer (the requests and typed errors the dispatcher sees) and
 * drops what only costs time in process (each middleware is one async step more on every request):
 * logging, user agent, retries (dynalite does not throttle), the Content-Length and Host headers
 * (dynalite reads neither: the body comes whole and from no socket) and SigV4 (choosing the auth scheme
 * and signing), which dynalite does not check beyond the header's shape, so a fixed header stands in.
 */
function trimForSpeed(client: DynamoDBClient): void {
  for (const name of [
    'loggerMiddleware',
    'getUserAgentMiddleware',
    'recursionDetectionMiddleware',
    'retryMiddleware',
    'httpAuthSchemeMiddleware',
    'httpSigningMiddleware',
    'contentLengthMiddleware',
    'hostHeaderMiddleware',
  ])
    client.middlewareStack.remove(name);
  client.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers: Record<string, string> };
      request.headers.authorization =
        'AWS4-HMAC-SHA256 Credential=interleaving/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0';
      request.headers['x-amz-date'] = '20260101T000000Z';
      return next(args);
    },
    { step: 'finalizeRequest', name: 'fixedAuthorizationHeader' },
  );
  withFastProperties(client.config);
}

/**
 * The SDK's config resolvers add its ~50 settings one by one, which leaves V8 keeping them in a
 * dictionary, and every request copies the config (`{ ...config }`) three times: about 10 us a copy
 * from a dictionary, 1 us from an object with fast properties. V8 gives an object fast properties
 * when it serves as a prototype that property lookups go through, so one lookup through a child of it
 * does that. The config is the same object with the same settings; only its layout in memory changes.
 */
function withFastProperties(object: object): void {
  const child = Object.create(object) as Record<string, unknown>;
  // Enough lookups for V8 to watch this one (it does not for the first few), and then to act on it.
  for (let i = 0; i < 1000; i++) void child.region;
}

interface SdkRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** An SDK request handler that hands each request to an http request listener in this process. */
function inProcessHandler(serve: (req: IncomingMessage, res: ServerResponse) => void) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
    handle(request: SdkRequest) {
      return new Promise((resolve) => {
        // The request as dynalite reads it: method, url, headers, and its body as 'data' and 'end'.
        const listeners = new Map<string, (bytes?: Buffer) => void>();
        const req = {
          method: request.method,
          url: request.path,
          headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])),
          on(event: string, listener: (bytes?: Buffer) => void) {
            listeners.set(event, listener);
            return req;
          },
          removeAllListeners() {
            listeners.clear();
            return req;
          },
        };
        const headers: Record<string, string> = {};
        const res = {
          statusCode: 200,
          contentType: undefined as string | undefined,
          setHeader(name: string, value: unknown) {
            headers[name.toLowerCase()] = String(value);
          },
          end(body?: string) {
            resolve({
              response: {
                statusCode: res.statusCode,
                headers,
                // A byte array, which the SDK's body collector takes as is: no stream per response.
                body: Buffer.from(body ?? ''),
              },
            });
          },
        };
        serve(req as unknown as IncomingMessage, res as unknown as ServerResponse);
        const { body } = request;
        // The SDK's body may be a Uint8Array that warns when read as a string: copy its bytes.
        const bytes =
          typeof body === 'string'
            ? Buffer.from(body)
            : body === undefined
              ? undefined
              : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
        if (bytes !== undefined && bytes.length > 0) listeners.get('data')?.(bytes);
        listeners.get('end')?.();
      });
    },
  };
}

/** What a StartExecution does with the name of a closed execution. */
export type ClosedStart =
  /** As Step Functions does: ExecutionAlreadyExists. */
  | 'refuse'
  /** As a stand-in that joins it might: returns the closed execution as if it were open. */
  | 'join';

interface FakeExecution {
  readonly name: string;
  readonly input: string;
  status: 'RUNNING' | 'SUCCEEDED';
}

/**
 * A FAKE StartExecution (and the DescribeExecution the reconciler's slot repair reads), in process:
 * the dispatcher needs no other Step Functions call, and Step Functions cannot run here. It follows the documented name rules (open + same input joins, closed is
 * refused or, in 'join' mode, joined), refuses the names in `refused` for good (AccessDeniedException),
 * and counts the most executions running at once.
 */
export class FakeStartExecution {
  readonly executions = new Map<string, FakeExecution>();
  maxRunning = 0;
  throttles = 0;

  constructor(
    private readonly closed: ClosedStart,
    private readonly refused: ReadonlySet<string>,
  ) {}

  send(command: unknown): Promise<{ executionArn?: string; status?: string }> {
    if (command instanceof DescribeExecutionCommand) {
      const { executionArn = '' } = command.input;
      const execution = this.executions.get(executionArn.slice(executionArn.lastIndexOf(':') + 1));
      if (!execution)
        throw new ExecutionDoesNotExist({
          message: `Execution Does Not Exist: '${executionArn}'`,
          $metadata: {},
        });
      return Promise.resolve({ executionArn, status: execution.status });
    }
    if (!(command instanceof StartExecutionCommand))
      throw new Error('the fake Step Functions serves StartExecution and DescribeExecution only');
    const { name = '', input = '{}', stateMachineArn = '' } = command.input;
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    if (this.throttles > 0) {
      this.throttles--;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    }
    if (this.refused.has(name))
      throw Object.assign(
        new Error(`not authorized to perform states:StartExecution on ${stateMachineArn}`),
        {
          name: 'AccessDeniedException',
        },
      );
    const existing = this.executions.get(name);
    if (existing) {
      if (existing.input !== input || (existing.status !== 'RUNNING' && this.closed === 'refuse'))
        throw new ExecutionAlreadyExists({
          message: `Execution Already Exists: '${executionArn}'`,
          $metadata: {},
        });
      return Promise.resolve({ executionArn });
    }
    this.executions.set(name, { name, input, status: 'RUNNING' });
    this.maxRunning = Math.max(this.maxRunning, this.running().length);
    return Promise.resolve({ executionArn });
  }

  running(): FakeExecution[] {
    return [...this.executions.values()].filter((e) => e.status === 'RUNNING');
  }
}

/** A FAKE SNS that keeps what was published. */
export class FakeAlerts {
  readonly published: { Subject?: string; Message?: string }[] = [];
  send(command: { input: { Subject?: string; Message?: string } }): Promise<object> {
    this.published.push(command.input);
    return Promise.resolve({});
  }
}

class Killed extends Error {
  override readonly name = 'Killed';
}

type Decision = 'go' | 'kill-before' | 'kill-after';

interface Invocation {
  readonly event: unknown;
  /** Set while the invocation waits at a call; the scheduler settles it through `resume`. */
  gate: ((decision: Decision) => void) | undefined;
  /** Settled each time the invocation reaches a call or ends. */
  idle: Promise<void>;
  wake: () => void;
  outcome: { ok: true } | { ok: false; error: unknown } | undefined;
  /** Whether its claim of a run key went through: a trigger dead-lettered after it is not lost. */
  claimed: boolean;
}

/** Lets a waiting invocation go on, and arms `idle` for its next stop before it moves. */
function resume(invocation: Invocation, decision: Decision): void {
  const gate = invocation.gate;
  if (!gate) throw new Error('the invocation is not waiting at a call');
  invocation.gate = undefined;
  invocation.idle = new Promise<void>((resolve) => {
    invocation.wake = resolve;
  });
  gate(decision);
}

export interface Scenario {
  readonly seed: number;
  readonly runs: number;
  readonly cap: number;
  readonly closed: ClosedStart;
  /** Indexes of runs whose start Step Functions refuses for good. */
  readonly refused: readonly number[];
  readonly kills: number;
  readonly throttles: number;
  /** Killed deliveries dead-lettered instead of delivered again; the reconciler must mend them. */
  readonly deadLetters: number;
}

export interface SeedResult {
  readonly scenario: Scenario;
  readonly violations: string[];
  readonly steps: number;
  readonly killed: number;
  readonly deliveries: number;
  /** Deliveries dead-lettered, and the reconciler passes that followed. */
  readonly deadLettered: number;
  readonly reconcilerPasses: number;
}

/** The scenario of a seed: a few runs, a small cap, and some faults. */
export function scenarioOf(seed: number): Scenario {
  const next = random(seed);
  const runs = 1 + Math.floor(next() * 4);
  const refused = next() < 0.2 ? [Math.floor(next() * runs)] : [];
  return {
    seed,
    runs,
    cap: 1 + Math.floor(next() * 3),
    closed: next() < 0.5 ? 'refuse' : 'join',
    refused,
    kills: Math.floor(next() * 4),
    throttles: next() < 0.2 ? 1 : 0,
    // A stream of its own, so that the scenarios drawn above stay what they were before dead letters.
    deadLetters: random(seed ^ 0xdead)() < 0.3 ? 1 : 0,
  };
}

const slotTime = (i: number) => new Date(Date.UTC(2026, 0, 1, i)).toISOString();

/** Plays one seed to the end and checks the invariants; returns what was violated. */
export async function playSeed(
  ledger: DynamoDBClient,
  seed: number,
  trace?: (line: string) => void,
): Promise<SeedResult> {
  const scenario = scenarioOf(seed);
  const next = random(seed ^ 0x5eed);
  const pipeline = `p${seed}`;
  const machine = `arn:aws:states:us-east-1:000000000000:stateMachine:${pipeline}`;
  const env = {
    [pipelineVariable(pipeline)]: pipelineConfigJson({
      stateMachineArn: machine,
      maxConcurrentRuns: scenario.cap,
      retentionDays: 1,
    }),
  };
  const triggers = Array.from({ length: scenario.runs }, (_, i) => ({
    kind: 'schedule',
    pipeline,
    time: slotTime(i),
  }));
  const violations: string[] = [];
  const names = new Map<string, number>(); // execution name -> trigger index, learned from claims
  const refusedNames = new Set<string>();
  for (const i of scenario.refused) refusedNames.add(runIdOf(pipeline, triggers[i] as { time: string }));
  const sfn = new FakeStartExecution(scenario.closed, refusedNames);
  sfn.throttles = scenario.throttles;
  const alerts = new FakeAlerts();

  // Every trigger once, some twice; shuffled by the scheduler's choice of which delivery begins next.
  const pending: unknown[] = triggers.flatMap((t) => (next() < 0.3 ? [t, t] : [t]));
  const inflight: Invocation[] = [];
  const finished = new Set<string>();
  const poisoned = new Map<unknown, number>();
  let killsLeft = scenario.kills;
  let deadLettersLeft = scenario.deadLetters;
  let deadLettered = 0;
  let reconcilerPasses = 0;
  let killed = 0;
  let deliveries = 0;
  let steps = 0;

  const begin = (event: unknown): Invocation => {
    deliveries++;
    const invocation: Invocation = {
      event,
      gate: undefined,
      idle: Promise.resolve(),
      wake: () => undefined,
      outcome: undefined,
      claimed: false,
    };
    invocation.idle = new Promise<void>((resolve) => {
      invocation.wake = resolve;
    });
    const id = deliveries;
    const gated = async <T>(call: () => Promise<T>, command?: unknown): Promise<T> => {
      const decision = await new Promise<Decision>((resolve) => {
        invocation.gate = resolve;
        invocation.wake();
      });
      trace?.(`#${id} ${decision} ${describe(command)}`);
      if (decision === 'kill-before') throw new Killed('killed before the call');
      const result = await call();
      if (isClaimPut(command)) invocation.claimed = true;
      if (decision === 'kill-after') throw new Killed('killed after the call');
      return result;
    };
    const ctx: DispatcherContext = {
      dynamodb: {
        send: (command: never) => gated(() => ledger.send(command), command),
      } as unknown as DynamoDBClient,
      sfn: { send: (command: unknown) => gated(() => sfn.send(command), command) } as unknown as SFNClient,
      table: TABLE,
      now: () => new Date(),
      alerts: {
        sns: { send: (command: never) => gated(() => alerts.send(command)) } as unknown as SNSClient,
        topicArn: 'arn:aws:sns:us-east-1:000000000000:alerts',
      },
    };
    dispatch(ctx, env, event).then(
      () => {
        invocation.outcome = { ok: true };
        invocation.wake();
      },
      (error: unknown) => {
        invocation.outcome = { ok: false, error };
        invocation.wake();
      },
    );
    return invocation;
  };

  const settle = async (invocation: Invocation) => {
    await invocation.idle;
    if (!invocation.outcome) return;
    inflight.splice(inflight.indexOf(invocation), 1);
    if (!invocation.outcome.ok) {
      const { error } = invocation.outcome;
      const name = (error as Error)?.name;
      killed++;
      if (name === 'Killed' || name === 'ThrottlingException') {
        const event = invocation.event as { kind?: string };
        // Lambda's retries ran out: the event waits in the dead-letter queue, and nothing delivers it.
        // A trigger is dead-lettered only once its claim is written (before that, nothing of it is in
        // the ledger: it is the dead-letter queue's alarm that tells someone).
        if (deadLettersLeft > 0 && (event.kind === 'finished' || invocation.claimed) && next() < 0.5) {
          deadLettersLeft--;
          deadLettered++;
          trace?.(`dead-lettered: ${JSON.stringify(event).slice(0, 120)}`);
          return;
        }
        pending.push(invocation.event); // Lambda's retry of the same event
        return;
      }
      // Anything else is a poison event: Lambda tries it twice more, then dead-letters it.
      const tries = (poisoned.get(invocation.event) ?? 0) + 1;
      poisoned.set(invocation.event, tries);
      if (tries < 3) pending.push(invocation.event);
      else violations.push(`an event was dead-lettered after 3 failures: ${String(error)}`);
    }
  };

  for (;;) {
    if (++steps > 20_000) {
      violations.push('the dispatchers never came to rest');
      break;
    }
    const running = sfn.running();
    const choices = pending.length + inflight.length + running.length;
    if (choices === 0) {
      // At rest. After a dead letter the reconciler runs on its schedule, minutes apart: two passes,
      // so that a slot held by a start that never happened is suspected, then let go. What it starts
      // runs and ends like any other run; at most a few rounds of it.
      if (deadLettered === 0 || reconcilerPasses >= 6) break;
      const before = sfn.executions.size;
      const ctx = reconcilerContext(ledger, sfn, alerts);
      const configs = new Map([[pipeline, pipelineConfigOf(env, pipeline)]]);
      for (let pass = 0; pass < 2; pass++) {
        reconcilerPasses++;
        await restartStaleClaims(ctx, configs, new Date(Date.now() + 60_000).toISOString());
        await repairSlots(ctx, pipeline, pipelineConfigOf(env, pipeline));
      }
      trace?.(`reconciler: ${sfn.executions.size - before} started`);
      if (sfn.running().length === 0 && pending.length === 0) break;
      continue;
    }
    let pick = Math.floor(next() * choices);
    if (pick < pending.length) {
      const [event] = pending.splice(pick, 1);
      trace?.(`#${deliveries + 1} begins: ${JSON.stringify(event).slice(0, 120)}`);
      const invocation = begin(event);
      inflight.push(invocation);
      await settle(invocation);
      continue;
    }
    pick -= pending.length;
    if (pick < inflight.length) {
      const invocation = inflight[pick] as Invocation;
      let decision: Decision = 'go';
      if (killsLeft > 0 && next() < 0.08) {
        killsLeft--;
        decision = next() < 0.5 ? 'kill-before' : 'kill-after';
      }
      resume(invocation, decision);
      await settle(invocation);
      continue;
    }
    pick -= inflight.length;
    // A running execution ends; the recorder announces it (sometimes twice).
    const execution = running[pick] as FakeExecution;
    execution.status = 'SUCCEEDED';
    trace?.(`execution ${execution.name} ends`);
    finished.add(execution.name);
    const event = {
      kind: 'finished',
      event: { detail: { pipeline, runId: execution.name, status: 'SUCCEEDED' } },
    };
    pending.push(event);
    if (next() < 0.2) pending.push(event);
    if (sfn.running().length > scenario.cap)
      violations.push(`${sfn.running().length} running over cap ${scenario.cap}`);
  }

  if (sfn.maxRunning > scenario.cap)
    violations.push(`${sfn.maxRunning} executions ran at once under maxConcurrentRuns ${scenario.cap}`);
  const queue = await items(ledger, `QUEUE#${pipeline}`);
  if (queue.length > 0)
    violations.push(`${queue.length} queue item(s) left: ${queue.map((q) => q.runId?.S).join(', ')}`);
  // The slots row and every trigger's claim in one read.
  const claimKey = (trigger: { time: string }) => `RUNKEY#${pipeline}#schedule:${trigger.time}`;
  const rows = await getItems(ledger, [
    { pk: `SLOTS#${pipeline}`, sk: 'SLOTS' },
    ...triggers.map((trigger) => ({ pk: claimKey(trigger), sk: 'RUNKEY' })),
  ]);
  const slots = rows.get(`SLOTS#${pipeline}`);
  const holders = slots?.active?.SS ?? [];
  if (holders.length > 0) violations.push(`slot holder(s) left after every run ended: ${holders.join(', ')}`);
  // The run rows tell only of unstartable triggers (their FAILED row): read them only for those.
  const runRows = refusedNames.size > 0 ? await items(ledger, `PIPELINE#${pipeline}`) : [];
  for (const [i, trigger] of triggers.entries()) {
    const runId = runIdOf(pipeline, trigger);
    names.set(runId, i);
    const claim = rows.get(claimKey(trigger));
    const state = claim?.state?.S;
    if (refusedNames.has(runId)) {
      if (state !== 'FAILED')
        violations.push(`unstartable trigger ${i} ended ${state ?? 'unclaimed'}, not FAILED`);
      const row = runRows.find((r) => r.runId?.S === runId && r.status?.S === 'FAILED');
      if (!row) violations.push(`unstartable trigger ${i} has no FAILED run row`);
      if (!alerts.published.some((a) => a.Message?.includes(runId)))
        violations.push(`unstartable trigger ${i} sent no alert`);
      if (sfn.executions.has(runId)) violations.push(`unstartable trigger ${i} has an execution`);
      continue;
    }
    const execution = sfn.executions.get(runId);
    if (!execution) violations.push(`trigger ${i} never started (claim ${state ?? 'missing'})`);
    else if (execution.status !== 'SUCCEEDED') violations.push(`trigger ${i} did not end`);
    if (state !== 'STARTED') violations.push(`trigger ${i}'s claim ended ${state ?? 'missing'}, not STARTED`);
  }
  // No trigger starts twice: the fake keeps one execution per name and refuses (or joins) a second
  // start of it, so a second run of a trigger could only be an execution under another name.
  for (const name of sfn.executions.keys())
    if (!names.has(name)) violations.push(`an execution no trigger asked for (a second start): ${name}`);
  return { scenario, violations, steps, killed, deliveries, deadLettered, reconcilerPasses };
}

/** The reconciler's view: the same ledger and Step Functions, no gate (it runs at rest). */
function reconcilerContext(
  ledger: DynamoDBClient,
  sfn: FakeStartExecution,
  alerts: FakeAlerts,
): DispatcherContext {
  return {
    dynamodb: ledger,
    sfn: sfn as unknown as SFNClient,
    table: TABLE,
    now: () => new Date(),
    alerts: { sns: alerts as unknown as SNSClient, topicArn: 'arn:aws:sns:us-east-1:000000000000:alerts' },
  };
}

function pipelineConfigOf(env: Record<string, string>, pipeline: string) {
  const config = pipelineConfig(env, pipeline);
  if (!config) throw new Error(`no configuration for ${pipeline}`);
  return config;
}

/** The conditional put that claims a run key. */
function isClaimPut(command: unknown): boolean {
  if (!(command instanceof PutItemCommand)) return false;
  return String(command.input.Item?.pk?.S ?? '').startsWith('RUNKEY#');
}

function describe(command: unknown): string {
  if (!command || typeof command !== 'object') return '';
  const { input } = command as { input: Record<string, unknown> };
  const key = (input.Key ?? input.Item ?? {}) as Record<string, { S?: string }>;
  const pk =
    key.pk?.S ?? (input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined)?.[':pk']?.S;
  const detail = input.UpdateExpression ?? input.name ?? '';
  return `${command.constructor.name.replace(/Command$/, '')} ${pk ?? ''} ${String(detail).slice(0, 70)}`;
}

function runIdOf(pipeline: string, trigger: { time: string }): string {
  return runRequest({ kind: 'schedule', pipeline, time: trigger.time }).runId;
}

async function items(client: DynamoDBClient, pk: string): Promise<Record<string, AttributeValue>[]> {
  const { Items = [] } = await client.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: pk } },
      ConsistentRead: true,
    }),
  );
  return Items;
}

/** Reads the items at these keys (consistently), by partition key. */
async function getItems(
  client: DynamoDBClient,
  keys: { pk: string; sk: string }[],
): Promise<Map<string, Record<string, AttributeValue>>> {
  const { Responses = {}, UnprocessedKeys = {} } = await client.send(
    new BatchGetItemCommand({
      RequestItems: {
        [TABLE]: {
          Keys: keys.map(({ pk, sk }) => ({ pk: { S: pk }, sk: { S: sk } })),
          ConsistentRead: true,
        },
      },
    }),
  );
  if (Object.keys(UnprocessedKeys).length > 0)
    throw new Error(`dynalite left keys of a BatchGetItem unprocessed: ${JSON.stringify(UnprocessedKeys)}`);
  return new Map((Responses[TABLE] ?? []).map((item) => [String(item.pk?.S), item]));
}
