import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  createWriteStream,
  mkdirSync,
  readFileSync,
  statSync,
  type WriteStream,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { ListTablesCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CLAIMED_STATUS } from '../../lambdas/dispatcher/claim.ts';
import { pipelineConfigs } from '../../lambdas/dispatcher/config.ts';
import type { DispatchResult } from '../../lambdas/dispatcher/index.ts';
import { LOCAL_RUN_VARIABLE } from '../../lambdas/task/log.ts';
import {
  findRun,
  listRuns,
  type RunReport,
  type RunRow,
  type RunStatus,
  readAttempts,
  runningRunsStartedBefore,
  runReport,
} from '../ledger/ledger.ts';
import { pipelinesWithRuns } from '../ledger/pipeline-names.ts';
import { ledgerKeys, PLATFORM_ENVIRONMENT, STATUS_INDEX } from '../names.ts';
import { scheduledTimeText } from '../spec/schedule-slots.ts';
import { s3TriggerMismatch } from '../spec/triggers/s3-object-created.ts';
import type { PipelineDefinition } from '../spec/types.ts';
import { type EngineEvent, type ExecutionRecord, LocalEngine } from './engine.ts';
import { type DeadLetter, type EventBridgeEvent, LocalEventFabric } from './event-fabric.ts';
import { type LocalEndpoint, startEventsServer } from './events-server.ts';
import { HistoryLog } from './history-log.ts';
import { NO_ACCESS_MODEL } from './iam/access-model.ts';
import { Authorizer, IAM_NOT_ENFORCED, loadIamSimulator } from './iam/authorizer.ts';
import { LambdaHost } from './lambda-host.ts';
import { objectCreatedEvent, sendsEventsToEventBridge } from './s3-events.ts';
import {
  type ExecutionOwner,
  loadExecution,
  runningExecutions,
  type SavedExecution,
  saveExecution,
} from './saved-executions.ts';
import {
  ensureBuckets,
  ensureTables,
  LOCAL_CREDENTIALS,
  type LocalServices,
  startServices,
} from './services.ts';
import { startStepFunctionsServer } from './sfn-server.ts';
import { type SnsPublication, startSnsServer } from './sns-server.ts';
import { lockStateDir } from './state-dir.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalDeployment } from './template.ts';

/** stepwise's own functions: their logical ids start with the platform's construct path. */
const PLATFORM_FUNCTION = /^StepwisePlatform(Dispatcher|Recorder|Reconciler)/;

function platformName(logicalId: string): string {
  return (PLATFORM_FUNCTION.exec(logicalId)?.[1] ?? logicalId).toLowerCase();
}

/** Logical ids start with the construct path: StepwisePlatform/Ledger/Table. */
const LEDGER_LOGICAL_PREFIX = 'StepwisePlatformLedgerTable';

export type RuntimeEvent =
  | EngineEvent
  | { readonly type: 'phase'; readonly phase: string; readonly ms: number }
  | { readonly type: 'dead-letter'; readonly letter: DeadLetter }
  | { readonly type: 'recovered'; readonly runs: readonly RecoveredRun[] }
  /** Something the user should know about this command's checks, such as IAM not being evaluated. */
  | { readonly type: 'notice'; readonly message: string };

/** A run an earlier command left RUNNING when its process died, closed by this one. */
export interface RecoveredRun {
  readonly pipeline: string;
  readonly runId: string;
  /** What the ledger says now: FAILED (States.Aborted) once the reconciler closed it. */
  readonly status: RunStatus | 'UNKNOWN';
  readonly cause: string;
}

export interface OpenOptions {
  readonly stateDir: string;
  readonly command: string;
  readonly onEvent?: (event: RuntimeEvent) => void;
}

/** What triggers a local run: a file put into the local S3 store, or manual input. */
export type LocalTrigger =
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string; readonly file: string }
  | { readonly kind: 'manual'; readonly input?: unknown }
  | { readonly kind: 'event'; readonly event: Record<string, unknown> };

/** What one trigger did: the run of the pipeline asked for, and every other run it led to. */
export interface LocalRunResult {
  readonly report: RunReport;
  /** Runs of other pipelines this trigger started, directly or downstream, in start order. */
  readonly others: readonly RunReport[];
  /** Deliveries that failed every attempt during the command (see `<state-dir>/dead-letters.jsonl`). */
  readonly deadLetters: readonly DeadLetter[];
  /** What the command must tell beside the run: runs of a dead process it closed, a duplicate's origin. */
  readonly notes: readonly string[];
}

/** One slot of a backfill and what became of it. */
export interface BackfillSlotResult {
  readonly slot: string;
  readonly status: RunStatus | 'QUEUED' | 'WAITING' | 'DROPPED' | 'STARTED' | 'FAILED';
  readonly runId: string | undefined;
  readonly error?: string;
}

/** The parts that only a full open (not a ledger-only one) has. */
interface Running {
  readonly stateDir: string;
  readonly deployment: LocalDeployment;
  readonly engine: LocalEngine;
  readonly lambdas: LambdaHost;
  readonly fabric: LocalEventFabric;
}

/**
 * The local stand-ins for one command: the state dir (locked), dynalite, s3rver, the Step Functions
 * engine, EventBridge's bus and SNS on loopback, and the Lambda host. Every trigger goes through the
 * deployed dispatcher's own code; every finished execution goes to the deployed recorder's own code,
 * through the rules the template deploys.
 */
export class LocalRuntime {
  /**
   * Reports of runs the recorder has finished with (their row notified), by run id. Each `run` reports
   * every other run started since it began, so calls sharing one runtime would otherwise read the same
   * finished runs again and again. Only a redrive changes such a report: it drops the run's entry.
   */
  private readonly finishedReports = new Map<string, RunReport>();

  private constructor(
    private readonly services: LocalServices,
    private readonly running: Running | undefined,
    private readonly cleanups: readonly (() => Promise<void>)[],
    private readonly unlock: () => void,
  ) {}

  /** Opens the stores only, to read the ledger. */
  static async openLedger(options: OpenOptions): Promise<LocalRuntime> {
    const unlock = lockStateDir(options.stateDir, options.command);
    try {
      const services = await startServices(options.stateDir);
      return new LocalRuntime(services, undefined, [() => services.close()], unlock);
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
    const stateDir = resolve(options.stateDir);
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const started = Date.now();
      // Every call a function or a state machine makes is authorized against its role, as on AWS.
      const access = deployment.access ?? NO_ACCESS_MODEL;
      const authorizer = new Authorizer(access);
      if ((await loadIamSimulator()) === undefined) emit({ type: 'notice', message: IAM_NOT_ENFORCED });
      const services = await startServices(options.stateDir, { authorizer });
      cleanups.push(() => services.close());
      await ensureTables(services.dynamodb, deployment.tables);
      await ensureBuckets(services.s3, options.buckets);
      // stepwise's own functions log to files, as they would to CloudWatch; task handlers to stderr.
      mkdirSync(join(stateDir, 'logs'), { recursive: true });
      const logs = new Map<string, WriteStream>();
      const lambdas = new LambdaHost((fn) => {
        if (!PLATFORM_FUNCTION.test(fn.logicalId)) return process.stderr;
        const stream =
          logs.get(fn.logicalId) ??
          createWriteStream(join(stateDir, 'logs', `${platformName(fn.logicalId)}.log`), { flags: 'a' });
        logs.set(fn.logicalId, stream);
        return stream;
      });
      cleanups.push(async () => {
        for (const stream of logs.values()) await new Promise((r) => stream.end(r));
      });
      cleanups.push(() => lambdas.close());
      const fabric = new LocalEventFabric({
        rules: deployment.rules,
        functions: deployment.functions,
        lambdas,
        deadLetterFile: join(stateDir, 'dead-letters.jsonl'),
        onDeadLetter: (letter) => emit({ type: 'dead-letter', letter }),
      });
      // S3 sends "Object Created" for every object a function or a state machine writes or copies.
      services.onObjectCreated((object) => {
        if (!sendsEventsToEventBridge(access, object.bucket)) return;
        void fabric.put(objectCreatedEvent(object)).catch(() => undefined);
      });
      let engine: LocalEngine | undefined;
      const owner: ExecutionOwner = { pid: process.pid, command: options.command };
      const onEngineEvent = (event: EngineEvent) => {
        if (event.type === 'execution-progress') {
          // Saved as it goes: a command killed mid-run leaves what it did, for the next to close and redrive.
          const record = engine?.execution(event.executionArn);
          if (record?.status === 'RUNNING') saveExecution(stateDir, record, owner);
          return;
        }
        emit(event);
        if (event.type !== 'execution-started' && event.type !== 'execution-finished') return;
        const record = engine?.execution(event.executionArn);
        if (!record) return;
        if (event.type === 'execution-started') fabric.track(record.done);
        saveExecution(stateDir, record, owner);
        // EventBridge delivers Step Functions' status changes to the rules that match them.
        void fabric.put(statusChangeEvent(record)).catch(() => undefined);
      };
      engine = new LocalEngine(deployment, lambdas, { services, authorizer }, onEngineEvent);
      const sfn = await startStepFunctionsServer(engine, { authorizer });
      cleanups.push(() => new Promise<void>((r) => sfn.server.close(() => r())));
      const events: LocalEndpoint = await startEventsServer({
        authorizer,
        onEvent: (event, context) => {
          if (context.eventBusName !== 'default') return;
          void fabric.put(event).catch(() => undefined);
        },
      });
      cleanups.push(() => events.close());
      const alertsFile = join(stateDir, 'alerts.jsonl');
      const sns = await startSnsServer({
        authorizer,
        topicArns: deployment.topics,
        onPublish: (alert: SnsPublication) => {
          appendFileSync(alertsFile, `${JSON.stringify(alert)}\n`);
          emit({ type: 'alert', alert });
        },
      });
      cleanups.push(() => sns.close());
      lambdas.setEnvironment(
        {
          AWS_REGION: LOCAL_REGION,
          AWS_DEFAULT_REGION: LOCAL_REGION,
          AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL_DYNAMODB: services.dynamodbEndpoint,
          AWS_ENDPOINT_URL_S3: services.s3Endpoint,
          AWS_ENDPOINT_URL_SFN: sfn.endpoint,
          AWS_ENDPOINT_URL_EVENTBRIDGE: events.endpoint,
          AWS_ENDPOINT_URL_SNS: sns.endpoint,
          [LOCAL_RUN_VARIABLE]: '1',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        // Each function signs as its own role, which the stand-ins authorize (see lib/local/iam).
        (fn) =>
          access.callers.has(fn.logicalId)
            ? { AWS_ACCESS_KEY_ID: fn.logicalId, AWS_SECRET_ACCESS_KEY: 'local' }
            : {},
      );
      emit({ type: 'phase', phase: 'services', ms: Date.now() - started });
      const runtime = new LocalRuntime(
        services,
        { stateDir, deployment, engine, lambdas, fabric },
        cleanups,
        unlock,
      );
      runtime.recovered = await runtime.recoverAbandonedRuns();
      if (runtime.recovered.length > 0) emit({ type: 'recovered', runs: runtime.recovered });
      return runtime;
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      unlock();
      throw error;
    }
  }

  /** The ledger's local name is its logical id; a ledger-only open finds it among the tables. */
  private async ledgerTable(): Promise<string> {
    const fromTemplate = this.running?.deployment.tables.find((t) =>
      t.name.startsWith(LEDGER_LOGICAL_PREFIX),
    )?.name;
    if (fromTemplate) return fromTemplate;
    const tables = (await this.services.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
    const found = tables.find((t) => t.startsWith(LEDGER_LOGICAL_PREFIX));
    if (!found) throw new Error('this state dir has no ledger yet; start a run with `stepwise run <spec>`');
    return found;
  }

  /** Runs of a dead process that opening this runtime closed. */
  recovered: readonly RecoveredRun[] = [];

  /**
   * A command killed mid-run (kill -9, a crash, a closed terminal) leaves its runs RUNNING in the
   * ledger, holding their concurrency slots, with triggers that would be deduplicated against them.
   * Every full open first closes them, with the deployed reconciler's own code: each execution left
   * running is known again as ABORTED (nothing runs it any more: this command holds the lock), and
   * the reconciler, run with no grace period, records it as it would on AWS: run FAILED with
   * States.Aborted and the cause, one alert, and "Run Finished", on which the dispatcher frees the
   * slot and starts whatever was queued behind it.
   */
  private async recoverAbandonedRuns(): Promise<RecoveredRun[]> {
    const { stateDir, engine, deployment, lambdas, fabric } = this.live;
    const table = await this.ledgerTable().catch(() => undefined);
    if (!table) return [];
    const rows: RunRow[] = [];
    for await (const row of runningRunsStartedBefore(this.services.dynamodb, table, new Date().toISOString()))
      rows.push(row);
    const abandoned = runningExecutions(stateDir);
    if (rows.length === 0 && abandoned.length === 0 && !(await this.startsLeftUnfinished(table))) return [];
    const causes = new Map<string, string>();
    for (const saved of abandoned) {
      const cause = abandonedCause(saved.owner, saved.name);
      causes.set(saved.name, cause);
      saveExecution(stateDir, engine.adoptAbandoned(saved, cause), saved.owner);
    }
    // A run row whose execution no saved copy knows (a state dir from before saving began): its
    // execution is known from the row alone, so that the reconciler can close it the same way.
    for (const row of rows) {
      if (!row.executionArn || engine.execution(row.executionArn)) continue;
      const cause = abandonedCause(undefined, row.runId);
      causes.set(row.runId, cause);
      saveExecution(stateDir, engine.adoptAbandoned(savedFromRow(row), cause));
    }
    const reconciler = [...deployment.functions.values()].find((f) =>
      f.logicalId.startsWith('StepwisePlatformReconciler'),
    );
    if (!reconciler) throw new Error('the synthesized app has no reconciler function');
    // Locally nothing can still be running once the lock is ours, so no grace period, and a slot
    // holder with no execution never started.
    const outcome = await fabric.track(
      lambdas.invoke(
        {
          ...reconciler,
          environment: {
            ...reconciler.environment,
            [PLATFORM_ENVIRONMENT.reconcileAfterMinutes]: '0',
            [PLATFORM_ENVIRONMENT.reconcileNothingInFlight]: '1',
          },
        },
        {},
      ),
    );
    const recovered: RecoveredRun[] = [];
    for (const row of rows) {
      const now = await findRun(this.services.dynamodb, table, row.pipeline, row.runId);
      recovered.push({
        pipeline: row.pipeline,
        runId: row.runId,
        status: now?.status ?? 'UNKNOWN',
        cause:
          now?.status === 'RUNNING' && !outcome.ok
            ? `still RUNNING: the reconciler failed: ${outcome.errorType}: ${outcome.errorMessage}`
            : (causes.get(row.runId) ?? abandonedCause(undefined, row.runId)),
      });
    }
    return recovered;
  }

  /**
   * Whether a dead process left a trigger claimed but not started, or runs queued: its dispatcher
   * stopped mid-dispatch (no run row and no execution to close), or its runs ended before the queue
   * behind them moved. The reconciler finishes such starts and drains the queues.
   */
  private async startsLeftUnfinished(table: string): Promise<boolean> {
    const { dynamodb } = this.services;
    const claimed = await dynamodb.send(
      new QueryCommand({
        TableName: table,
        IndexName: STATUS_INDEX,
        KeyConditionExpression: '#status = :claimed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':claimed': { S: CLAIMED_STATUS } },
        Limit: 1,
      }),
    );
    if ((claimed.Items ?? []).length > 0) return true;
    const dispatcher = [...this.live.deployment.functions.values()].find((f) =>
      f.logicalId.includes('Dispatcher'),
    );
    for (const pipeline of pipelineConfigs(dispatcher?.environment ?? {}).keys()) {
      const queued = await dynamodb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: ledgerKeys.queueOf(pipeline) } },
          ConsistentRead: true,
          Limit: 1,
        }),
      );
      if ((queued.Items ?? []).length > 0) return true;
    }
    return false;
  }

  private get live(): Running {
    if (!this.running) throw new Error('this runtime was opened to read the ledger only');
    return this.running;
  }

  /**
   * Triggers a run of the pipeline and waits until everything it set off has settled: its execution,
   * the recorder, and any runs downstream or queued behind it. A manual run is a direct call to the
   * dispatcher (as the CLI makes on AWS); a file or an event goes onto the bus, to every matching rule.
   */
  async run(pipeline: PipelineDefinition, trigger: LocalTrigger): Promise<LocalRunResult> {
    const { fabric, engine } = this.live;
    const before = new Set(engine.allExecutions().map((r) => r.arn));
    let result: DispatchResult | undefined;
    if (trigger.kind === 'manual') {
      result = await this.dispatch({ kind: 'manual', pipeline: pipeline.name, input: trigger.input });
    } else {
      const event = trigger.kind === 's3' ? await this.putObject(pipeline, trigger) : eventOf(trigger.event);
      const outcomes = await fabric.put(event);
      const results = outcomes.flatMap((o) => (o.outcome.ok ? [o.outcome.result as DispatchResult] : []));
      result = results.find((r) => r.status !== 'DROPPED' && r.pipeline === pipeline.name);
      if (!result) {
        const failed = outcomes.find((o) => !o.outcome.ok)?.outcome;
        throw new Error(
          failed && !failed.ok
            ? `the dispatcher failed: ${failed.errorType}: ${failed.errorMessage}`
            : `no trigger of pipeline '${pipeline.name}' matched the ${trigger.kind === 's3' ? 'file' : 'event'}`,
        );
      }
    }
    await fabric.idle();
    const report = await this.reportFor(pipeline, result);
    const notes: string[] = [];
    if (result.status === 'DEDUPLICATED') {
      const original = await this.reportOf(pipeline.name, result.runId);
      if (original && original.status !== 'SUCCEEDED')
        notes.push(
          `this trigger was processed before, by run ${original.runId}, which ended ${original.status}${original.error?.error ? ` (${original.error.error}${original.error.message ? `: ${original.error.message}` : ''})` : ''}; a trigger is never processed twice. To run it again: stepwise redrive ${pipeline.specFile ?? '<spec>'} ${original.runId}`,
        );
    }
    return this.resultSince(before, report, notes);
  }

  /**
   * Redrives a failed run, the local counterpart of RedriveExecution (see `LocalEngine.redrive`), and
   * waits for it and everything it sets off to settle.
   */
  async redrive(pipeline: PipelineDefinition, runId: string): Promise<LocalRunResult> {
    const { stateDir, engine, fabric } = this.live;
    const saved = loadExecution(stateDir, runId);
    if (!saved)
      throw new Error(
        `no local execution named '${runId}' in ${stateDir}; list the runs with 'stepwise runs ${pipeline.name} --status FAILED'`,
      );
    const before = new Set(engine.allExecutions().map((r) => r.arn));
    this.finishedReports.delete(runId);
    engine.redrive(saved);
    await fabric.idle();
    const report = await this.reportOf(
      pipeline.name,
      runId,
      pipeline.tasks.map((t) => t.id),
    );
    if (!report) throw new Error(`run ${runId} has no ledger row`);
    return this.resultSince(before, report);
  }

  /**
   * Replays schedule slots through the synthesized schedule's own target input and the dispatcher,
   * `concurrency` slots at a time, waiting for each wave to settle. Safe to repeat: a slot that ran
   * before is DEDUPLICATED. `shouldStop` is asked between waves.
   */
  async backfill(
    pipeline: PipelineDefinition,
    slots: readonly string[],
    options: {
      concurrency: number;
      onSlot?: (result: BackfillSlotResult, done: number) => void;
      shouldStop?: () => boolean;
    },
  ): Promise<BackfillSlotResult[]> {
    const schedule = this.live.deployment.schedules.find((s) => {
      const input = s.input(new Date(0).toISOString()) as { pipeline?: unknown };
      return input?.pipeline === pipeline.name;
    });
    if (!schedule)
      throw new Error(
        `pipeline '${pipeline.name}' has no schedule trigger to backfill; add schedule('cron(...)') to its triggers`,
      );
    const results: BackfillSlotResult[] = [];
    const entries: { slot: string; result?: DispatchResult; error?: string }[] = [];
    for (let i = 0; i < slots.length; i += options.concurrency) {
      if (options.shouldStop?.()) break;
      const wave = slots.slice(i, i + options.concurrency);
      const dispatched = await mapInFlight(wave, LOCAL_DISPATCHES_IN_FLIGHT, async (slot) => {
        try {
          return { slot, result: await this.dispatch(schedule.input(scheduledTimeText(new Date(slot)))) };
        } catch (error) {
          return { slot, error: (error as Error).message };
        }
      });
      await this.live.fabric.idle();
      for (const entry of dispatched) {
        const slotResult = await this.slotResult(pipeline, entry);
        results.push(slotResult);
        entries.push(entry);
        options.onSlot?.(slotResult, results.length);
      }
    }
    // A run queued in one wave may have started and ended in a later one: read them all again.
    await this.live.fabric.idle();
    return Promise.all(
      results.map((r, i) =>
        r.status === 'QUEUED' || r.status === 'STARTED' || r.status === 'RUNNING'
          ? this.slotResult(pipeline, entries[i] as (typeof entries)[number])
          : r,
      ),
    );
  }

  /** The run asked for, every other run started since `before` (downstream, queued), and dead letters. */
  private async resultSince(
    before: ReadonlySet<string>,
    report: RunReport,
    notes: readonly string[] = [],
  ): Promise<LocalRunResult> {
    const { engine, fabric } = this.live;
    const others: RunReport[] = [];
    for (const record of engine.allExecutions()) {
      if (before.has(record.arn) || record.name === report.runId) continue;
      const other = await this.reportOfExecution(record);
      if (other) others.push(other);
    }
    const recovered = this.recovered.map(
      (r) =>
        `run ${r.runId} of '${r.pipeline}' was left RUNNING by a process that died; now ${r.status}: ${r.cause}`,
    );
    return { report, others, deadLetters: [...fabric.deadLetters], notes: [...recovered, ...notes] };
  }

  /** When each execution of this command started and stopped, for checks on concurrency. */
  executionWindows(): { name: string; startDate: Date; stopDate: Date | undefined }[] {
    return this.live.engine
      .allExecutions()
      .map((r) => ({ name: r.name, startDate: r.startDate, stopDate: r.stopDate }));
  }

  async listRuns(pipeline: string, options: { status?: RunStatus; limit?: number }): Promise<RunReport[]> {
    const table = await this.ledgerTable();
    const rows = await listRuns(this.services.dynamodb, table, pipeline, options);
    return Promise.all(
      rows.map(async (row) => runReport(row, await readAttempts(this.services.dynamodb, table, row.runId))),
    );
  }

  /** The pipelines this state dir's ledger holds runs of, sorted by name. */
  async pipelinesWithRuns(): Promise<string[]> {
    return pipelinesWithRuns(this.services.dynamodb, await this.ledgerTable());
  }

  async close(): Promise<void> {
    try {
      for (const cleanup of [...this.cleanups].reverse()) await cleanup().catch(() => undefined);
    } finally {
      this.unlock();
    }
  }

  private async slotResult(
    pipeline: PipelineDefinition,
    entry: { slot: string; result?: DispatchResult; error?: string },
  ): Promise<BackfillSlotResult> {
    const { slot, result } = entry;
    if (!result) return { slot, status: 'DROPPED', runId: undefined, error: entry.error ?? 'not dispatched' };
    if (result.status === 'DROPPED')
      return { slot, status: 'DROPPED', runId: undefined, error: result.reason };
    if (result.status === 'WAITING' || result.status === 'RELEASED')
      return { slot, status: 'WAITING', runId: undefined };
    const report = await this.reportFor(pipeline, result).catch(() => undefined);
    return { slot, status: report?.status ?? 'QUEUED', runId: report?.runId ?? result.runId };
  }

  /** The ledger's account of what the dispatcher did with a trigger. */
  private async reportFor(pipeline: PipelineDefinition, result: DispatchResult): Promise<RunReport> {
    if (result.status === 'DROPPED') throw new Error(`the dispatcher dropped the trigger: ${result.reason}`);
    if (result.status === 'WAITING' || result.status === 'RELEASED')
      throw new Error(`the dispatcher did not start a run (${result.status})`);
    const runId = result.status === 'DEDUPLICATED' ? result.duplicateRowId : result.runId;
    const report = await this.reportOf(
      pipeline.name,
      runId,
      pipeline.tasks.map((t) => t.id),
    );
    if (report) return report;
    const record = this.live.engine.allExecutions().find((r) => r.name === runId);
    const letters = this.live.fabric.deadLetters;
    const lettersNote =
      letters.length > 0
        ? `; ${letters.length} delivery(ies) failed every attempt, the first to ${letters[0]?.target}: ${letters[0]?.error} (see dead-letters.jsonl in the state dir)`
        : '';
    throw new Error(
      record
        ? `run ${runId} never reached the ledger: its execution ${record.status} with ${record.error ?? 'no error'}: ${record.cause ?? ''}${lettersNote}`
        : result.status === 'QUEUED'
          ? `run ${runId} is still QUEUED after everything this command set off has ended: no concurrency slot of pipeline '${pipeline.name}' (maxConcurrentRuns ${pipeline.maxConcurrentRuns}) was freed for it, so it never started. It stays queued in the ledger and starts when a run of '${pipeline.name}' ends; 'stepwise runs ${pipeline.name} --status RUNNING' lists what holds the slots${lettersNote}`
          : `run ${runId} (${result.status}) has no ledger row and no execution${lettersNote}`,
    );
  }

  private async reportOf(
    pipeline: string,
    runId: string,
    taskOrder?: readonly string[],
  ): Promise<RunReport | undefined> {
    return (await this.readRun(pipeline, runId, taskOrder))?.report;
  }

  private async readRun(
    pipeline: string,
    runId: string,
    taskOrder?: readonly string[],
  ): Promise<{ row: RunRow; report: RunReport } | undefined> {
    const table = await this.ledgerTable();
    const row = await findRun(this.services.dynamodb, table, pipeline, runId);
    if (!row) return undefined;
    const attempts = await readAttempts(this.services.dynamodb, table, row.runId);
    return { row, report: runReport(row, attempts, taskOrder ?? row.tasks) };
  }

  private async reportOfExecution(record: ExecutionRecord): Promise<RunReport | undefined> {
    const finished = this.finishedReports.get(record.name);
    if (finished) return finished;
    const pipeline = (JSON.parse(record.input) as { run?: { pipeline?: string } }).run?.pipeline;
    const read = pipeline ? await this.readRun(pipeline, record.name) : undefined;
    // The recorder marks a run notified last, after writing its attempts and closing its row.
    if (read && read.row.notifiedAt !== undefined && read.row.status !== 'RUNNING')
      this.finishedReports.set(record.name, read.report);
    return read?.report;
  }

  private async dispatch(envelope: unknown): Promise<DispatchResult> {
    const { deployment, lambdas } = this.live;
    const dispatcher = [...deployment.functions.values()].find((f) => f.logicalId.includes('Dispatcher'));
    if (!dispatcher) throw new Error('the synthesized app has no dispatcher function');
    // Tracked, so no command's `idle()` ends while a dispatch that may start a queued run is in flight.
    const outcome = await this.live.fabric.track(lambdas.invoke(dispatcher, envelope));
    if (!outcome.ok) throw new Error(`the dispatcher failed: ${outcome.errorType}: ${outcome.errorMessage}`);
    return outcome.result as DispatchResult;
  }

  /** Puts the file into the local S3 store and builds the "Object Created" event S3 sends EventBridge. */
  private async putObject(
    pipeline: PipelineDefinition,
    trigger: Extract<LocalTrigger, { kind: 's3' }>,
  ): Promise<EventBridgeEvent> {
    const mismatch = s3TriggerMismatch(pipeline, trigger.bucket, trigger.key);
    if (mismatch) throw new Error(mismatch);
    if (!sendsEventsToEventBridge(this.live.deployment.access ?? NO_ACCESS_MODEL, trigger.bucket))
      throw new Error(
        `bucket '${trigger.bucket}' does not send its events to EventBridge in the synthesized template, so no "Object Created" event (and no run) follows an upload; turn on its EventBridge notifications (eventBridgeEnabled: true)`,
      );
    const body = readFileSync(trigger.file);
    const put = await this.services.s3.send(
      new PutObjectCommand({ Bucket: trigger.bucket, Key: trigger.key, Body: body }),
    );
    return objectCreatedEvent({
      bucket: trigger.bucket,
      key: trigger.key,
      size: statSync(trigger.file).size,
      etag: put.ETag ?? '',
      versionId: put.VersionId,
      reason: 'PutObject',
    });
  }
}

/** Why an execution left running ended: its process died. */
function abandonedCause(owner: ExecutionOwner | undefined, runId: string): string {
  const who = owner
    ? `the local process running it (pid ${owner.pid}, '${owner.command}')`
    : 'the local process running it';
  return `${who} exited before the execution ended; the run is closed and its concurrency slot freed. Run it again with 'stepwise redrive <spec> ${runId}'`;
}

/** An execution as far as its run row tells: its input, as the dispatcher built it, and its start. */
function savedFromRow(row: RunRow): SavedExecution {
  const arn = row.executionArn as string;
  const input = JSON.stringify({
    run: {
      id: row.runId,
      pipeline: row.pipeline,
      trigger: row.trigger,
      logicalTime: row.logicalTime,
      key: row.runKey,
      ...(row.expiresAt ? { expiresAt: row.expiresAt } : {}),
    },
  });
  return {
    arn,
    stateMachineArn: arn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, ''),
    name: row.runId,
    input,
    status: 'RUNNING',
    startDate: row.startedAt,
    stopDate: undefined,
    redriveCount: 0,
    events: new HistoryLog(input, '').events,
    succeededOutputs: {},
  };
}

/** "Step Functions Execution Status Change", as EventBridge delivers it for a Standard workflow. */
function statusChangeEvent(record: ExecutionRecord): EventBridgeEvent {
  const ended = record.status !== 'RUNNING';
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: LOCAL_ACCOUNT,
    time: scheduledTimeText(record.stopDate ?? record.startDate),
    region: LOCAL_REGION,
    resources: [record.arn],
    detail: {
      executionArn: record.arn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: record.startDate.getTime(),
      stopDate: ended && record.stopDate ? record.stopDate.getTime() : null,
      input: record.input,
      output: record.status === 'SUCCEEDED' ? JSON.stringify(record.output ?? null) : null,
      ...(record.error ? { error: record.error } : {}),
      ...(record.cause ? { cause: record.cause } : {}),
    },
  };
}

/** A custom event as PutEvents would complete it. */
function eventOf(event: Record<string, unknown>): EventBridgeEvent {
  return {
    version: '0',
    id: randomUUID(),
    account: LOCAL_ACCOUNT,
    time: scheduledTimeText(new Date()),
    region: LOCAL_REGION,
    resources: [],
    detail: {},
    ...event,
  } as unknown as EventBridgeEvent;
}

/**
 * Dispatcher calls in flight at once during a local backfill wave. On AWS each call gets a sandbox of its
 * own; locally every call of a function shares one worker thread, and its timer (the dispatcher's 30 s)
 * runs from the call, so a wave of 50 at once on a loaded machine timed out calls that had not begun.
 * The wave is still `--concurrency` runs wide: only the calls that admit them are spaced out.
 */
const LOCAL_DISPATCHES_IN_FLIGHT = 8;

/** `items.map(work)`, with at most `limit` calls of `work` running at once; results in input order. */
async function mapInFlight<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
