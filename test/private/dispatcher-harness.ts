import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import {
  type PipelineConfig,
  pipelineConfigJson,
  pipelineVariable,
} from '../../lambdas/dispatcher/config.ts';
import type { DispatcherContext } from '../../lambdas/dispatcher/context.ts';
import type { DispatchResult } from '../../lambdas/dispatcher/index.ts';
import type { ReconcilerResult } from '../../lambdas/reconciler/index.ts';
import {
  ensureTables,
  LOCAL_CREDENTIALS,
  type LocalServices,
  startServices,
} from '../../lib/local/services.ts';
import { ApiError, type StepFunctionsApi, startStepFunctionsServer } from '../../lib/local/sfn-server.ts';
import { LEDGER_TABLE_PROPERTIES } from './ledger-table.ts';

export const LEDGER = 'DispatcherLedger';

/** One execution the fake knows. */
export interface FakeExecution {
  readonly name: string;
  readonly stateMachineArn: string;
  readonly executionArn: string;
  readonly input: string;
  status: 'RUNNING' | 'SUCCEEDED';
}

/**
 * A FAKE Step Functions: Step Functions itself cannot run here, and the dispatcher needs only
 * StartExecution. It keeps AWS's documented name rules: a start with the name and input of an open
 * execution returns that execution; the name of a closed execution, or another input, is
 * ExecutionAlreadyExists. It counts what the concurrency tests assert: how many executions each name
 * got, and the most that were running at once.
 */
export class FakeStepFunctions implements StepFunctionsApi {
  /** By execution ARN: a name is unique within its state machine, not across state machines. */
  readonly executions = new Map<string, FakeExecution>();
  /** StartExecution calls, including idempotent repeats. */
  readonly calls: { name: string; input: string }[] = [];
  /** The most executions of each state machine that were running at once. */
  readonly maxRunning = new Map<string, number>();
  private failures: { count: number; afterRecording: boolean } = { count: 0, afterRecording: false };
  /** Names Step Functions refuses to start for good, with the error code it answers. */
  readonly refusals = new Map<string, string>();

  startExecution(request: { stateMachineArn: string; name?: string; input?: string }) {
    const name = request.name ?? `unnamed-${this.calls.length}`;
    const input = request.input ?? '{}';
    this.calls.push({ name, input });
    if (this.failures.count > 0 && !this.failures.afterRecording) {
      this.failures.count--;
      throw new ApiError('InternalFailure', 'the fake Step Functions is failing on purpose');
    }
    const refusal = this.refusals.get(name);
    if (refusal) throw new ApiError(refusal, `the fake Step Functions refuses ${name} on purpose`);
    const executionArn = `${request.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status !== 'RUNNING' || existing.input !== input)
        throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    } else {
      this.executions.set(executionArn, {
        name,
        stateMachineArn: request.stateMachineArn,
        executionArn,
        input,
        status: 'RUNNING',
      });
      const running = [...this.executions.values()].filter(
        (e) => e.status === 'RUNNING' && e.stateMachineArn === request.stateMachineArn,
      ).length;
      this.maxRunning.set(
        request.stateMachineArn,
        Math.max(this.maxRunning.get(request.stateMachineArn) ?? 0, running),
      );
    }
    if (this.failures.count > 0) {
      // The execution started, but the caller never hears of it: a lost response, or a dispatcher that died.
      this.failures.count--;
      throw new ApiError('InternalFailure', 'the fake Step Functions lost the response on purpose');
    }
    return { executionArn, startDate: Date.now() / 1000 };
  }

  describeExecution(request: { executionArn: string }): Record<string, unknown> {
    const execution = [...this.executions.values()].find((e) => e.executionArn === request.executionArn);
    if (!execution) throw new ApiError('ExecutionDoesNotExist', `no execution ${request.executionArn}`);
    return { ...execution };
  }

  /** The next `count` StartExecution calls fail; `afterRecording` starts the execution first. */
  failStarts(count: number, afterRecording = false): void {
    this.failures = { count, afterRecording };
  }

  runningFor(pipeline: string): FakeExecution[] {
    return this.startedFor(pipeline).filter((e) => e.status === 'RUNNING');
  }

  /** The execution closes, as it would before the recorder sends "Run Finished". */
  finish(pipeline: string, name: string): void {
    const execution = this.executions.get(
      `${stateMachineArn(pipeline).replace(':stateMachine:', ':execution:')}:${name}`,
    );
    if (!execution) throw new Error(`the fake has no execution ${name} of ${pipeline}`);
    execution.status = 'SUCCEEDED';
  }

  /** The one execution of this name, whichever state machine it belongs to. */
  byName(name: string): FakeExecution | undefined {
    const found = [...this.executions.values()].filter((e) => e.name === name);
    if (found.length > 1) throw new Error(`the fake has ${found.length} executions named ${name}`);
    return found[0];
  }

  maxRunningFor(pipeline: string): number {
    return this.maxRunning.get(stateMachineArn(pipeline)) ?? 0;
  }

  startedFor(pipeline: string): FakeExecution[] {
    return [...this.executions.values()].filter((e) => e.stateMachineArn.endsWith(`:${pipeline}`));
  }
}

export function stateMachineArn(pipeline: string): string {
  return `arn:aws:states:us-east-1:000000000000:stateMachine:${pipeline}`;
}

export interface DispatcherHarness {
  readonly services: LocalServices;
  readonly fake: FakeStepFunctions;
  /** Items of one partition of the ledger, read consistently. */
  items(pk: string): Promise<Record<string, AttributeValue>[]>;
  item(pk: string, sk: string): Promise<Record<string, AttributeValue> | undefined>;
  close(): Promise<void>;
}

/**
 * dynalite with the ledger table, the fake Step Functions on loopback, and the environment the
 * dispatcher reads. Import the handler after this: its SDK clients read their endpoints on import.
 */
export async function startDispatcherHarness(
  pipelines: Record<string, Partial<PipelineConfig>>,
): Promise<DispatcherHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-dispatcher-'));
  const services = await startServices(dir);
  await ensureTables(services.dynamodb, [
    {
      name: LEDGER,
      properties: LEDGER_TABLE_PROPERTIES,
    },
  ]);
  const fake = new FakeStepFunctions();
  const { endpoint, server } = await startStepFunctionsServer(fake);

  Object.assign(process.env, {
    LEDGER_TABLE: LEDGER,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: services.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SFN: endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  for (const [name, config] of Object.entries(pipelines)) {
    process.env[pipelineVariable(name)] = pipelineConfigJson({
      stateMachineArn: stateMachineArn(name),
      maxConcurrentRuns: 10,
      retentionDays: 365,
      ...config,
    });
  }

  return {
    services,
    fake,
    async items(pk) {
      const items: Record<string, AttributeValue>[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await services.dynamodb.send(
          new QueryCommand({
            TableName: LEDGER,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: pk } },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
    async item(pk, sk) {
      const { Item } = await services.dynamodb.send(
        new GetItemCommand({
          TableName: LEDGER,
          Key: { pk: { S: pk }, sk: { S: sk } },
          ConsistentRead: true,
        }),
      );
      return Item;
    },
    async close() {
      await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The harness with the deployed dispatcher's and reconciler's handlers loaded against it. */
export async function startReconcilerHarness(
  pipelines: Record<string, Partial<PipelineConfig>>,
  environment: Record<string, string> = {},
): Promise<{
  harness: DispatcherHarness;
  dispatcher: (event: unknown) => Promise<DispatchResult>;
  reconciler: () => Promise<ReconcilerResult>;
}> {
  const harness = await startDispatcherHarness(pipelines);
  Object.assign(process.env, {
    ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:alerts',
    ...environment,
  });
  const { handler: dispatcher } = await import('../../lambdas/dispatcher/index.ts');
  const { handler: reconciler } = await import('../../lambdas/reconciler/index.ts');
  return { harness, dispatcher, reconciler };
}

/** The "Run Finished" event the recorder puts on the default bus. */
export function runFinished(detail: {
  pipeline: string;
  runId: string;
  status?: string;
  logicalTime?: string;
}): Record<string, unknown> {
  return {
    version: '0',
    id: `finished-${detail.runId}`,
    'detail-type': 'Run Finished',
    source: 'stepwise',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      status: 'SUCCEEDED',
      logicalTime: '2026-11-01T02:00:00.000Z',
      runKey: `key-of-${detail.runId}`,
      startedAt: '2026-11-01T02:00:01.000Z',
      endedAt: '2026-11-01T02:05:00.000Z',
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:${detail.pipeline}:${detail.runId}`,
      ...detail,
    },
  };
}

/** An S3 "Object Created" event as EventBridge delivers it. */
export function s3ObjectCreated(bucket: string, key: string, version: { etag?: string; versionId?: string }) {
  return {
    version: '0',
    id: `s3-${key}`,
    'detail-type': 'Object Created',
    source: 'aws.s3',
    time: '2026-11-01T02:00:00Z',
    detail: {
      bucket: { name: bucket },
      object: {
        key,
        size: 10,
        ...(version.etag ? { etag: version.etag } : {}),
        ...(version.versionId ? { 'version-id': version.versionId } : {}),
      },
    },
  };
}

/** A DynamoDB request as a hook sees it: the command, and the pk of the item it writes or reads. */
export interface LedgerRequest {
  readonly command: string;
  readonly pk: string | undefined;
  readonly input: Record<string, unknown>;
}

/**
 * A dispatcher context on the harness's services whose DynamoDB requests first pass `hook`, which may
 * hold a request (await) or fail it (throw), to stop a dispatcher at an exact point: another
 * dispatcher's step in between, or a crash. Call `destroy` when done.
 */
export function hookedContext(
  hook: (request: LedgerRequest) => Promise<void> | void,
): DispatcherContext & { destroy(): void } {
  const dynamodb = new DynamoDBClient({});
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown> & {
        Item?: { pk?: { S?: string } };
        Key?: { pk?: { S?: string } };
        ExpressionAttributeValues?: { ':pk'?: { S?: string } };
      };
      const pk = input.Item?.pk?.S ?? input.Key?.pk?.S ?? input.ExpressionAttributeValues?.[':pk']?.S;
      await hook({ command: String(context.commandName).replace(/Command$/, ''), pk, input });
      return next(args);
    },
    { step: 'initialize' },
  );
  const sfn = new SFNClient({});
  return {
    dynamodb,
    sfn,
    table: LEDGER,
    now: () => new Date(),
    destroy() {
      dynamodb.destroy();
      sfn.destroy();
    },
  };
}

/** A promise to wait on, and the function that settles it. */
export function signal(): { promise: Promise<void>; fire: () => void } {
  let fire: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { promise, fire };
}
