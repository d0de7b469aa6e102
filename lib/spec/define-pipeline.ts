import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as z from 'zod';
import { stackFiles } from '../stack-files.ts';
import { isServiceRun, serviceAdapter } from './adapters/registry.ts';
import { checkDurationLimits } from './aws-limits.ts';
import { type WatchedQuarantine, watchedQuarantines } from './bucket-uses.ts';
import { didYouMean } from './did-you-mean.ts';
import { parseDuration } from './duration.ts';
import { formatPath, SpecError, type SpecIssue } from './errors.ts';
import { checkTaskGraph } from './graph.ts';
import { readHandlerExports } from './handler-exports.ts';
import { fieldsAt } from './known-fields.ts';
import {
  type ParsedPipeline,
  PIPELINE_NAME_MAX,
  PIPELINE_NAME_PATTERN,
  pipelineSchema,
  TASK_ID_MAX,
  TASK_ID_PATTERN,
} from './schema.ts';
import { callerSpecFile, resolveHandlerPath } from './spec-location.ts';
import type { PipelineDefinition, PipelineSpec, ResolvedRetry, ResolvedTask, TaskRun } from './types.ts';

type RetryFields = NonNullable<NonNullable<ParsedPipeline['defaults']>['retry']>;

export const DEFAULT_RETRY: ResolvedRetry = {
  attempts: 3,
  intervalMs: 2_000,
  backoff: 2,
  maxDelayMs: 60_000,
  jitter: 'full',
};
export const DEFAULT_TASK_TIMEOUT_MS = 15 * 60_000;
export const DEFAULT_PIPELINE_TIMEOUT_MS = 2 * 3_600_000;
export const DEFAULT_MAX_CONCURRENT_RUNS = 10;
export const DEFAULT_RETENTION_DAYS = 365;
const DAY_MS = 86_400_000;

export interface DefinePipelineOptions {
  /**
   * Absolute path or file URL of the spec module; handler paths are relative to it.
   * @default - the file that calls definePipeline, read from the call stack
   */
  readonly specFile?: string;
}

/**
 * Checks a pipeline spec and settles its defaults. Throws a `SpecError` listing every problem, each
 * with its path, so a spec module fails as soon as it is imported.
 */
export function definePipeline(spec: PipelineSpec, options: DefinePipelineOptions = {}): PipelineDefinition {
  const specFile = toPath(options.specFile) ?? callerFile();
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new SpecError([
      {
        path: '',
        message: `definePipeline takes the pipeline as an object, like definePipeline({ name: 'orders', tasks: { ingest: { run: lambda('./handlers/ingest.ts') } } }); received ${describeValue(spec)}`,
      },
    ]);
  }
  const parsed = pipelineSchema.safeParse(spec, { reportInput: true });
  const issues: SpecIssue[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => describeZodIssue(issue, spec));
  const raw = spec as unknown as Record<string, unknown>;
  issues.push(...checkNames(raw));
  issues.push(...checkGraph(raw));
  // These read the raw spec, so they report alongside type errors elsewhere rather than after a fix.
  issues.push(...checkHandlers(raw, specFile), ...checkTaskRules(raw), ...checkPipelineRules(raw));
  issues.push(
    ...checkDurationLimits(raw, taskObjectsOf(raw), {
      intervalMs: DEFAULT_RETRY.intervalMs,
      maxDelayMs: DEFAULT_RETRY.maxDelayMs ?? Number.POSITIVE_INFINITY,
    }),
  );
  const name = typeof raw.name === 'string' ? raw.name : undefined;
  if (issues.length > 0 || !parsed.success)
    throw new SpecError(issues, name === undefined ? {} : { pipeline: name });
  const { pipeline, issues: unresolved } = resolveServiceRuns(resolvePipeline(parsed.data, specFile));
  if (unresolved.length > 0) throw new SpecError(unresolved, { pipeline: pipeline.name });
  const loops = watchedQuarantines(pipeline).map(quarantineLoopIssue);
  if (loops.length > 0) throw new SpecError(loops, { pipeline: pipeline.name });
  return pipeline;
}

/**
 * A quarantine its own S3 trigger watches: S3 sends "Object Created" for the quarantine's copy, so each
 * quarantined object would start a run that is quarantined again. The synth checks the same across
 * every pipeline of an app, by real bucket.
 */
function quarantineLoopIssue({ path, trigger }: WatchedQuarantine): SpecIssue {
  const watched = `${trigger.prefix ?? ''}*${trigger.suffix ?? ''}`;
  return {
    path: 'quarantine.prefix',
    message:
      `objects quarantined to '${trigger.bucket}' would start this pipeline again: its trigger ${path} ` +
      `(s3ObjectCreated '${watched}') watches the quarantine's keys, and S3 sends "Object Created" for the ` +
      `quarantine's copy; give the trigger a prefix the quarantine's keys do not start with (such as ` +
      `prefix: 'incoming/'), or set quarantine.bucket to a bucket no trigger watches`,
  };
}

function resolvePipeline(data: ParsedPipeline, specFile: string | undefined): PipelineDefinition {
  const baseRetry = resolveRetry(data.defaults?.retry, DEFAULT_RETRY);
  const baseTimeout = ms(data.defaults?.timeout) ?? DEFAULT_TASK_TIMEOUT_MS;
  const tasks: ResolvedTask[] = Object.entries(data.tasks).map(([id, task]) => {
    const run = resolveRun(task.run as TaskRun, specFile);
    // A service's own defaults stand in for stepwise's: its runs are longer and costlier than Lambda's.
    const service = isServiceRun(run) ? serviceAdapter(run) : undefined;
    const retryBase = service && data.defaults?.retry === undefined ? service.retry : baseRetry;
    return {
      id,
      run,
      after: task.after ?? [],
      gate: task.gate ?? false,
      critical: task.critical ?? true,
      retry: resolveRetry(task.retry, retryBase),
      retryFrom: task.retry?.from,
      timeoutMs: ms(task.timeout) ?? service?.timeoutMs ?? baseTimeout,
      params: task.params ?? {},
    };
  });
  return {
    name: data.name,
    description: data.description,
    specFile,
    triggers: (data.triggers ?? []) as PipelineDefinition['triggers'],
    tasks,
    quarantine: (data.quarantine ?? { prefix: 'quarantine/' }) as PipelineDefinition['quarantine'],
    maxConcurrentRuns: data.maxConcurrentRuns ?? DEFAULT_MAX_CONCURRENT_RUNS,
    timeoutMs: ms(data.timeout) ?? DEFAULT_PIPELINE_TIMEOUT_MS,
    slaMs: ms(data.sla),
    retentionDays: retentionDays(data.retention),
  };
}

/** Lets each service adapter settle its run against the spec file (read a query's file). */
function resolveServiceRuns(pipeline: PipelineDefinition): {
  pipeline: PipelineDefinition;
  issues: SpecIssue[];
} {
  const issues: SpecIssue[] = [];
  const tasks = pipeline.tasks.map((task) => {
    const { run } = task;
    const resolved = isServiceRun(run) ? serviceAdapter(run).resolve?.(run, pipeline.specFile) : undefined;
    if (resolved === undefined) return task;
    if ('run' in resolved) return { ...task, run: resolved.run };
    for (const { field, message } of resolved.issues)
      issues.push({ path: `tasks.${task.id}.run.${field}`, message });
    return task;
  });
  return { pipeline: { ...pipeline, tasks }, issues };
}

/** Whole days, rounded up: DynamoDB's TTL has no use for finer grain, and the dispatcher counts in days. */
function retentionDays(retention: string | undefined): number {
  const retentionMs = ms(retention);
  return retentionMs === undefined ? DEFAULT_RETENTION_DAYS : Math.ceil(retentionMs / DAY_MS);
}

function resolveRetry(spec: RetryFields | undefined, base: ResolvedRetry): ResolvedRetry {
  if (!spec) return base;
  return {
    attempts: spec.attempts ?? base.attempts,
    intervalMs: ms(spec.interval) ?? base.intervalMs,
    backoff: spec.backoff ?? base.backoff,
    maxDelayMs: ms(spec.maxDelay) ?? base.maxDelayMs,
    jitter: spec.jitter ?? base.jitter,
  };
}

function ms(duration: string | undefined): number | undefined {
  return duration === undefined ? undefined : parseDuration(duration);
}

/** A handler's path (a Lambda entry, a service's local stand-in), resolved against the spec file. */
function resolveRun(run: TaskRun, specFile: string | undefined): TaskRun {
  if (run.kind === 'lambda') return { ...run, entry: resolveEntry(run.entry, specFile) };
  return run.local === undefined ? run : { ...run, local: resolveEntry(run.local, specFile) };
}

function resolveEntry(entry: string, specFile: string | undefined): string {
  return resolveHandlerPath(entry, specFile);
}

function checkNames(raw: Record<string, unknown>): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const name = raw.name;
  if (typeof name === 'string' && (!PIPELINE_NAME_PATTERN.test(name) || name.length > PIPELINE_NAME_MAX)) {
    issues.push({
      path: 'name',
      message: `'${name}' is not a valid pipeline name; use lowercase letters, digits and hyphens, starting with a letter, at most ${PIPELINE_NAME_MAX} characters (like 'orders' or 'daily-sales')`,
    });
  }
  if (typeof name === 'string' && OBJECT_PROPERTY_NAMES.has(name)) {
    issues.push({
      path: 'name',
      message: `'${name}' is a name every JavaScript object already has, so the pipeline's entries in the shared maps would clash with it; choose another name, like '${name}-pipeline'`,
    });
  }
  for (const id of Object.keys(tasksOf(raw))) {
    if (!TASK_ID_PATTERN.test(id) || id.length > TASK_ID_MAX) {
      issues.push({
        path: `tasks.${id}`,
        message: `'${id}' is not a valid task id; use lowercase letters, digits, '-' and '_', starting with a letter, at most ${TASK_ID_MAX} characters`,
      });
    } else if (OBJECT_PROPERTY_NAMES.has(id)) {
      issues.push({
        path: `tasks.${id}`,
        message: `'${id}' is a name every JavaScript object already has, so the compiled definition would hold a second '${id}' field; choose another task id, like '${id}-task'`,
      });
    }
  }
  if (
    Object.keys(tasksOf(raw)).length === 0 &&
    typeof raw.tasks === 'object' &&
    raw.tasks !== null &&
    !Array.isArray(raw.tasks)
  ) {
    issues.push({ path: 'tasks', message: 'a pipeline needs at least one task' });
  }
  return issues;
}

/** Object.prototype's own names: 'constructor' and the like, which plain-object maps already hold. */
const OBJECT_PROPERTY_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

function checkGraph(raw: Record<string, unknown>): SpecIssue[] {
  const tasks = tasksOf(raw);
  const ids = Object.keys(tasks);
  const after = new Map<string, string[]>();
  const retryFrom = new Map<string, string>();
  for (const [id, task] of Object.entries(tasks)) {
    if (typeof task !== 'object' || task === null) continue;
    const t = task as { after?: unknown; retry?: { from?: unknown } };
    if (Array.isArray(t.after))
      after.set(
        id,
        t.after.filter((d): d is string => typeof d === 'string'),
      );
    if (typeof t.retry?.from === 'string') retryFrom.set(id, t.retry.from);
  }
  return checkTaskGraph({ ids, after, retryFrom });
}

function checkHandlers(raw: Record<string, unknown>, specFile: string | undefined): SpecIssue[] {
  const issues: SpecIssue[] = [];
  for (const [id, task] of taskObjectsOf(raw)) {
    const run = objectOrEmpty(task.run);
    const service = typeof run.kind === 'string' && run.kind !== 'lambda';
    const entry = service ? run.local : run.entry;
    if (typeof entry !== 'string' || entry === '') continue;
    const file = resolveEntry(entry, specFile);
    const problem = handlerFileProblem(entry, file);
    if (problem) issues.push({ path: `tasks.${id}.run${service ? '.local' : ''}`, message: problem });
  }
  return issues;
}

/** Why the handler file cannot serve as a Lambda handler, read without running it. */
function handlerFileProblem(entry: string, file: string): string | undefined {
  if (!existsSync(file))
    return `handler file '${entry}' not found (looked at ${file}); paths are relative to the spec file`;
  if (!statSync(file).isFile())
    return `handler path '${entry}' is a directory (${file}); name the handler file in it, like '${entry.replace(/\/$/, '')}/ingest.ts'`;
  const read = readHandlerExports(file);
  if (read.kind === 'unreadable')
    return `handler file '${entry}' cannot be bundled: ${read.error}; fix the file so esbuild can build it`;
  if (read.kind === 'esm' && !read.exports.includes('handler')) {
    const has =
      read.exports.length === 0
        ? 'exports nothing'
        : `exports ${read.exports.map((e) => `'${e}'`).join(', ')}`;
    return `handler file '${entry}' ${has} but Lambda calls its 'handler' export; write export const handler = defineTask(async (ctx) => ...)`;
  }
  return undefined;
}

function checkTaskRules(raw: Record<string, unknown>): SpecIssue[] {
  const issues: SpecIssue[] = [];
  for (const [id, task] of taskObjectsOf(raw)) {
    const kind = objectOrEmpty(task.run).kind;
    if (task.gate === true && typeof kind === 'string' && kind !== 'lambda') {
      issues.push({
        path: `tasks.${id}.gate`,
        message: `a gate must be a lambda() task, which returns { pass, reason }; a ${kind} task returns the service's result. Add a lambda() gate after it that checks that result`,
      });
    }
    if (task.gate === true && task.critical === false) {
      issues.push({
        path: `tasks.${id}.critical`,
        message:
          'a gate cannot be non-critical: its verdict decides whether the run goes on; remove critical: false or gate: true',
      });
    }
    for (const path of pathKeysIn(task.params, `tasks.${id}.params`)) {
      issues.push({
        path,
        message: "param names cannot end in '.$', which Step Functions reads as a path; rename it",
      });
    }
  }
  return issues;
}

/** The paths of keys ending in '.$' anywhere in a params value, nested objects and arrays included. */
function pathKeysIn(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => pathKeysIn(item, `${path}[${index}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) => [
    ...(key.endsWith('.$') ? [`${path}.${key}`] : []),
    ...pathKeysIn(item, `${path}.${key}`),
  ]);
}

/** Rules between pipeline-level fields: the SLA against the timeout, retention, upstream pipelines. */
function checkPipelineRules(raw: Record<string, unknown>): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const durationOf = (field: string) =>
    typeof raw[field] === 'string' ? parseDuration(raw[field]) : undefined;
  const sla = durationOf('sla');
  const timeout =
    durationOf('timeout') ?? (raw.timeout === undefined ? DEFAULT_PIPELINE_TIMEOUT_MS : undefined);
  if (sla !== undefined && timeout !== undefined && sla >= timeout) {
    issues.push({
      path: 'sla',
      message: `'${String(raw.sla)}' is not shorter than the pipeline timeout (${raw.timeout === undefined ? "'2h' by default" : `'${String(raw.timeout)}'`}); a run is stopped at its timeout, so this alarm could never fire; shorten sla or lengthen timeout`,
    });
  } else if (sla === 0) {
    issues.push({ path: 'sla', message: "must be longer than 0; write one like '30m'" });
  }
  const retention = durationOf('retention');
  if (retention !== undefined && retention < DAY_MS) {
    issues.push({
      path: 'retention',
      message: `'${String(raw.retention)}' is shorter than a day; the ledger keeps runs for whole days, so write '1d' or more`,
    });
  }
  issues.push(...checkUpstreams(raw));
  return issues;
}

/** An afterPipeline trigger names other pipelines, each in one trigger only. */
function checkUpstreams(raw: Record<string, unknown>): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const triggers = Array.isArray(raw.triggers) ? (raw.triggers as unknown[]) : [];
  const firstSeen = new Map<string, number>();
  for (const [index, trigger] of triggers.entries()) {
    const t = objectOrEmpty(trigger);
    if (t.kind !== 'afterPipeline' || !Array.isArray(t.upstreams)) continue;
    for (const [position, upstream] of (t.upstreams as unknown[]).entries()) {
      if (typeof upstream !== 'string') continue;
      const path = `triggers[${index}].upstreams[${position}]`;
      if (upstream === raw.name) {
        issues.push({
          path,
          message: `a pipeline cannot run after itself; name another pipeline, or use schedule(...) to run '${upstream}' repeatedly`,
        });
      }
      const earlier = firstSeen.get(upstream);
      if (earlier !== undefined && earlier !== index) {
        issues.push({
          path,
          message: `'${upstream}' is already an upstream in triggers[${earlier}]; name each upstream pipeline in one afterPipeline trigger`,
        });
      }
      if (earlier === undefined) firstSeen.set(upstream, index);
    }
  }
  return issues;
}

function taskObjectsOf(raw: Record<string, unknown>): [string, Record<string, unknown>][] {
  return Object.entries(tasksOf(raw)).map(([id, task]) => [id, objectOrEmpty(task)]);
}

function objectOrEmpty(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function tasksOf(raw: Record<string, unknown>): Record<string, unknown> {
  const tasks = raw.tasks;
  return typeof tasks === 'object' && tasks !== null && !Array.isArray(tasks)
    ? (tasks as Record<string, unknown>)
    : {};
}

function describeZodIssue(issue: z.core.$ZodIssue, spec: unknown): SpecIssue {
  const path = formatPath(issue.path);
  const received = 'input' in issue ? describeValue(valueAt(issue)) : undefined;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = expectedInWords(issue.path, issue.expected);
      return {
        path,
        message:
          issue.input === undefined
            ? `is required (expected ${expected})`
            : `expected ${expected}, received ${received}`,
      };
    }
    case 'unrecognized_keys': {
      const fields = fieldsAt(pipelineSchema, issue.path, spec) ?? [];
      return {
        path,
        message: issue.keys.map((key) => unknownField(key, fields)).join('; '),
      };
    }
    case 'invalid_value':
      return {
        path,
        message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, received ${received}`,
      };
    case 'too_small':
    case 'too_big':
      if (!issue.message.startsWith('Too ')) return { path, message: issue.message };
      return {
        path,
        message: `${issue.message
          .replace(/^Too (small|big): expected \w+ to (have|be) /, 'must be ')
          .replace('>=', 'at least ')
          .replace('<=', 'at most ')}, received ${received}`,
      };
    case 'custom':
      return { path, message: issue.message };
    default:
      return {
        path,
        message: received === undefined ? issue.message : `${issue.message}, received ${received}`,
      };
  }
}

/** Examples of what a field takes, for the fields a wrong type is most often given to. */
const FIELD_EXAMPLES: Record<string, string> = {
  tasks: "an object of tasks by id, like tasks: { ingest: { run: lambda('./handlers/ingest.ts') } }",
  after: "a list of task ids, like after: ['ingest']",
  triggers: "a list of triggers, like triggers: [schedule('cron(0 2 * * ? *)')]",
  run: "a task adapter, like run: lambda('./handlers/ingest.ts')",
  params: "an object, like params: { table: 'orders' }",
};

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
};

/** What the field at `path` takes, in the user's words, with an example for the common fields. */
function expectedInWords(path: readonly PropertyKey[], expected: string): string {
  const field = path.at(-1);
  const example = typeof field === 'string' && path.length <= 3 ? FIELD_EXAMPLES[field] : undefined;
  return example ?? TYPE_NAMES[expected] ?? expected;
}

/**
 * The value an issue is about. A union that failed on its discriminator reports the whole object at
 * the discriminator's path; the value named is the discriminator's own.
 */
function valueAt(issue: z.core.$ZodIssue): unknown {
  const input = (issue as { input?: unknown }).input;
  const field = issue.path.at(-1);
  if (typeof field === 'string' && typeof input === 'object' && input !== null && field in input)
    return (input as Record<string, unknown>)[field];
  return input;
}

/** An unknown field, with the close one when there is one, else the fields that level takes. */
function unknownField(key: string, fields: readonly string[]): string {
  const close = didYouMean(key, fields);
  if (close || fields.length === 0) return `unknown field '${key}'${close}`;
  return `unknown field '${key}'; the fields here are ${fields.join(', ')}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

function toPath(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  return file.startsWith('file:') ? fileURLToPath(file) : resolve(file);
}

/** The spec module's path: the first stack frame outside stepwise's own spec code. */
function callerFile(): string | undefined {
  const here = stackFiles()[0];
  return callerSpecFile(here === undefined ? '\0' : dirname(here));
}
