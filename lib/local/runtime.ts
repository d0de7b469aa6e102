import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { DispatchResult } from '../../lambdas/dispatcher/index.ts';
import { stateMachineVariable } from '../../lambdas/dispatcher/index.ts';
import {
  completeRunRow,
  findRun,
  listRuns,
  type RunReport,
  type RunStatus,
  readAttempts,
  runReport,
  writeAttempts,
} from '../ledger/ledger.ts';
import { taskAttempts } from '../ledger/task-attempts.ts';
import { s3TriggerMismatch } from '../spec/triggers/s3-object-created.ts';
import type { PipelineDefinition } from '../spec/types.ts';
import { type EngineEvent, LocalEngine } from './engine.ts';
import { LambdaHost } from './lambda-host.ts';
import {
  ensureBuckets,
  ensureTables,
  LOCAL_CREDENTIALS,
  type LocalServices,
  startServices,
} from './services.ts';
import { startStepFunctionsServer } from './sfn-server.ts';
import { lockStateDir } from './state-dir.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalDeployment } from './template.ts';

/** Logical ids start with the construct path: StepwisePlatform/Ledger/Table. */
const LEDGER_LOGICAL_PREFIX = 'StepwisePlatformLedgerTable';

export type RuntimeEvent =
  | EngineEvent
  | { readonly type: 'phase'; readonly phase: string; readonly ms: number };

export interface OpenOptions {
  readonly stateDir: string;
  readonly command: string;
  readonly onEvent?: (event: RuntimeEvent) => void;
}

/** What triggers a local run: a file put into the local S3 store, or manual input. */
export type LocalTrigger =
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string; readonly file: string }
  | { readonly kind: 'manual'; readonly input?: unknown };

/**
 * The local stand-ins for one command: the state dir (locked), dynalite, s3rver, the Step Functions
 * engine on loopback, and the Lambda host. Runs go through the deployed dispatcher's own code.
 */
export class LocalRuntime {
  private constructor(
    private readonly services: LocalServices,
    private readonly deployment: LocalDeployment | undefined,
    private readonly engine: LocalEngine | undefined,
    private readonly lambdas: LambdaHost | undefined,
    private readonly sfnServer: Server | undefined,
    private readonly unlock: () => void,
  ) {}

  /** Opens the stores only, to read the ledger. */
  static async openLedger(options: OpenOptions): Promise<LocalRuntime> {
    const unlock = lockStateDir(options.stateDir, options.command);
    try {
      const services = await startServices(options.stateDir);
      return new LocalRuntime(services, undefined, undefined, undefined, undefined, unlock);
    } catch (error) {
      unlock();
      throw error;
    }
  }

  /**
   * Opens everything needed to run the synthesized deployment. Pass `unlock` when the caller took the
   * state dir's lock already (before synthesizing into it); the runtime then owns it.
   */
  static async open(
    deployment: LocalDeployment,
    options: OpenOptions & { buckets: Iterable<string>; unlock?: () => void },
  ): Promise<LocalRuntime> {
    const emit = options.onEvent ?? (() => undefined);
    const unlock = options.unlock ?? lockStateDir(options.stateDir, options.command);
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const started = Date.now();
      const services = await startServices(options.stateDir);
      cleanups.push(() => services.close());
      await ensureTables(services.dynamodb, deployment.tables);
      await ensureBuckets(services.s3, options.buckets);
      const lambdas = new LambdaHost();
      cleanups.push(() => lambdas.close());
      const engine = new LocalEngine(
        deployment,
        lambdas,
        { services, alertsFile: join(resolve(options.stateDir), 'alerts.jsonl') },
        emit,
      );
      const sfn = await startStepFunctionsServer(engine);
      lambdas.setEnvironment({
        AWS_REGION: LOCAL_REGION,
        AWS_DEFAULT_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_DYNAMODB: services.dynamodbEndpoint,
        AWS_ENDPOINT_URL_S3: services.s3Endpoint,
        AWS_ENDPOINT_URL_SFN: sfn.endpoint,
        STEPWISE_LOCAL: '1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      });
      emit({ type: 'phase', phase: 'services', ms: Date.now() - started });
      return new LocalRuntime(services, deployment, engine, lambdas, sfn.server, unlock);
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      unlock();
      throw error;
    }
  }

  /** The ledger's local name is its logical id; a ledger-only open finds it among the tables. */
  private async ledgerTable(): Promise<string> {
    const fromTemplate = this.deployment?.tables.find((t) => t.name.startsWith(LEDGER_LOGICAL_PREFIX))?.name;
    if (fromTemplate) return fromTemplate;
    const tables = (await this.services.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
    const found = tables.find((t) => t.startsWith(LEDGER_LOGICAL_PREFIX));
    if (!found) throw new Error('this state dir has no ledger yet; start a run with `stepwise run <spec>`');
    return found;
  }

  /** Starts a run of the pipeline through the dispatcher and waits for it to end. */
  async run(pipeline: PipelineDefinition, trigger: LocalTrigger): Promise<RunReport> {
    const envelope =
      trigger.kind === 's3'
        ? await this.putObject(pipeline, trigger)
        : { kind: 'manual', pipeline: pipeline.name, input: trigger.input };
    const result = await this.dispatch(envelope);
    if (result.status === 'DROPPED') throw new Error(`the dispatcher dropped the trigger: ${result.reason}`);
    const table = await this.ledgerTable();
    if (result.status === 'DEDUPLICATED') {
      const rows = await listRuns(this.services.dynamodb, table, pipeline.name, {
        status: 'DEDUPLICATED',
        limit: 1,
      });
      const row = rows[0];
      if (!row) throw new Error('the dispatcher reported a duplicate but wrote no ledger row');
      return runReport(
        row,
        [],
        pipeline.tasks.map((t) => t.id),
      );
    }
    const record = await (this.engine as LocalEngine).execution(result.executionArn)?.done;
    if (!record) throw new Error(`execution ${result.executionArn} was not started`);
    return this.recordExecution(pipeline, record.name);
  }

  async listRuns(pipeline: string, options: { status?: RunStatus; limit?: number }): Promise<RunReport[]> {
    const table = await this.ledgerTable();
    const rows = await listRuns(this.services.dynamodb, table, pipeline, options);
    return Promise.all(
      rows.map(async (row) => runReport(row, await readAttempts(this.services.dynamodb, table, row.runId))),
    );
  }

  async close(): Promise<void> {
    try {
      await this.lambdas?.close();
      await new Promise<void>((r) => (this.sfnServer ? this.sfnServer.close(() => r()) : r()));
      await this.services.close();
    } finally {
      this.unlock();
    }
  }

  /** The local counterpart of the deployed recorder: task attempts from the event log, into the ledger. */
  private async recordExecution(pipeline: PipelineDefinition, runId: string): Promise<RunReport> {
    const engine = this.engine as LocalEngine;
    const arnSuffix = `:${runId}`;
    const record = [...(this.deployment?.stateMachines ?? [])]
      .map((m) => engine.execution(`${m.arn.replace(':stateMachine:', ':execution:')}${arnSuffix}`))
      .find((r) => r !== undefined);
    if (!record) throw new Error(`no execution named ${runId}`);
    const table = await this.ledgerTable();
    const attempts = taskAttempts(record.history, record.tasks);
    await writeAttempts(this.services.dynamodb, table, { pipeline: pipeline.name, runId }, attempts);
    const row = await findRun(this.services.dynamodb, table, pipeline.name, runId);
    if (!row)
      throw new Error(
        `run ${runId} never reached the ledger: its execution ${record.status} with ${record.error ?? 'no error'}: ${record.cause ?? ''}`,
      );
    const closing = record.status === 'TIMED_OUT' || record.status === 'FAILED';
    await completeRunRow(this.services.dynamodb, table, row, {
      tasks: pipeline.tasks.map((t) => t.id),
      transitions: record.transitions,
      trigger: (JSON.parse(record.input) as { run: { trigger: unknown } }).run.trigger,
      ...(closing
        ? {
            close: {
              status: record.status === 'TIMED_OUT' ? 'TIMED_OUT' : 'FAILED',
              endedAt: (record.stopDate ?? new Date()).toISOString(),
              ...(record.error ? { error: record.error } : {}),
              ...(record.cause ? { cause: record.cause } : {}),
            },
          }
        : {}),
    });
    const final = (await findRun(this.services.dynamodb, table, pipeline.name, runId)) ?? row;
    return runReport(
      final,
      attempts,
      pipeline.tasks.map((t) => t.id),
    );
  }

  private async dispatch(envelope: unknown): Promise<DispatchResult> {
    const dispatcher = [...(this.deployment?.functions.values() ?? [])].find((f) =>
      f.logicalId.includes('Dispatcher'),
    );
    if (!dispatcher || !this.lambdas) throw new Error('the synthesized app has no dispatcher function');
    const outcome = await this.lambdas.invoke(dispatcher, envelope);
    if (!outcome.ok) throw new Error(`the dispatcher failed: ${outcome.errorType}: ${outcome.errorMessage}`);
    return outcome.result as DispatchResult;
  }

  /** Puts the file into the local S3 store and builds the "Object Created" event AWS would send. */
  private async putObject(
    pipeline: PipelineDefinition,
    trigger: Extract<LocalTrigger, { kind: 's3' }>,
  ): Promise<unknown> {
    const mismatch = s3TriggerMismatch(pipeline, trigger.bucket, trigger.key);
    if (mismatch) throw new Error(mismatch);
    const body = readFileSync(trigger.file);
    const put = await this.services.s3.send(
      new PutObjectCommand({ Bucket: trigger.bucket, Key: trigger.key, Body: body }),
    );
    const now = new Date().toISOString();
    return {
      kind: 's3',
      pipeline: pipeline.name,
      event: {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Object Created',
        source: 'aws.s3',
        account: LOCAL_ACCOUNT,
        time: now,
        region: LOCAL_REGION,
        resources: [`arn:aws:s3:::${trigger.bucket}`],
        detail: {
          version: '0',
          bucket: { name: trigger.bucket },
          object: {
            key: trigger.key,
            size: statSync(trigger.file).size,
            etag: (put.ETag ?? '').replace(/"/g, ''),
            ...(put.VersionId ? { 'version-id': put.VersionId } : {}),
            sequencer: Date.now().toString(16).toUpperCase(),
          },
          'request-id': randomUUID(),
          requester: LOCAL_ACCOUNT,
          reason: 'PutObject',
        },
      },
    };
  }
}

export { stateMachineVariable };
