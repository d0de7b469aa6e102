import { bucketsFromEnvironment } from './buckets.ts';
import { GateOutputError, TaskOutputError } from './errors.ts';
import { isRecord, parseTaskEvent, preview, type RunInfo } from './event.ts';
import { asError } from './thrown-value.ts';

/** What a task function receives. */
export interface TaskContext<Params = Record<string, unknown>> {
  /** The run this attempt belongs to, with its trigger and logical time. */
  readonly run: RunInfo;
  /** Outputs of the direct upstream tasks, by task id. Tasks further up are not included. */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** The task's static `params` from the spec; `{}` when it has none. */
  readonly params: Params;
  /** Which try this is, counting from 1. */
  readonly attempt: number;
  /**
   * The real name of each data bucket declared in `lambda(entry, { reads, writes })`, by the name the
   * spec uses: `ctx.buckets.raw` is the deployed bucket `Pipeline`'s `buckets` maps `raw` to (locally,
   * the local bucket). Tasks sharing a handler file share one function, so they see every name any of
   * them declared. `{}` when none declared a bucket.
   */
  readonly buckets: Readonly<Record<string, string>>;
}

/** What the handler resolves to: the task's output, with `undefined` sent as `null`. */
export type TaskResult<Output> =
  // biome-ignore lint/suspicious/noConfusingVoidType: a task that returns nothing infers Output as void.
  Exclude<Output, undefined | void> | (undefined extends Output ? null : never);

/** A Lambda handler built by {@link defineTask}. */
export type TaskHandler<Output> = (event: unknown) => Promise<TaskResult<Output>>;

/**
 * Step Functions caps a state's input and output at 256 KiB. The output lands under `$.results`
 * next to the run's other results, so one task gets less than the whole cap.
 */
const maxOutputBytes = 200 * 1024;

/**
 * Turns a task function into a Lambda handler for a stepwise pipeline.
 *
 * The handler checks the event the state machine sends, calls `fn` with a {@link TaskContext}, and
 * checks what it returns: JSON, at most 200 KiB, and `{ pass: boolean, reason?: string }` for a gate.
 * Errors thrown by `fn` pass through unchanged; throw `DataError` for bad data. A thrown value that
 * is not an Error (`throw { code: 42 }`) becomes a `ThrownValueError` that shows it, where Lambda would
 * report `[object Object]`.
 *
 * @example
 * export const handler = defineTask(async (ctx) => ({ uri: `s3://bucket/${ctx.run.id}.json` }));
 */
export function defineTask<Output, Params = Record<string, unknown>>(
  fn: (ctx: TaskContext<Params>) => Output | Promise<Output>,
): TaskHandler<Output> {
  return async (event) => {
    const { run, task, gate, inputs, params, retryCount } = parseTaskEvent(event);
    // Params come from the spec, which typed them; the event only proves they are an object.
    const buckets = bucketsFromEnvironment();
    let output: unknown;
    try {
      output =
        (await fn({ run, inputs, params: params as Params, attempt: retryCount + 1, buckets })) ?? null;
    } catch (error) {
      throw asError(error);
    }
    if (gate) checkGateOutput(task, output);
    checkOutputSize(task, toJson(task, output));
    return output as TaskResult<Output>;
  };
}

// Extra fields are allowed: a gate may pass small references on to the tasks after it.
function checkGateOutput(task: string, output: unknown): void {
  if (
    isRecord(output) &&
    typeof output.pass === 'boolean' &&
    (output.reason === undefined || typeof output.reason === 'string')
  ) {
    return;
  }
  throw new GateOutputError(
    `gate task '${task}' must return { pass: boolean, reason?: string }, received ${preview(output)}`,
  );
}

function toJson(task: string, output: unknown): string {
  const problem = findNonJson(output, 'output', '', []);
  if (problem !== undefined) {
    throw new TaskOutputError(
      `task '${task}' returned an output that is not JSON: ${problem}. ` +
        'Outputs travel through Step Functions as JSON.',
    );
  }
  return JSON.stringify(output);
}

function checkOutputSize(task: string, json: string): void {
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= maxOutputBytes) return;
  throw new TaskOutputError(
    `task '${task}' returned ${(bytes / 1024).toFixed(1)} KiB of JSON (${bytes} bytes); the limit is 200 KiB, ` +
      "since Step Functions caps a state's payload at 256 KiB. Outputs should be small references " +
      'like S3 URIs and counts, not data: write the data to S3 and return its URI.',
  );
}

/**
 * Walks a value the way `JSON.stringify` does and describes the first part that JSON would reject or
 * silently change, or returns undefined when there is none.
 */
function findNonJson(
  value: unknown,
  path: string,
  key: string,
  ancestors: ReadonlyArray<readonly [object, string]>,
): string | undefined {
  if (
    typeof value === 'object' &&
    value !== null &&
    'toJSON' in value &&
    typeof value.toJSON === 'function'
  ) {
    return findNonJson(value.toJSON(key), path, key, ancestors);
  }
  switch (typeof value) {
    case 'bigint':
      return `${path} is a bigint (${value}n); use a number or a string`;
    case 'function':
      return `${path} is a function`;
    case 'symbol':
      return `${path} is a symbol`;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON writes as null`;
    case 'object': {
      if (value === null) return undefined;
      const ancestor = ancestors.find(([object]) => object === value);
      if (ancestor !== undefined) return `${path} is a circular reference to ${ancestor[1]}`;
      if (value instanceof Map || value instanceof Set) {
        return `${path} is a ${value.constructor.name}, which JSON writes as {}; use a plain object or an array`;
      }
      const inner = [...ancestors, [value, path] as const];
      const entries = Array.isArray(value)
        ? value.map((item, index) => [String(index), `${path}[${index}]`, item] as const)
        : Object.entries(value).map(([name, item]) => [name, `${path}${propertyPath(name)}`, item] as const);
      for (const [name, itemPath, item] of entries) {
        const problem = findNonJson(item, itemPath, name, inner);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function propertyPath(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}
