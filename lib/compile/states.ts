import { basename, extname } from 'node:path';
import { LEDGER_KEY_PREFIX, LEDGER_SORT_KEY } from '../names.ts';
import { NESTED_PIPELINE, START_EXECUTION_SYNC } from '../spec/adapters/nested-pipeline.ts';
import { isServiceRun, serviceAdapter } from '../spec/adapters/registry.ts';
import { toSeconds } from '../spec/duration.ts';
import type { LambdaRun, PipelineDefinition, ResolvedRetry, ResolvedTask } from '../spec/types.ts';
import type { Branch, Catcher, JsonObject, Retrier, State, StateMachineDefinition } from './asl.ts';
import {
  adapterSubstitution,
  handlerSubstitution,
  INTEGRATIONS,
  LAMBDA_SERVICE_ERRORS,
  LATCH_ALREADY_DONE,
  NON_RETRYABLE_ERRORS,
  QUARANTINE_ERRORS,
  STALE_TASK_TOKEN,
  SUBSTITUTIONS,
} from './integrations.ts';
import { hasLatches, type LatchedUnit, type Plan, planPipeline, type Step } from './plan.ts';
import {
  DEFINITION_BUDGET,
  deployedDefinitionBytes,
  partStateName,
  partSubstitution,
  SplitError,
  splitPlan,
} from './split.ts';

/** One Lambda function, shared by every task whose handler is the same file. */
export interface CompiledHandler {
  /** Stable name used in construct ids and DefinitionSubstitutions, such as `ingest`. */
  readonly name: string;
  readonly entry: string;
  readonly tasks: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly memoryMb: number;
  /** The longest timeout of the tasks it serves, capped at Lambda's 15 minutes. */
  readonly timeoutSeconds: number;
}

export interface CompiledPipeline {
  readonly pipeline: PipelineDefinition;
  readonly plan: Plan;
  readonly definition: StateMachineDefinition;
  readonly handlers: readonly CompiledHandler[];
  /**
   * The parts of a pipeline too large for one definition, each a state machine of its own that the
   * definition runs with `states:startExecution.sync:2` (see `lib/compile/split.ts`); none otherwise.
   */
  readonly parts: readonly CompiledPart[];
}

/** A part of a split pipeline: the definition of a state machine that runs some of its tasks. */
export interface CompiledPart {
  /** From 1, in plan order: the parent runs it in the state `Part <index>`. */
  readonly index: number;
  readonly definition: StateMachineDefinition;
}

export interface CompileOptions {
  /**
   * The most a definition may take, deployed (see `deployedDefinitionBytes`), before the pipeline is
   * split into nested state machines. A test passes a small one to split a small pipeline.
   * @default DEFINITION_BUDGET
   */
  readonly definitionBudget?: number;
}

/** The states of a part's own state machine, around its tasks. */
const PART_STATE = { run: 'Run part', done: 'Part done', badData: 'Part bad data' } as const;

/** Fixed state names outside the task graph. Task ids are lowercase, so these never collide with them. */
export const STATE = {
  start: 'Start run',
  recordStart: 'Record run start',
  runTasks: 'Run tasks',
  recordSuccess: 'Record run success',
  rejectedByGate: 'Rejected by a gate?',
  gateReason: 'Gate reason',
  parseDataError: 'Parse data error',
  dataErrorReason: 'Data error reason',
  hasS3Input: 'Has S3 input?',
  noS3Input: 'No S3 input',
  quarantineLocation: 'Quarantine location',
  copyToQuarantine: 'Copy to quarantine',
  versionedOriginal: 'Versioned original?',
  deleteOriginalVersion: 'Delete original version',
  deleteOriginal: 'Delete original',
  recordQuarantine: 'Record quarantine',
} as const;

/**
 * A task's params hold a key ending in `.$`. In Parameters, Step Functions reads such a key as a path
 * to evaluate, not as a value to hand over; the spec check refuses it, and the compiler never emits it.
 */
export class ParamPathKeyError extends Error {
  override readonly name = 'ParamPathKeyError';
}

const MAX_STATE_NAME = 80;
const LAMBDA_MAX_TIMEOUT_SECONDS = 900;
const DEFAULT_MEMORY_MB = 512;

/** Compiles a checked pipeline into a Step Functions definition and the functions it needs. */
/**
 * Latches cost states (a wait, a read, a publish, a signal and a wake-up per edge between chains). A
 * definition with latches over this size is compiled without them instead: Step Functions takes at
 * most 1 MB, and the DefinitionSubstitutions (function ARNs in place of placeholders) still add to it.
 */
export const LATCHED_DEFINITION_BUDGET = 800_000;

export function compilePipeline(
  pipeline: PipelineDefinition,
  options: CompileOptions = {},
): CompiledPipeline {
  const budget = options.definitionBudget ?? DEFINITION_BUDGET;
  const fits = (compiled: CompiledPipeline) => deployedDefinitionBytes(compiled.definition) <= budget;
  const plan = planPipeline(pipeline);
  const compiled = compilePlan(pipeline, plan);
  if (!hasLatches(plan.root)) return fits(compiled) ? compiled : compileSplit(pipeline, plan, budget);
  if (
    Buffer.byteLength(JSON.stringify(compiled.definition), 'utf8') <= LATCHED_DEFINITION_BUDGET &&
    fits(compiled)
  )
    return compiled;
  const flat = compilePlan(pipeline, planPipeline(pipeline, { latches: false }));
  return fits(flat) ? flat : compileSplit(pipeline, flat.plan, budget);
}

/** The shares of the budget a part is first cut to: the parts' own states take some room beyond it. */
const PART_SHARES = [0.9, 0.75, 0.6, 0.45];

/**
 * A pipeline over the budget, as a parent definition that runs parts, each a state machine of its own
 * within the budget. Cut finer until every definition fits.
 */
function compileSplit(pipeline: PipelineDefinition, plan: Plan, budget: number): CompiledPipeline {
  const handlers = compiledHandlers(pipeline.tasks);
  const handlerByTask = new Map(handlers.flatMap((h) => h.tasks.map((t) => [t, h.name] as const)));
  const renderer = (parts?: ReadonlyMap<Step, number>) => new StateRenderer(pipeline, handlerByTask, parts);
  const sizes = new Map<Step, number>();
  const size = (step: Step) => {
    const known = sizes.get(step);
    if (known !== undefined) return known;
    const bytes = deployedDefinitionBytes(renderer().partDefinition(step));
    sizes.set(step, bytes);
    return bytes;
  };
  let largest = 0;
  for (const share of PART_SHARES) {
    const split = splitPlan(plan.root, size, Math.floor(budget * share));
    const parts = [...split.parts].map(([step, index]) => ({
      index,
      definition: renderer().partDefinition(step),
    }));
    const definition = renderer(split.parts).render(split.root);
    largest = Math.max(
      deployedDefinitionBytes(definition),
      ...parts.map((p) => deployedDefinitionBytes(p.definition)),
    );
    if (largest <= budget) return { pipeline, plan, definition, handlers, parts };
  }
  throw new SplitError(
    `pipeline '${pipeline.name}' does not fit Step Functions' definition quota even split into nested state machines: its largest definition takes ${largest} bytes, over the budget of ${budget}; split it into several pipelines, run in turn with afterPipeline()`,
  );
}

/** Renders a given plan of the pipeline's tasks; `compilePipeline` passes the one `planPipeline` makes. */
export function compilePlan(pipeline: PipelineDefinition, plan: Plan): CompiledPipeline {
  const handlers = compiledHandlers(pipeline.tasks);
  const handlerByTask = new Map(handlers.flatMap((h) => h.tasks.map((t) => [t, h.name] as const)));
  const renderer = new StateRenderer(pipeline, handlerByTask);
  return { pipeline, plan, definition: renderer.render(plan.root), handlers, parts: [] };
}

export function compiledHandlers(tasks: readonly ResolvedTask[]): CompiledHandler[] {
  const byEntry = new Map<string, { name: string; tasks: LambdaTask[] }>();
  const usedNames = new Set<string>();
  for (const task of tasks) {
    if (!isLambdaTask(task)) continue;
    const existing = byEntry.get(task.run.entry);
    if (existing) {
      existing.tasks.push(task);
      continue;
    }
    const stem = basename(task.run.entry, extname(task.run.entry)).replace(/[^A-Za-z0-9]/g, '') || 'handler';
    let name = stem;
    for (let n = 2; usedNames.has(name); n++) name = `${stem}${n}`;
    usedNames.add(name);
    byEntry.set(task.run.entry, { name, tasks: [task] });
  }
  return [...byEntry].map(([entry, { name, tasks: served }]) => ({
    name,
    entry,
    tasks: served.map((t) => t.id),
    env: Object.assign({}, ...served.map((t) => t.run.env ?? {})),
    memoryMb: Math.max(...served.map((t) => t.run.memoryMb ?? DEFAULT_MEMORY_MB)),
    timeoutSeconds: Math.min(
      LAMBDA_MAX_TIMEOUT_SECONDS,
      Math.max(...served.map((t) => toSeconds(t.timeoutMs, 1))),
    ),
  }));
}

type LambdaTask = ResolvedTask & { readonly run: LambdaRun };

function isLambdaTask(task: ResolvedTask): task is LambdaTask {
  return task.run.kind === 'lambda';
}

interface Fragment {
  readonly startAt: string;
  readonly states: Record<string, State>;
}

const sub = (key: string) => `\${${key}}`;

class StateRenderer {
  private readonly names = new Set<string>(Object.values(STATE));
  private parallelCount = 0;
  private latchCount = 0;
  /** The latch ids in scope (`$.latch1`, ...): each Parallel inside a latched step carries them through. */
  private readonly live: string[] = [];

  constructor(
    private readonly pipeline: PipelineDefinition,
    private readonly handlerByTask: ReadonlyMap<string, string>,
    /** Steps that run as parts, state machines of their own (see `lib/compile/split.ts`). */
    private readonly parts: ReadonlyMap<Step, number> = new Map(),
  ) {}

  /**
   * A part of a split pipeline: its steps in one Parallel branch, as `Run tasks` holds the graph. It
   * gets the run, the ledger key and the results its tasks take from other parts, and returns its
   * results. Bad data ends it successfully with `failure` set, for the parent to quarantine the run
   * with; any other failure fails it, and with it the parent's state that runs it.
   */
  partDefinition(body: Step): StateMachineDefinition {
    const graph = this.branch(body);
    return {
      Comment: `stepwise pipeline '${this.pipeline.name}': part of its tasks (${taskIds(body).length}), run by the pipeline's own state machine`,
      StartAt: PART_STATE.run,
      TimeoutSeconds: toSeconds(this.pipeline.timeoutMs, 1),
      States: {
        [PART_STATE.run]: {
          Type: 'Parallel',
          Branches: [graph],
          ResultSelector: { 'results.$': '$[0].results' },
          Catch: [{ ErrorEquals: QUARANTINE_ERRORS, ResultPath: '$.failure', Next: PART_STATE.badData }],
          Next: PART_STATE.done,
        },
        [PART_STATE.done]: {
          Type: 'Pass',
          Parameters: { 'results.$': '$.results', failure: null },
          End: true,
        },
        [PART_STATE.badData]: {
          Type: 'Pass',
          Parameters: { 'results.$': '$.results', 'failure.$': '$.failure' },
          End: true,
        },
      },
    };
  }

  /** The parent's side of a part: run it and wait, quarantine on its bad data, merge its results. */
  private part(index: number, body: Step, next: string | null): Fragment {
    const name = this.claim(partStateName(index));
    const check = this.claim(`${name}: bad data?`);
    const raise = this.claim(`${name}: raise`);
    const merge = this.claim(`${name}: results`);
    const inside = new Set(taskIds(body));
    const needs = [
      ...new Set(this.pipeline.tasks.filter((t) => inside.has(t.id)).flatMap((t) => t.after)),
    ].filter((id) => !inside.has(id));
    return {
      startAt: name,
      states: {
        [name]: {
          Type: 'Task',
          Comment: `Runs ${inside.size} tasks as a state machine of their own: the definition would pass Step Functions' 1 MB otherwise.`,
          Resource: `arn:${sub(SUBSTITUTIONS.partition)}:states:::${START_EXECUTION_SYNC}`,
          Parameters: {
            StateMachineArn: sub(partSubstitution(index)),
            Input: {
              'run.$': '$.run',
              'ledger.$': '$.ledger',
              results: Object.fromEntries(needs.map((id) => [`${id}.$`, `$.results${pathKey(id)}`])),
              'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
            },
          },
          ResultSelector: { 'results.$': '$.Output.results', 'failure.$': '$.Output.failure' },
          ResultPath: '$.part',
          // A part's failure is its tasks' after their own retries: only a refused start is retried.
          Retry: [NESTED_PIPELINE.serviceRetry],
          Next: check,
        },
        [check]: {
          Type: 'Choice',
          Choices: [{ Variable: '$.part.failure', IsNull: true, Next: merge }],
          Default: raise,
        },
        [raise]: { Type: 'Fail', ErrorPath: '$.part.failure.Error', CausePath: '$.part.failure.Cause' },
        [merge]: {
          Type: 'Pass',
          Parameters: {
            ...this.carried(),
            'results.$': 'States.JsonMerge($.results, $.part.results, false)',
          },
          ...link(next),
        },
      },
    };
  }

  render(root: Step): StateMachineDefinition {
    const graph = this.step(root, null);
    const states: Record<string, State> = {
      [STATE.start]: {
        Type: 'Pass',
        Comment: 'Settle the run state: the run, its ledger key, and an empty map of task results.',
        Parameters: {
          'run.$': '$.run',
          results: {},
          ledger: {
            'pk.$': `States.Format('${LEDGER_KEY_PREFIX.pipeline}{}', $.run.pipeline)`,
            'sk.$': `States.Format('${LEDGER_KEY_PREFIX.run}{}#{}', $$.Execution.StartTime, $$.Execution.Name)`,
          },
        },
        Next: STATE.recordStart,
      },
      [STATE.recordStart]: this.ledgerPut(taskIds(root), STATE.runTasks),
      [STATE.runTasks]: {
        Type: 'Parallel',
        Comment:
          'The task graph, in one branch so that bad data is caught in one place. Any other failure fails the execution at the task, so RedriveExecution runs that task again; the recorder closes the run.',
        Branches: [{ StartAt: graph.startAt, States: graph.states }],
        ...mergeResults(1, []),
        Catch: [
          { ErrorEquals: QUARANTINE_ERRORS, ResultPath: '$.error', Next: STATE.rejectedByGate },
        ] satisfies Catcher[],
        Next: STATE.recordSuccess,
      },
      // A redriven run that succeeds was closed FAILED by the recorder before: it no longer failed.
      [STATE.recordSuccess]: this.ledgerUpdate(
        'SET #status = :status, endedAt = :endedAt REMOVE failedTask, #error, errorCause',
        { ':status': { S: 'SUCCEEDED' } },
        null,
        { '#error': 'error' },
      ),
      ...this.quarantinePath(),
    };
    return {
      Comment: `stepwise pipeline '${this.pipeline.name}'`,
      StartAt: STATE.start,
      TimeoutSeconds: toSeconds(this.pipeline.timeoutMs, 1),
      States: states,
    };
  }

  private step(step: Step, next: string | null): Fragment {
    const part = this.parts.get(step);
    if (part !== undefined) return this.part(part, step, next);
    switch (step.kind) {
      case 'task':
        return this.task(step.task, next);
      case 'sequence': {
        let startAt = next;
        const states: Record<string, State> = {};
        for (const inner of [...step.steps].reverse()) {
          const fragment = this.step(inner, startAt);
          Object.assign(states, fragment.states);
          startAt = fragment.startAt;
        }
        return { startAt: startAt as string, states };
      }
      case 'parallel': {
        if (step.branches.length > 2) {
          // Two branches a Parallel, nested: one States.JsonMerge per Parallel, with no intrinsic
          // nested in another (the local engine evaluates nested intrinsics wrongly).
          const mid = Math.ceil(step.branches.length / 2);
          const half = (branches: readonly Step[]): Step =>
            branches.length === 1 ? (branches[0] as Step) : { kind: 'parallel', branches };
          return this.step(
            {
              kind: 'parallel',
              branches: [half(step.branches.slice(0, mid)), half(step.branches.slice(mid))],
            },
            next,
          );
        }
        const ids = taskIds(step);
        const name = this.uniqueName(`Parallel ${++this.parallelCount}: ${ids.join(', ')}`);
        const branches = step.branches.map((b) => this.branch(b));
        return {
          startAt: name,
          states: {
            [name]: {
              Type: 'Parallel',
              Branches: branches,
              ...mergeResults(branches.length as 1 | 2, this.live),
              ...link(next),
            },
          },
        };
      }
      case 'retryGroup': {
        const name = this.uniqueName(`Retry ${step.from} to ${step.task.id}`);
        return {
          startAt: name,
          states: {
            [name]: {
              Type: 'Parallel',
              Comment: `On failure, '${step.from}' through '${step.task.id}' run again as a group.`,
              Branches: [this.branch(step.body)],
              ...mergeResults(1, this.live),
              Retry: [noRetry(), policyRetry(step.task.retry)],
              ...link(next),
            },
          },
        };
      }
      case 'latched':
        return this.latched(step.chains, next);
    }
  }

  /**
   * Chains side by side, in Parallel states of two branches as above, after a state that opens a new
   * latch: an id of its own, so a retry group that runs again starts from an empty latch, while a
   * redrive (which does not run the opening state again) finds what finished before it.
   */
  private latched(chains: readonly (readonly LatchedUnit[])[], next: string | null): Fragment {
    const field = `latch${++this.latchCount}`;
    const open = this.uniqueName(`Open latch ${this.latchCount}`);
    const key = this.uniqueName(`Key latch ${this.latchCount}`);
    this.live.push(field);
    const branches = chains.map((chain) => this.latchChain(chain, field));
    const joined = this.parallelOfBranches(branches, next);
    this.live.pop();
    return {
      startAt: open,
      states: {
        [open]: {
          Type: 'Pass',
          Comment:
            "Chains side by side. A unit waits for other chains through a latch in the ledger: its wait stores a task token unless what it waits for is done (the write's condition fails, and it goes on); the unit that finishes last returns the token. Outputs go through the latch too.",
          Parameters: { 'id.$': 'States.UUID()' },
          ResultPath: `$.${field}`,
          Next: key,
        },
        [key]: {
          Type: 'Pass',
          Parameters: { 'pk.$': `States.Format('${LEDGER_KEY_PREFIX.latch}{}', $.${field}.id)` },
          ResultPath: `$.${field}`,
          Next: joined.startAt,
        },
        ...joined.states,
      },
    };
  }

  private parallelOfBranches(branches: readonly Branch[], next: string | null): Fragment {
    if (branches.length === 1) {
      const only = branches[0] as Branch;
      if (next === null) return { startAt: only.StartAt, states: only.States };
    }
    if (branches.length > 2) {
      const mid = Math.ceil(branches.length / 2);
      const half = (part: readonly Branch[]): Branch => {
        if (part.length === 1) return part[0] as Branch;
        const inner = this.parallelOfBranches(part, null);
        return { StartAt: inner.startAt, States: inner.states };
      };
      return this.parallelOfBranches([half(branches.slice(0, mid)), half(branches.slice(mid))], next);
    }
    const name = this.uniqueName(`Parallel ${++this.parallelCount}: latched chains`);
    return {
      startAt: name,
      states: {
        [name]: {
          Type: 'Parallel',
          Branches: [...branches],
          ...mergeResults(branches.length as 1 | 2, this.live),
          ...link(next),
        },
      },
    };
  }

  /** One chain: each unit, with its wait and reads before it and its publish and wake-ups after it. */
  private latchChain(chain: readonly LatchedUnit[], field: string): Branch {
    let next: string | null = null;
    const states: Record<string, State> = {};
    for (const unit of [...chain].reverse()) {
      const after = this.latchSignal(unit, field, next, states);
      // A task takes what it read from `$.latched`; a retry group's tasks read `$.results`, into which
      // a Pass merges what the group read.
      const body =
        unit.step.kind === 'task'
          ? this.task(unit.step.task, after, new Set(unit.reads))
          : this.step(unit.step, after);
      Object.assign(states, body.states);
      next = this.latchWait(unit, field, body.startAt, unit.step.kind !== 'task', states);
    }
    return { StartAt: next as string, States: states };
  }

  /** The latch item's key: `LATCH#<id>` with `WAIT` (done flags, task tokens) or `OUT` (outputs). */
  private latchKey(field: string, item: 'latchWait' | 'latchOutputs'): JsonObject {
    return { pk: { 'S.$': `$.${field}.pk` }, sk: { S: LEDGER_SORT_KEY[item] } };
  }

  /** Before a unit: wait until what it waits for is done, then read the outputs it takes from other chains. */
  private latchWait(
    unit: LatchedUnit,
    field: string,
    start: string,
    mergeReads: boolean,
    states: Record<string, State>,
  ): string {
    if (unit.reads.length === 0) return start;
    const read = this.uniqueName(`${unit.key}: read inputs`);
    const merge = mergeReads ? this.uniqueName(`${unit.key}: merge inputs`) : start;
    const outNames = Object.fromEntries(unit.reads.map((id, i) => [`#o${i}`, `out:${id}`]));
    states[read] = {
      Type: 'Task',
      Resource: INTEGRATIONS.dynamodbGetItem,
      Parameters: {
        TableName: sub(SUBSTITUTIONS.ledgerTable),
        Key: this.latchKey(field, 'latchOutputs'),
        ConsistentRead: true,
        ProjectionExpression: Object.keys(outNames).join(', '),
        ExpressionAttributeNames: outNames,
      },
      ResultSelector: Object.fromEntries(
        unit.reads.map((id) => [`${id}.$`, `States.StringToJson($.Item['out:${id}'].S)`]),
      ),
      ResultPath: '$.latched',
      Retry: [integrationRetry()],
      Next: merge,
    };
    if (mergeReads)
      states[merge] = {
        Type: 'Pass',
        Parameters: {
          ...this.carried(),
          'results.$': 'States.JsonMerge($.results, $.latched, false)',
        },
        Next: start,
      };
    if (unit.waitsFor.length === 0) return read;
    const wait = this.uniqueName(`${unit.key}: wait`);
    const doneNames = Object.fromEntries(unit.waitsFor.map((key, i) => [`#d${i}`, `done:${key}`]));
    states[wait] = {
      Type: 'Task',
      Resource: INTEGRATIONS.latchWait,
      Parameters: {
        TableName: sub(SUBSTITUTIONS.ledgerTable),
        Key: this.latchKey(field, 'latchWait'),
        UpdateExpression: 'SET #wait = :token, expiresAt = :expiresAt',
        ConditionExpression: Object.keys(doneNames)
          .map((name) => `attribute_not_exists(${name})`)
          .join(' OR '),
        ExpressionAttributeNames: { '#wait': `wait:${unit.key}`, ...doneNames },
        ExpressionAttributeValues: {
          ':token': { 'S.$': '$$.Task.Token' },
          ':expiresAt': { 'N.$': '$.run.expiresAt' },
        },
      },
      ResultPath: null,
      Retry: [{ ErrorEquals: LATCH_ALREADY_DONE, MaxAttempts: 0 }, integrationRetry()],
      Catch: [{ ErrorEquals: LATCH_ALREADY_DONE, ResultPath: null, Next: read }] satisfies Catcher[],
      Next: read,
    };
    return wait;
  }

  /**
   * After a unit: publish the outputs other chains read, mark the unit done, and wake each waiting
   * unit whose waits are now all done. The done flag is written after the outputs, and the latch item
   * is read back in the same write, so a waiter either sees the flag (and goes on) or has stored its
   * token before the write (and is woken): no wake-up is lost.
   */
  private latchSignal(
    unit: LatchedUnit,
    field: string,
    next: string | null,
    states: Record<string, State>,
  ): string | null {
    let after = next;
    if (unit.wakes.length > 0) {
      if (after === null) {
        after = this.uniqueName(`${unit.key}: signalled`);
        states[after] = { Type: 'Succeed' };
      }
      for (const waiter of [...unit.wakes].reverse()) {
        const ready = this.uniqueName(`${unit.key}: wake ${waiter.key}?`);
        const wake = this.uniqueName(`${unit.key}: wake ${waiter.key}`);
        states[ready] = {
          Type: 'Choice',
          Choices: [
            {
              And: [
                { Variable: `$.signal.Attributes['wait:${waiter.key}']`, IsPresent: true },
                ...waiter.waitsFor.map((key) => ({
                  Variable: `$.signal.Attributes['done:${key}']`,
                  IsPresent: true,
                })),
              ],
              Next: wake,
            },
          ],
          Default: after,
        };
        states[wake] = {
          Type: 'Task',
          Resource: INTEGRATIONS.sendTaskSuccess,
          Parameters: { 'TaskToken.$': `$.signal.Attributes['wait:${waiter.key}'].S`, Output: '{}' },
          ResultPath: null,
          Retry: [{ ErrorEquals: STALE_TASK_TOKEN, MaxAttempts: 0 }, integrationRetry()],
          Catch: [{ ErrorEquals: STALE_TASK_TOKEN, ResultPath: null, Next: after }] satisfies Catcher[],
          Next: after,
        };
        after = ready;
      }
      const signal = this.uniqueName(`${unit.key}: signal`);
      states[signal] = {
        Type: 'Task',
        Resource: INTEGRATIONS.dynamodbUpdateItem,
        Parameters: {
          TableName: sub(SUBSTITUTIONS.ledgerTable),
          Key: this.latchKey(field, 'latchWait'),
          UpdateExpression: 'SET #done = :done, expiresAt = :expiresAt',
          ExpressionAttributeNames: { '#done': `done:${unit.key}` },
          ExpressionAttributeValues: {
            ':done': { BOOL: true },
            ':expiresAt': { 'N.$': '$.run.expiresAt' },
          },
          ReturnValues: 'ALL_NEW',
        },
        ResultSelector: { 'Attributes.$': '$.Attributes' },
        ResultPath: '$.signal',
        Retry: [integrationRetry()],
        Next: after,
      };
      after = signal;
    }
    if (unit.publishes.length > 0) {
      const publish = this.uniqueName(`${unit.key}: publish`);
      const names = Object.fromEntries(unit.publishes.map((id, i) => [`#o${i}`, `out:${id}`]));
      states[publish] = {
        Type: 'Task',
        Resource: INTEGRATIONS.dynamodbUpdateItem,
        Parameters: {
          TableName: sub(SUBSTITUTIONS.ledgerTable),
          Key: this.latchKey(field, 'latchOutputs'),
          UpdateExpression: `SET ${unit.publishes.map((_, i) => `#o${i} = :o${i}`).join(', ')}, expiresAt = :expiresAt`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ...Object.fromEntries(
              unit.publishes.map((id, i) => [
                `:o${i}`,
                { 'S.$': `States.JsonToString($.results${pathKey(id)})` },
              ]),
            ),
            ':expiresAt': { 'N.$': '$.run.expiresAt' },
          },
        },
        ResultPath: null,
        Retry: [integrationRetry()],
        ...link(after),
      };
      after = publish;
    }
    return after;
  }

  /** What a Pass that rebuilds the run state keeps besides the results. */
  private carried(): JsonObject {
    return {
      'run.$': '$.run',
      'ledger.$': '$.ledger',
      ...Object.fromEntries(this.live.map((field) => [`${field}.$`, `$.${field}`])),
    };
  }

  private branch(step: Step): Branch {
    const fragment = this.step(step, null);
    return { StartAt: fragment.startAt, States: fragment.states };
  }

  /**
   * @param latched dependencies whose outputs the task takes from `$.latched` (read from a latch), not
   * from `$.results`.
   */
  private task(task: ResolvedTask, next: string | null, latched: ReadonlySet<string> = new Set()): Fragment {
    const resultPath = `$.results${pathKey(task.id)}`;
    const ownRetry = task.retryFrom === undefined ? [policyRetry(task.retry)] : [];
    const states: Record<string, State> = {};
    const afterTask = task.gate ? this.claim(`${task.id} passed?`) : next;
    // Bad data (a DataError, or the gate's verdict) records the task on the run row, then raises the
    // error unchanged for `Run tasks` to quarantine. Nothing else is caught: any other failure fails the
    // execution here, at the task, which is the step RedriveExecution runs again.
    const badData = task.critical ? this.claim(`${task.id} bad data`) : '';
    const raise = task.critical ? this.claim(`${task.id} raise`) : '';

    const catchers: Catcher[] = task.critical
      ? [{ ErrorEquals: QUARANTINE_ERRORS, ResultPath: '$.failure', Next: badData }]
      : [{ ErrorEquals: ['States.ALL'], ResultPath: resultPath, Next: this.claim(`${task.id} warning`) }];

    const { run } = task;
    const call = isServiceRun(run)
      ? {
          // A service's request, from the adapter; its result is the service's small result.
          ...serviceAdapter(run).state(run, {
            task,
            pipeline: this.pipeline.name,
            substitution: (key) => sub(adapterSubstitution(task.id, key)),
          }),
          Retry: [noRetry(), serviceAdapter(run).serviceRetry, ...ownRetry],
        }
      : {
          Resource: sub(handlerSubstitution(this.handlerByTask.get(task.id) as string)),
          Parameters: {
            'run.$': '$.run',
            task: task.id,
            gate: task.gate,
            inputs: Object.fromEntries(
              task.after.map((dep) => [
                `${dep}.$`,
                `$.${latched.has(dep) ? 'latched' : 'results'}${pathKey(dep)}`,
              ]),
            ),
            params: literalParams(task),
            'retryCount.$': '$$.State.RetryCount',
          },
          Retry: [noRetry(), lambdaServiceRetry(), ...ownRetry],
        };
    states[task.id] = {
      Type: 'Task',
      Resource: call.Resource,
      Parameters: call.Parameters,
      ...('ResultSelector' in call && call.ResultSelector ? { ResultSelector: call.ResultSelector } : {}),
      ResultPath: resultPath,
      TimeoutSeconds: toSeconds(task.timeoutMs, 1),
      Retry: call.Retry,
      Catch: catchers,
      ...link(afterTask),
    };

    if (task.critical) {
      states[badData] = this.ledgerUpdate(
        'SET failedTask = :task, #error = :error, errorCause = :cause',
        {
          ':task': { S: task.id },
          ':error': { 'S.$': '$.failure.Error' },
          ':cause': { 'S.$': '$.failure.Cause' },
        },
        raise,
        { '#error': 'error' },
      );
      states[raise] = { Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' };
    } else {
      // The recorder alerts on the warning when the run ends; it reads the error from the history.
      states[`${task.id} warning`] = this.ledgerUpdate(
        'ADD warnings :task',
        { ':task': { SS: [task.id] } },
        next,
      );
    }

    if (task.gate) {
      const rejected = this.claim(`${task.id} rejected`);
      const unexplained = this.claim(`${task.id} no reason`);
      const passed = next ?? this.claim(`${task.id} done`);
      states[afterTask as string] = {
        Type: 'Choice',
        Choices: [
          { Variable: `${resultPath}.pass`, BooleanEquals: true, Next: passed },
          // A path that points nowhere is a States.Runtime error, which no Catch sees: check first.
          { Variable: `${resultPath}.reason`, IsPresent: true, Next: rejected },
        ],
        Default: unexplained,
      };
      states[unexplained] = gateRejection(
        { Cause: `gate '${task.id}' returned pass: false without a reason` },
        badData,
      );
      if (next === null) states[passed] = { Type: 'Succeed' };
      states[rejected] = gateRejection({ 'Cause.$': `${resultPath}.reason` }, badData);
    }
    return { startAt: task.id, states };
  }

  private quarantinePath(): Record<string, State> {
    const { prefix, bucket } = this.pipeline.quarantine;
    return {
      [STATE.rejectedByGate]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.error.Error', StringEquals: 'GateRejected', Next: STATE.gateReason }],
        Default: STATE.parseDataError,
      },
      [STATE.gateReason]: {
        Type: 'Pass',
        Parameters: { 'reason.$': '$.error.Cause' },
        ResultPath: '$.quarantine',
        Next: STATE.hasS3Input,
      },
      [STATE.parseDataError]: {
        Type: 'Pass',
        Comment: "A DataError's cause is the Lambda error as JSON; its message is the reason.",
        Parameters: { 'detail.$': 'States.StringToJson($.error.Cause)' },
        ResultPath: '$.dataError',
        Next: STATE.dataErrorReason,
      },
      [STATE.dataErrorReason]: {
        Type: 'Pass',
        Parameters: { 'reason.$': '$.dataError.detail.errorMessage' },
        ResultPath: '$.quarantine',
        Next: STATE.hasS3Input,
      },
      [STATE.hasS3Input]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.run.trigger.type', StringEquals: 's3', Next: STATE.quarantineLocation }],
        Default: STATE.noS3Input,
      },
      [STATE.noS3Input]: {
        Type: 'Pass',
        Comment: 'Nothing to move: the run is still quarantined with its reason.',
        Parameters: { 'reason.$': '$.quarantine.reason', bucket: '', key: '' },
        ResultPath: '$.quarantine',
        Next: STATE.recordQuarantine,
      },
      [STATE.quarantineLocation]: {
        Type: 'Pass',
        Parameters: {
          'reason.$': '$.quarantine.reason',
          // A named quarantine bucket is the spec's short name: the construct substitutes the real one.
          ...(bucket === undefined
            ? { 'bucket.$': '$.run.trigger.bucket' }
            : { bucket: sub(SUBSTITUTIONS.quarantineBucket) }),
          'key.$': `States.Format('${escapeFormat(prefix)}{}', $.run.trigger.key)`,
        },
        ResultPath: '$.quarantine',
        Next: STATE.copyToQuarantine,
      },
      [STATE.copyToQuarantine]: {
        Type: 'Task',
        Resource: INTEGRATIONS.s3CopyObject,
        Parameters: {
          'Bucket.$': '$.quarantine.bucket',
          'Key.$': '$.quarantine.key',
          'CopySource.$': '$.run.trigger.copySource',
        },
        ResultPath: null,
        Retry: [integrationRetry()],
        Next: STATE.versionedOriginal,
      },
      [STATE.versionedOriginal]: {
        Type: 'Choice',
        Comment:
          'The copy took the version that triggered the run; delete that version, not a newer upload of the key.',
        Choices: [
          { Variable: '$.run.trigger.versionId', IsPresent: true, Next: STATE.deleteOriginalVersion },
        ],
        Default: STATE.deleteOriginal,
      },
      [STATE.deleteOriginalVersion]: {
        Type: 'Task',
        Resource: INTEGRATIONS.s3DeleteObject,
        Parameters: {
          'Bucket.$': '$.run.trigger.bucket',
          'Key.$': '$.run.trigger.key',
          'VersionId.$': '$.run.trigger.versionId',
        },
        ResultPath: null,
        Retry: [integrationRetry()],
        Next: STATE.recordQuarantine,
      },
      [STATE.deleteOriginal]: {
        Type: 'Task',
        Resource: INTEGRATIONS.s3DeleteObject,
        Parameters: { 'Bucket.$': '$.run.trigger.bucket', 'Key.$': '$.run.trigger.key' },
        ResultPath: null,
        Retry: [integrationRetry()],
        Next: STATE.recordQuarantine,
      },
      [STATE.recordQuarantine]: this.ledgerUpdate(
        'SET #status = :status, endedAt = :endedAt, reason = :reason, quarantineBucket = :bucket, quarantineKey = :key',
        {
          ':status': { S: 'QUARANTINED' },
          ':reason': { 'S.$': '$.quarantine.reason' },
          ':bucket': { 'S.$': '$.quarantine.bucket' },
          ':key': { 'S.$': '$.quarantine.key' },
        },
        null,
      ),
    };
  }

  /**
   * The run row, written first: the state machine, not the best-effort status event, opens the run.
   * `tasks` lists the task ids in plan order, so a report can show tasks that never started.
   */
  private ledgerPut(tasks: readonly string[], next: string): State {
    return {
      Type: 'Task',
      Resource: INTEGRATIONS.dynamodbPutItem,
      Parameters: {
        TableName: sub(SUBSTITUTIONS.ledgerTable),
        Item: {
          pk: { 'S.$': '$.ledger.pk' },
          sk: { 'S.$': '$.ledger.sk' },
          kind: { S: 'run' },
          pipeline: { 'S.$': '$.run.pipeline' },
          runId: { 'S.$': '$.run.id' },
          status: { S: 'RUNNING' },
          startedAt: { 'S.$': '$$.Execution.StartTime' },
          logicalTime: { 'S.$': '$.run.logicalTime' },
          runKey: { 'S.$': '$.run.key' },
          trigger: { 'S.$': 'States.JsonToString($.run.trigger)' },
          executionArn: { 'S.$': '$$.Execution.Id' },
          // Epoch seconds as a string, from the dispatcher: the run's start plus the pipeline's retention.
          expiresAt: { 'N.$': '$.run.expiresAt' },
          tasks: { L: tasks.map((id) => ({ S: id })) },
        },
      },
      ResultPath: null,
      Retry: [integrationRetry()],
      Next: next,
    };
  }

  private ledgerUpdate(
    expression: string,
    values: JsonObject,
    next: string | null,
    extraNames: Record<string, string> = {},
  ): State {
    const usesStatus = expression.includes('#status');
    const usesEnd = expression.includes(':endedAt');
    const names = { ...(usesStatus ? { '#status': 'status' } : {}), ...extraNames };
    return {
      Type: 'Task',
      Resource: INTEGRATIONS.dynamodbUpdateItem,
      Parameters: {
        TableName: sub(SUBSTITUTIONS.ledgerTable),
        Key: { pk: { 'S.$': '$.ledger.pk' }, sk: { 'S.$': '$.ledger.sk' } },
        UpdateExpression: expression,
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: {
          ...values,
          ...(usesEnd ? { ':endedAt': { 'S.$': '$$.State.EnteredTime' } } : {}),
        },
      },
      ResultPath: null,
      Retry: [integrationRetry()],
      ...link(next),
    };
  }

  private claim(name: string): string {
    if (name.length > MAX_STATE_NAME || this.names.has(name))
      throw new Error(`state name '${name}' is taken or too long`);
    this.names.add(name);
    return name;
  }

  private uniqueName(base: string): string {
    let name = base.length > MAX_STATE_NAME ? `${base.slice(0, MAX_STATE_NAME - 1)}…` : base;
    for (let n = 2; this.names.has(name); n++) name = `${base.slice(0, MAX_STATE_NAME - 6)} #${n}`;
    this.names.add(name);
    return name;
  }
}

/** A gate's verdict as the error its task raises: GateRejected, with the reason as the cause. */
function gateRejection(cause: JsonObject, next: string): State {
  return {
    Type: 'Pass',
    Parameters: { Error: 'GateRejected', ...cause },
    ResultPath: '$.failure',
    Next: next,
  };
}

/** The task's params, refused if any key, at any depth, would be read as a path. */
function literalParams(task: ResolvedTask): Readonly<Record<string, unknown>> {
  const check = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) check(item, `${path}[${i}]`);
    } else if (value !== null && typeof value === 'object')
      for (const [key, inner] of Object.entries(value)) {
        if (key.endsWith('.$'))
          throw new ParamPathKeyError(
            `tasks.${task.id}.${path}.${key}: a params key ending in '.$' would be read by Step Functions as a path, not passed to the handler; rename the key`,
          );
        check(inner, `${path}.${key}`);
      }
  };
  check(task.params, 'params');
  return task.params;
}

function link(next: string | null): { Next: string } | { End: true } {
  return next === null ? { End: true } : { Next: next };
}

/**
 * Parallel branches each return the whole run state; merge their results back into one, and keep the
 * ids of the latches in scope.
 */
function mergeResults(branchCount: 1 | 2, latches: readonly string[]): JsonObject {
  // ResultPath is left out, which means "$": the selected result replaces the state.
  const results = branchCount === 1 ? '$[0].results' : 'States.JsonMerge($[0].results, $[1].results, false)';
  return {
    ResultSelector: {
      'run.$': '$[0].run',
      'ledger.$': '$[0].ledger',
      ...Object.fromEntries(latches.map((field) => [`${field}.$`, `$[0].${field}`])),
      'results.$': results,
    },
  };
}

function noRetry(): Retrier {
  return { ErrorEquals: NON_RETRYABLE_ERRORS, MaxAttempts: 0 };
}

function lambdaServiceRetry(): Retrier {
  return { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2 };
}

function integrationRetry(): Retrier {
  return { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 };
}

function policyRetry(retry: ResolvedRetry): Retrier {
  return {
    ErrorEquals: ['States.ALL'],
    IntervalSeconds: toSeconds(retry.intervalMs, 1),
    MaxAttempts: retry.attempts - 1,
    BackoffRate: retry.backoff,
    ...(retry.maxDelayMs === undefined ? {} : { MaxDelaySeconds: toSeconds(retry.maxDelayMs, 1) }),
    JitterStrategy: retry.jitter === 'full' ? 'FULL' : 'NONE',
  };
}

function taskIds(step: Step): string[] {
  switch (step.kind) {
    case 'task':
      return [step.task.id];
    case 'sequence':
      return step.steps.flatMap(taskIds);
    case 'parallel':
      return step.branches.flatMap(taskIds);
    case 'retryGroup':
      return taskIds(step.body);
    case 'latched':
      return step.chains.flatMap((chain) => chain.flatMap((unit) => taskIds(unit.step)));
  }
}

/** `.name` for plain ids, `['name']` for ids a dotted JSONPath cannot hold. */
function pathKey(id: string): string {
  return /^[a-z][a-z0-9_]*$/.test(id) ? `.${id}` : `['${id}']`;
}

/** States.Format treats `'{}\` as special; escape them in literal text. */
function escapeFormat(text: string): string {
  return text.replace(/[\\'{}]/g, (c) => `\\${c}`);
}
