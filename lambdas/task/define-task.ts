import { bucketsFromEnvironment } from './buckets.ts';
import { DataError, GateOutputError, TaskEventError, TaskOutputError } from './errors.ts';
import { isRecord, parseTaskEvent, preview, type RunInfo } from './event.ts';
import { LOCAL_RUN_VARIABLE, type TaskLogger, taskLogger } from './log.ts';
import { type InvocationContext, retryWaitMs } from './retryable-error.ts';
import { checkSchema, isStandardSchema, pathSegment, type StandardSchemaV1 } from './standard-schema.ts';
import { asError } from './thrown-value.ts';

/** What a task function receives. */
export interface TaskContext<Params = Record<string, unknown>, Inputs = Readonly<Record<string, unknown>>> {
  /** The run this attempt belongs to, with its trigger and logical time. */
  readonly run: RunInfo;
  /**
   * Outputs of the direct upstream tasks, by task id. Tasks further up are not included. With an
   * `inputs` schema, the schema's parsed value.
   */
  readonly inputs: Inputs;
  /** The task's static `params` from the spec; `{}` when it has none. With a `params` schema, its parsed value. */
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
  /** Structured logs: one JSON line per call, carrying the run id, pipeline, task and attempt. */
  readonly log: TaskLogger;
}

/** What the handler resolves to: the task's output, with `undefined` sent as `null`. */
export type TaskResult<Output> =
  // biome-ignore lint/suspicious/noConfusingVoidType: a task that returns nothing infers Output as void.
  Exclude<Output, undefined | void> | (undefined extends Output ? null : never);

/** A Lambda handler built by {@link defineTask}. */
export type TaskHandler<Output> = (
  event: unknown,
  context?: InvocationContext,
) => Promise<TaskResult<Output>>;

/**
 * Schemas a task's data is checked against on every invocation: any Standard Schema v1 object, such as
 * a `zod/mini` schema. The runtime imports no schema library.
 * @see https://standardschema.dev
 */
export interface TaskSchemas {
  /**
   * The outputs of the upstream tasks (`ctx.inputs`), an object keyed by task id. A mismatch is bad
   * data: a `DataError` naming the field, so the run is quarantined and not retried.
   * @default - not checked
   */
  readonly inputs?: StandardSchemaV1;
  /**
   * The task's `params` from the spec (`ctx.params`). Params are the same on every run, so a mismatch
   * is a spec that disagrees with its handler, not bad data: a `TaskEventError` naming the field, which
   * fails the run at this task without a retry and quarantines nothing.
   * @default - not checked
   */
  readonly params?: StandardSchemaV1;
  /**
   * What the task returns. A mismatch is a bug in the handler: a `TaskOutputError` naming the field,
   * not retried. The handler resolves to the schema's parsed value.
   * @default - not checked (the output must still be JSON of at most 200 KiB)
   */
  readonly output?: StandardSchemaV1;
}

type Parsed<S, Fallback> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : Fallback;

/** The context a task with these schemas receives: `inputs` and `params` typed from their schemas. */
export type SchemaTaskContext<Schemas extends TaskSchemas> = TaskContext<
  Parsed<Schemas['params'], Record<string, unknown>>,
  Parsed<Schemas['inputs'], Readonly<Record<string, unknown>>>
>;

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
 * Errors thrown by `fn` pass through unchanged; throw `DataError` for bad data, and `RetryableError`
 * to suggest a delay before the retry. A thrown value that is not an Error (`throw { code: 42 }`)
 * becomes a `ThrownValueError` that shows it, where Lambda would report `[object Object]`.
 *
 * Given {@link TaskSchemas} first, it also checks `inputs`, `params` and the output against them, and
 * types `ctx` from them. Each invocation writes a JSON log line when it starts and one when it ends,
 * with its duration and outcome (not under `stepwise run`, whose own report shows every attempt).
 *
 * @example
 * export const handler = defineTask(async (ctx) => ({ uri: `s3://bucket/${ctx.run.id}.json` }));
 * @example
 * export const handler = defineTask(
 *   { inputs: z.object({ ingest: z.object({ rows: z.number() }) }) },
 *   async (ctx) => ({ rows: ctx.inputs.ingest.rows }),
 * );
 */
export function defineTask<Output, Params = Record<string, unknown>>(
  fn: (ctx: TaskContext<Params>) => Output | Promise<Output>,
): TaskHandler<Output>;
export function defineTask<Schemas extends TaskSchemas & { readonly output: StandardSchemaV1 }>(
  schemas: Schemas,
  fn: (
    ctx: SchemaTaskContext<Schemas>,
  ) =>
    | StandardSchemaV1.InferInput<Schemas['output']>
    | Promise<StandardSchemaV1.InferInput<Schemas['output']>>,
): TaskHandler<StandardSchemaV1.InferOutput<Schemas['output']>>;
export function defineTask<Schemas extends TaskSchemas & { readonly output?: undefined }, Output>(
  schemas: Schemas,
  fn: (ctx: SchemaTaskContext<Schemas>) => Output | Promise<Output>,
): TaskHandler<Output>;
export function defineTask(
  first: TaskSchemas | ((ctx: TaskContext) => unknown),
  second?: (ctx: TaskContext) => unknown,
): TaskHandler<unknown> {
  const [schemas, fn] = typeof first === 'function' ? [{}, first] : [checkSchemas(first), second];
  if (typeof fn !== 'function') {
    throw new TypeError(`defineTask: expected a task function after the schemas, received ${preview(fn)}`);
  }
  return async (event, context) => {
    const startedAt = Date.now();
    const { run, task, gate, inputs, params, retryCount } = parseTaskEvent(event);
    const attempt = retryCount + 1;
    const log = taskLogger({
      runId: run.id,
      pipeline: run.pipeline,
      task,
      attempt,
      ...(context?.awsRequestId === undefined ? {} : { requestId: context.awsRequestId }),
    });
    // The local engine reports every attempt, with its duration and error, itself.
    const lifecycle = process.env[LOCAL_RUN_VARIABLE] ? undefined : log;
    lifecycle?.info('task started', { trigger: run.trigger.type });
    try {
      const checked = await checkInputs(task, schemas, inputs, params);
      const buckets = bucketsFromEnvironment();
      let output: unknown;
      try {
        output = await fn({ run, inputs: checked.inputs, params: checked.params, attempt, buckets, log });
      } catch (error) {
        throw asError(error);
      }
      if (schemas.output !== undefined) output = await checkOutput(task, schemas.output, output);
      output ??= null;
      if (gate) checkGateOutput(task, output);
      checkOutputSize(task, toJson(task, output));
      lifecycle?.info('task succeeded', { outcome: 'succeeded', durationMs: Date.now() - startedAt });
      return output;
    } catch (error) {
      const waitMs = retryWaitMs(error, context);
      if (waitMs > 0) {
        log.info(`waiting ${waitMs} ms before failing, as the RetryableError suggests`, { waitMs });
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
      lifecycle?.error('task failed', { outcome: 'failed', durationMs: Date.now() - startedAt, error });
      throw error;
    }
  };
}

const schemaNames = ['inputs', 'params', 'output'] as const;

function checkSchemas(schemas: TaskSchemas): TaskSchemas {
  const problems = Object.entries(schemas ?? {}).flatMap(([name, schema]) => {
    if (!(schemaNames as readonly string[]).includes(name)) {
      return [`unknown key '${name}'; the schemas are ${schemaNames.join(', ')}`];
    }
    if (schema === undefined || isStandardSchema(schema)) return [];
    return [
      `${name} is not a Standard Schema (it has no '~standard'.validate); pass a zod 4 or zod/mini schema, or another Standard Schema library's`,
    ];
  });
  if (problems.length > 0) throw new TypeError(`defineTask: ${problems.join('; ')}`);
  return schemas;
}

async function checkInputs(
  task: string,
  schemas: TaskSchemas,
  inputs: Readonly<Record<string, unknown>>,
  params: Readonly<Record<string, unknown>>,
): Promise<{ inputs: Readonly<Record<string, unknown>>; params: Readonly<Record<string, unknown>> }> {
  const [checkedInputs, checkedParams] = await Promise.all([
    schemas.inputs && checkSchema(schemas.inputs, inputs, 'inputs'),
    schemas.params && checkSchema(schemas.params, params, 'params'),
  ]);
  if (checkedParams?.ok === false) {
    throw new TaskEventError(
      `task '${task}' has params that do not match its params schema: ${checkedParams.problems.join('; ')}. ` +
        `Params are the same on every run: fix tasks.${task}.params in the spec, or the schema in the handler.`,
    );
  }
  // The reason is the whole message: it is what the ledger and the alert show for the quarantined run.
  if (checkedInputs?.ok === false) throw new DataError(checkedInputs.problems.join('; '));
  return {
    inputs: checkedInputs ? (checkedInputs.value as Record<string, unknown>) : inputs,
    params: checkedParams ? (checkedParams.value as Record<string, unknown>) : params,
  };
}

async function checkOutput(task: string, schema: StandardSchemaV1, output: unknown): Promise<unknown> {
  const checked = await checkSchema(schema, output, 'output');
  if (checked.ok) return checked.value;
  throw new TaskOutputError(
    `task '${task}' returned an output that does not match its output schema: ${checked.problems.join('; ')}. ` +
      'The handler builds its output, so this is a bug in the handler: it is not retried.',
  );
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
        : Object.entries(value).map(([name, item]) => [name, `${path}${pathSegment(name)}`, item] as const);
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
