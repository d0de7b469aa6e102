import { createRequire } from 'node:module';
import type { State, StateMachineDefinition } from '../../lib/compile/asl.ts';

interface Scope {
  readonly StartAt: string;
  readonly States: Record<string, State>;
}

export interface FoundState {
  readonly name: string;
  readonly state: State;
  /** Names of the Parallel states this one sits inside, outermost first. */
  readonly within: readonly string[];
}

/** Every state of a definition, those inside Parallel branches included. */
export function allStates(definition: Scope): FoundState[] {
  const found: FoundState[] = [];
  const walk = (scope: Scope, within: readonly string[]) => {
    for (const [name, state] of Object.entries(scope.States)) {
      found.push({ name, state, within });
      for (const branch of (state.Branches as Scope[] | undefined) ?? []) walk(branch, [...within, name]);
    }
  };
  walk(definition, []);
  return found;
}

/** The states of the task graph: the one branch of the 'Run tasks' Parallel. */
export function taskGraph(definition: StateMachineDefinition): Scope {
  const branches = definition.States['Run tasks']?.Branches as Scope[] | undefined;
  if (branches?.length !== 1) throw new Error("expected 'Run tasks' to be a Parallel with one branch");
  return branches[0] as Scope;
}

/**
 * What Step Functions would refuse, checked offline: names unique across the whole machine and at most
 * 80 characters, every transition to a state of the same scope, every state reachable from StartAt,
 * and every state either terminal or going on.
 */
export function structuralProblems(definition: Scope): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { name } of allStates(definition)) {
    if (seen.has(name)) problems.push(`'${name}' is used twice`);
    seen.add(name);
    if ([...name].length > 80) problems.push(`'${name}' is longer than 80 characters`);
  }
  const checkScope = (scope: Scope, where: string) => {
    const names = new Set(Object.keys(scope.States));
    if (!names.has(scope.StartAt)) problems.push(`${where}: StartAt '${scope.StartAt}' is not a state`);
    const reachable = new Set<string>();
    const queue = [scope.StartAt];
    while (queue.length > 0) {
      const name = queue.pop() as string;
      if (reachable.has(name) || !names.has(name)) continue;
      reachable.add(name);
      const state = scope.States[name] as State;
      const targets = transitions(state);
      for (const target of targets) {
        if (!names.has(target))
          problems.push(`${where}: '${name}' goes to '${target}', which is not in its scope`);
        queue.push(target);
      }
      const terminal = state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true;
      if (state.Type !== 'Choice' && !terminal && state.Next === undefined) {
        problems.push(`${where}: '${name}' neither ends nor goes on`);
      }
      if (state.Type === 'Choice' && state.Default === undefined) {
        problems.push(`${where}: Choice '${name}' has no Default, so an unmatched value fails the run`);
      }
      for (const [index, branch] of ((state.Branches as Scope[] | undefined) ?? []).entries()) {
        checkScope(branch, `${name} branch ${index}`);
      }
    }
    for (const name of names) if (!reachable.has(name)) problems.push(`${where}: '${name}' is unreachable`);
  };
  checkScope(definition, 'top');
  return problems;
}

function transitions(state: State): string[] {
  const targets: string[] = [];
  if (typeof state.Next === 'string') targets.push(state.Next);
  if (typeof state.Default === 'string') targets.push(state.Default);
  for (const choice of (state.Choices as { Next: string }[] | undefined) ?? []) targets.push(choice.Next);
  for (const catcher of (state.Catch as { Next: string }[] | undefined) ?? []) targets.push(catcher.Next);
  return targets;
}

type AslValidator = (
  definition: unknown,
  options?: { checkPaths: boolean; checkArn: boolean },
) => {
  isValid: boolean;
  errors: { message?: string; path?: string }[];
  errorsText: (separator?: string) => string;
};

/** asl-validator ships CommonJS without types; this is the slice of it the tests call. */
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

/**
 * asl-validator's findings on a definition (a second, independent reading of the States Language),
 * with its ARN and path checks on: pass the definition after the DefinitionSubstitutions are filled in.
 */
export function aslValidatorErrors(definition: Scope): string[] {
  // It writes a default QueryLanguage into every state it reads: give it a copy.
  const result = aslValidator(structuredClone(definition), { checkPaths: true, checkArn: true });
  return result.isValid ? [] : result.errorsText('\n').split('\n');
}

/**
 * Each Catch on States.ALL or States.TaskFailed from which a Fail state can be reached before any new
 * work starts: following Next, Default and Choices through Pass, Choice and service-integration Task
 * states (a ledger write, say), up to a Lambda task or a Parallel, which is new work. Such a Catch
 * turns the failed task's error into a Fail state's, and RedriveExecution would then resume at that
 * Fail state and fail again without running the task.
 */
export function catchesLeadingToFail(definition: Scope): string[] {
  const found: string[] = [];
  const walk = (scope: Scope) => {
    for (const [name, state] of Object.entries(scope.States)) {
      for (const catcher of (state.Catch as { ErrorEquals: string[]; Next: string }[] | undefined) ?? []) {
        if (!catcher.ErrorEquals.some((e) => e === 'States.ALL' || e === 'States.TaskFailed')) continue;
        const fail = failReachedFrom(catcher.Next, scope);
        if (fail)
          found.push(
            `'${name}' catches ${catcher.ErrorEquals.join(', ')} into '${catcher.Next}', which reaches Fail '${fail}'`,
          );
      }
      for (const branch of (state.Branches as Scope[] | undefined) ?? []) walk(branch);
    }
  };
  walk(definition);
  return found;
}

function failReachedFrom(start: string, scope: Scope): string | undefined {
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    const state = scope.States[name];
    if (!state || seen.has(name)) continue;
    seen.add(name);
    if (state.Type === 'Fail') return name;
    const work =
      state.Type === 'Parallel' || (state.Type === 'Task' && !String(state.Resource).includes(':states:::'));
    if (work) continue;
    const next = [
      state.Next,
      state.Default,
      ...((state.Choices as { Next: string }[] | undefined) ?? []).map((c) => c.Next),
    ];
    for (const target of next) if (typeof target === 'string') queue.push(target);
  }
  return undefined;
}
