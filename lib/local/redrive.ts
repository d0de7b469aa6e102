import type { Branch, State, StateMachineDefinition } from '../compile/asl.ts';

/**
 * RedriveExecution, as the Step Functions documentation states it: "it continues the failed execution
 * from the unsuccessful step and uses the same input. Step Functions preserves the results and
 * execution history of the successful steps, and doesn't rerun these steps", and "for workflows that
 * include an Inline Map or Parallel state, RedriveExecution reschedules and redrives only the
 * iterations and branches that failed or aborted". A state is unsuccessful when the history has its
 * `*StateEntered` event and no `*StateExited` after it.
 *
 * aws-local-stepfunctions has no redrive, so the local engine runs a definition built for it: the
 * same machine, started at the unsuccessful state with that state's saved input. A Parallel on the way
 * keeps its branches: one that succeeded becomes a Pass state returning its saved output, one that
 * failed or was cut short starts at its own unsuccessful state, recursively. The states added for this
 * are named with `REDRIVE_PREFIX`; the engine leaves them out of the history, as AWS runs no state for
 * what it preserves.
 *
 * Attempt numbers: the handler's `ctx.attempt` is `$$.State.RetryCount + 1`, the try under the task's
 * retry policy. A redrive enters the state again, so its retrier starts over and `ctx.attempt` is 1
 * again, here as on AWS. The ledger numbers every try of the run across redrives (the recorder counts
 * them from the one history). They cannot agree without the count of earlier tries, which the context
 * object does not carry (it has `$$.Execution.RedriveCount`, not the attempts before it).
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html
 * @see https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html
 */
export interface RedrivePlan {
  /** The definition to run: it starts at the unsuccessful state. */
  readonly definition: StateMachineDefinition;
  /** That state's input, as the history saved it. */
  readonly input: unknown;
  /** The unsuccessful state of each scope, outermost first: where the redrive resumes. */
  readonly resumesAt: readonly string[];
}

/** The slice of a history event that a redrive reads. */
export interface RedriveHistoryEvent {
  readonly id: number;
  readonly type: string;
  readonly stateEnteredEventDetails?: { readonly name?: string; readonly input?: string };
  readonly stateExitedEventDetails?: { readonly name?: string; readonly output?: string };
}

/** Names of the states a redrive adds; no compiled state starts this way. */
export const REDRIVE_PREFIX = 'Redrive: ';

export function isRedriveState(name: string): boolean {
  return name.startsWith(REDRIVE_PREFIX);
}

/** The execution cannot be redriven: the history shows no unsuccessful state to resume at. */
export class NothingToRedriveError extends Error {
  override readonly name = 'NothingToRedriveError';
}

interface StateRecord {
  /** The id of its last Entered event. */
  readonly enteredId: number;
  readonly input: unknown;
  /** Whether an Exited event followed that last Entered event. */
  readonly exited: boolean;
  readonly output: unknown;
}

type Scope = Branch;

export function redriveDefinition(
  definition: StateMachineDefinition,
  events: readonly RedriveHistoryEvent[],
): RedrivePlan {
  const records = stateRecords(events);
  const resumesAt: string[] = [];
  const failed = unsuccessfulState(definition, records);
  if (failed === undefined)
    throw new NothingToRedriveError(
      'the execution history has no unsuccessful state (one entered and never exited) to redrive from; start a new run instead',
    );
  const scope = resume(definition, failed, records, resumesAt);
  return {
    definition: { ...definition, StartAt: scope.StartAt, States: scope.States },
    input: (records.get(failed) as StateRecord).input,
    resumesAt,
  };
}

/** The last Entered event of each state, with its input, and whether the state exited after it. */
function stateRecords(events: readonly RedriveHistoryEvent[]): Map<string, StateRecord> {
  const records = new Map<string, StateRecord>();
  for (const event of [...events].sort((a, b) => a.id - b.id)) {
    const entered = event.stateEnteredEventDetails;
    const exited = event.stateExitedEventDetails;
    if (event.type.endsWith('StateEntered') && entered?.name !== undefined) {
      records.set(entered.name, {
        enteredId: event.id,
        input: parse(entered.input),
        exited: false,
        output: undefined,
      });
    } else if (event.type.endsWith('StateExited') && exited?.name !== undefined) {
      const record = records.get(exited.name);
      if (record) records.set(exited.name, { ...record, exited: true, output: parse(exited.output) });
    }
  }
  return records;
}

/** The state of this scope entered last and never exited, if any. */
function unsuccessfulState(scope: Scope, records: ReadonlyMap<string, StateRecord>): string | undefined {
  let found: { name: string; enteredId: number } | undefined;
  for (const name of Object.keys(scope.States)) {
    const record = records.get(name);
    if (record && !record.exited && (!found || record.enteredId > found.enteredId))
      found = { name, enteredId: record.enteredId };
  }
  return found?.name;
}

/** The scope started at its unsuccessful state, which is itself redriven; unreachable states dropped. */
function resume(
  scope: Scope,
  failed: string,
  records: ReadonlyMap<string, StateRecord>,
  resumesAt: string[],
): Scope {
  resumesAt.push(failed);
  const state = scope.States[failed] as State;
  const states = { ...scope.States, [failed]: redriveState(state, records, resumesAt) };
  return { StartAt: failed, States: reachableFrom(failed, states) };
}

function redriveState(state: State, records: ReadonlyMap<string, StateRecord>, resumesAt: string[]): State {
  if (state.Type !== 'Parallel') return state;
  const branches = (state.Branches as Scope[]).map((branch) => redriveBranch(branch, records, resumesAt));
  return { ...state, Branches: branches };
}

/**
 * A branch that finished keeps its output; one that failed or was cut short resumes where it stopped,
 * with that state's saved input; one that never started runs whole.
 */
function redriveBranch(branch: Scope, records: ReadonlyMap<string, StateRecord>, resumesAt: string[]): Scope {
  const failed = unsuccessfulState(branch, records);
  if (failed === undefined) {
    const output = branchOutput(branch, records);
    if (output === undefined) return branch;
    const kept = `${REDRIVE_PREFIX}kept ${branch.StartAt}`;
    return { StartAt: kept, States: { [kept]: { Type: 'Pass', Result: output.value, End: true } } };
  }
  const resumed = resume(branch, failed, records, resumesAt);
  if (failed === branch.StartAt) return resumed;
  // The branch's input is the Parallel's; the state it resumes at had its own.
  const input = `${REDRIVE_PREFIX}input of ${failed}`;
  return {
    StartAt: input,
    States: {
      [input]: { Type: 'Pass', Result: (records.get(failed) as StateRecord).input, Next: failed },
      ...resumed.States,
    },
  };
}

/** What a finished branch returned: the output of the end state it exited last. */
function branchOutput(
  branch: Scope,
  records: ReadonlyMap<string, StateRecord>,
): { readonly value: unknown } | undefined {
  let last: StateRecord | undefined;
  for (const [name, state] of Object.entries(branch.States)) {
    const ends = state.End === true || state.Type === 'Succeed';
    const record = records.get(name);
    if (ends && record?.exited && (!last || record.enteredId > last.enteredId)) last = record;
  }
  return last && { value: last.output };
}

function reachableFrom(start: string, states: Record<string, State>): Record<string, State> {
  const kept: Record<string, State> = {};
  const queue = [start];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    const state = states[name];
    if (state === undefined || name in kept) continue;
    kept[name] = state;
    if (typeof state.Next === 'string') queue.push(state.Next);
    if (typeof state.Default === 'string') queue.push(state.Default);
    for (const choice of (state.Choices as { Next: string }[] | undefined) ?? []) queue.push(choice.Next);
    for (const catcher of (state.Catch as { Next: string }[] | undefined) ?? []) queue.push(catcher.Next);
  }
  return kept;
}

function parse(json: string | undefined): unknown {
  if (json === undefined) return null;
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}
