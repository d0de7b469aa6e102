/**
 * The names the deployed constructs and the Lambda runtimes must agree on: ledger keys, stack
 * outputs, metrics, the "Run Finished" event and the ledger's index. Each is written here once and
 * imported by both sides. This module imports nothing, so it bundles into the Lambdas as it is.
 */

/** A ledger item's primary key. */
export interface LedgerKey {
  readonly pk: string;
  readonly sk: string;
}

/** The prefixes of the ledger's keys: one table holds every kind of item, told apart by these. */
export const LEDGER_KEY_PREFIX = {
  /** Partition of a pipeline's run rows. */
  pipeline: 'PIPELINE#',
  /** Sort key of a run row (under `PIPELINE#`), and partition of a run's task attempts. */
  run: 'RUN#',
  /** Sort key of a task attempt row (under `RUN#<runId>`). */
  task: 'TASK#',
  /** A run key's claim, which makes starting a run idempotent. */
  runKey: 'RUNKEY#',
  /** A pipeline's concurrency slots. */
  slots: 'SLOTS#',
  /** Runs of a pipeline waiting for a concurrency slot. */
  queue: 'QUEUE#',
  /** The upstream runs a join has seen for one logical time. */
  join: 'JOIN#',
  /** A latched chain's latch, written by the compiled state machine. */
  latch: 'LATCH#',
} as const;

/** The sort keys of the items that are alone in their partition. */
export const LEDGER_SORT_KEY = {
  runKey: 'RUNKEY',
  slots: 'SLOTS',
  join: 'JOIN',
  /** A latch's done flags and task tokens. */
  latchWait: 'WAIT',
  /** A latch's outputs. */
  latchOutputs: 'OUT',
} as const;

/** How wide a task attempt's number is in its sort key, so attempts sort in order. */
const ATTEMPT_DIGITS = 4;

/** The key of every item the ledger holds, built in one place. */
export const ledgerKeys = {
  /** A run row: `PIPELINE#<pipeline>` / `RUN#<startedAt>#<runId>`, so a pipeline's runs sort by start. */
  run(pipeline: string, startedAt: string, runId: string): LedgerKey {
    return { pk: ledgerKeys.runsOf(pipeline), sk: `${LEDGER_KEY_PREFIX.run}${startedAt}#${runId}` };
  },
  /** The partition of a pipeline's run rows: `PIPELINE#<pipeline>`. */
  runsOf(pipeline: string): string {
    return `${LEDGER_KEY_PREFIX.pipeline}${pipeline}`;
  },
  /** The pipeline a `PIPELINE#<pipeline>` partition key names. */
  pipelineOf(runsPartition: string): string {
    return runsPartition.slice(LEDGER_KEY_PREFIX.pipeline.length);
  },
  /** A task attempt row: `RUN#<runId>` / `TASK#<task>#<attempt, zero-padded>`. */
  attempt(runId: string, task: string, attempt: number): LedgerKey {
    return {
      pk: ledgerKeys.attemptsOf(runId),
      sk: `${LEDGER_KEY_PREFIX.task}${task}#${String(attempt).padStart(ATTEMPT_DIGITS, '0')}`,
    };
  },
  /** The partition of a run's task attempts: `RUN#<runId>`. */
  attemptsOf(runId: string): string {
    return `${LEDGER_KEY_PREFIX.run}${runId}`;
  },
  /** A run key's claim: `RUNKEY#<pipeline>#<runKey>` / `RUNKEY`. */
  claim(pipeline: string, runKey: string): LedgerKey {
    return { pk: `${LEDGER_KEY_PREFIX.runKey}${pipeline}#${runKey}`, sk: LEDGER_SORT_KEY.runKey };
  },
  /** A pipeline's concurrency slots: `SLOTS#<pipeline>` / `SLOTS`. */
  slots(pipeline: string): LedgerKey {
    return { pk: `${LEDGER_KEY_PREFIX.slots}${pipeline}`, sk: LEDGER_SORT_KEY.slots };
  },
  /** A queued run: `QUEUE#<pipeline>` / `<claimedAt>#<runId>`, so the queue sorts by arrival. */
  queued(pipeline: string, claimedAt: string, runId: string): LedgerKey {
    return { pk: ledgerKeys.queueOf(pipeline), sk: `${claimedAt}#${runId}` };
  },
  /** The partition of a pipeline's queue: `QUEUE#<pipeline>`. */
  queueOf(pipeline: string): string {
    return `${LEDGER_KEY_PREFIX.queue}${pipeline}`;
  },
  /** A join's arrivals for one logical time: `JOIN#<pipeline>#<logicalTime>` / `JOIN`. */
  join(pipeline: string, logicalTime: string): LedgerKey {
    return { pk: `${LEDGER_KEY_PREFIX.join}${pipeline}#${logicalTime}`, sk: LEDGER_SORT_KEY.join };
  },
} as const;

/**
 * The environment variables the platform's constructs set on its functions (dispatcher, recorder,
 * reconciler) and those functions read. A pipeline's own settings travel in the dispatcher's
 * `STEPWISE_PIPELINE_<NAME>` variables (`pipelineVariable` in lambdas/dispatcher/config.ts). The task
 * runtime's variables (`STEPWISE_BUCKETS`, `STEPWISE_LOG_LEVEL`, `STEPWISE_LOCAL`) are declared in
 * lambdas/task, which exports them: user handler bundles then carry only those, not this module.
 */
export const PLATFORM_ENVIRONMENT = {
  /** The ledger table's name: dispatcher, recorder and reconciler. */
  ledgerTable: 'LEDGER_TABLE',
  /** The alert topic's ARN: dispatcher, recorder and reconciler. */
  alertTopicArn: 'ALERT_TOPIC_ARN',
  /** The bus the recorder puts "Run Finished" on; `default` when unset. */
  eventBusName: 'EVENT_BUS_NAME',
  /** The reconciler's grace period, in minutes, before it checks a RUNNING run or a CLAIMED claim. */
  reconcileAfterMinutes: 'RECONCILE_AFTER_MINUTES',
  /** `1` where no dispatcher can be mid-start (a local command holds the state dir's lock). */
  reconcileNothingInFlight: 'RECONCILE_NOTHING_IN_FLIGHT',
} as const;

/** Set on every task function to its pipeline's name, so a template (and a test) can tell them apart. */
export const TASK_PIPELINE_VARIABLE = 'STEPWISE_PIPELINE';

/** The ledger's global secondary index that lists runs by status and start time, across pipelines. */
export const STATUS_INDEX = 'byStatus';

/**
 * The stack outputs `StepwisePlatform` adds, by what the CLI calls them. Each `Pipeline` adds one more,
 * `StepwiseStateMachine<PascalName>`: see {@link stateMachineOutputKey}.
 */
export const STACK_OUTPUTS = {
  table: 'StepwiseLedgerTable',
  dispatcher: 'StepwiseDispatcherFunction',
  alertTopic: 'StepwiseAlertTopic',
} as const;

/** The start of each pipeline's state machine output key; the rest is the pipeline's PascalName. */
export const STATE_MACHINE_OUTPUT_PREFIX = 'StepwiseStateMachine';

/** The output key of a pipeline's state machine ARN: `orders-daily` is `StepwiseStateMachineOrdersDaily`. */
export function stateMachineOutputKey(pipeline: string): string {
  return `${STATE_MACHINE_OUTPUT_PREFIX}${pascalName(pipeline)}`;
}

/** `orders-daily` -> `OrdersDaily`: a pipeline name as it appears in output keys. */
export function pascalName(pipeline: string): string {
  return pipeline
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The CloudWatch namespace of the metrics the recorder and dispatcher print as EMF lines. */
export const STEPWISE_NAMESPACE = 'stepwise';

/** The dimension every per-pipeline metric carries: the pipeline's name. */
export const PIPELINE_DIMENSION = 'Pipeline';

/** Metrics the recorder prints once per finished run, with the dimension `Pipeline`. */
export const RUN_METRIC_NAMES = [
  'RunsSucceeded',
  'RunsFailed',
  'RunsQuarantined',
  'RunsTimedOut',
  'TaskRetries',
  'TaskFailures',
  'RunDuration',
] as const;

export type RunMetricName = (typeof RUN_METRIC_NAMES)[number];

/** Metrics the dispatcher prints once per event they count. */
export const DISPATCHER_METRIC_NAMES = [
  'DroppedEvents',
  'DeduplicatedRuns',
  'QueuedRuns',
  'UnstartableRuns',
] as const;

export type DispatcherMetricName = (typeof DISPATCHER_METRIC_NAMES)[number];

/**
 * The event the recorder puts on the default bus when a run ends: downstream pipelines
 * (`afterPipeline`) start on it, and the dispatcher frees the run's concurrency slot.
 */
export const RUN_FINISHED = { source: 'stepwise', detailType: 'Run Finished' } as const;

/**
 * CDK context `stepwise run` synthesizes with: the `Pipeline` construct then bundles each service
 * task's local stand-in, and names the bundles in its state machine's metadata, under
 * `STAND_INS_METADATA`. `cdk deploy` sets neither, so no stand-in is ever deployed.
 */
export const LOCAL_SYNTH_CONTEXT = 'stepwise:local';

/** State machine metadata: `{ [task id]: bundle directory }` of the local stand-ins. */
export const STAND_INS_METADATA = 'stepwise:stand-ins';

/**
 * The Task states that run the parts of a split pipeline are named `Part 1`, `Part 2`, ...: the
 * compiler names them, and the recorder tells them from tasks by it (task ids start lowercase).
 */
export const SPLIT_PART_STATE_PREFIX = 'Part ';

/**
 * CDK context: the definition size past which a pipeline is split into nested state machines (see
 * `lib/compile/split.ts`). Tests set a small one to split a small pipeline.
 */
export const DEFINITION_BUDGET_CONTEXT = 'stepwise:definitionBudget';
