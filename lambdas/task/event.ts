import { TaskEventError } from './errors.ts';

/** A new object in S3 started the run. */
export interface S3RunTrigger {
  readonly type: 's3';
  readonly bucket: string;
  readonly key: string;
  /** Present when the bucket is versioned. */
  readonly versionId?: string;
  readonly etag?: string;
  /** The object's size in bytes, when the event carried it. */
  readonly size?: number;
}

/** A schedule slot started the run. */
export interface ScheduleRunTrigger {
  readonly type: 'schedule';
  /** The slot's scheduled time, ISO 8601. */
  readonly time: string;
  /** The schedule expression, such as `cron(0 2 * * ? *)`. */
  readonly expression?: string;
}

/**
 * Upstream runs that succeeded started this run (`afterPipeline`). One upstream, or, for a join, one
 * run of each upstream, all for the same logical time.
 */
export interface PipelineRunTrigger {
  readonly type: 'pipeline';
  readonly upstreams: readonly { readonly pipeline: string; readonly runId: string }[];
  /** The upstream runs' logical time, ISO 8601: this run's logical time too. */
  readonly logicalTime: string;
}

/** An event matching the pipeline's `onEvent` pattern started the run. */
export interface EventRunTrigger {
  readonly type: 'event';
  readonly source: string;
  readonly detailType: string;
  /** The EventBridge event id: the run key, so a redelivered event never runs twice. */
  readonly id: string;
  readonly detail: unknown;
}

/** Someone started the run by hand (`stepwise run`, a backfill, the console). */
export interface ManualRunTrigger {
  readonly type: 'manual';
  /** Whatever the caller passed, such as `stepwise run --input JSON`. */
  readonly input?: unknown;
}

/** What started a run. Narrow it on `type`. */
export type RunTrigger =
  | S3RunTrigger
  | ScheduleRunTrigger
  | PipelineRunTrigger
  | EventRunTrigger
  | ManualRunTrigger;

/** The run a task attempt belongs to. */
export interface RunInfo {
  readonly id: string;
  /** The pipeline's name. */
  readonly pipeline: string;
  readonly trigger: RunTrigger;
  /**
   * The time the run stands for, ISO 8601: the schedule slot, the backfill date, or when the trigger
   * fired. Partition data by this, not by the wall clock, so reruns and backfills write the same place.
   */
  readonly logicalTime: string;
}

/**
 * The event each task Lambda receives. The compiled state machine builds it with `Parameters`.
 */
export interface TaskEvent {
  readonly run: RunInfo;
  /** The task's id in the spec. */
  readonly task: string;
  /** True when the task is a gate, whose output must be `{ pass: boolean, reason?: string }`. */
  readonly gate: boolean;
  /** Outputs of the direct upstream tasks, by task id. */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** The task's static `params` from the spec; `{}` when it has none. */
  readonly params: Readonly<Record<string, unknown>>;
  /** `$$.State.RetryCount`: 0 on the first try. */
  readonly retryCount: number;
}

/**
 * Checks an incoming Lambda event against the task event contract, and keeps only the fields it
 * defines.
 *
 * Written by hand rather than with zod: this check is in every handler's bundle, and zod/mini's share
 * of a bundle was about 27 KiB of the runtime's 38 (bench/task-runtime-size.ts).
 *
 * @throws TaskEventError listing every problem with its path.
 */
export function parseTaskEvent(event: unknown): TaskEvent {
  const problems: string[] = [];
  const problem = (path: string, text: string) => problems.push(`  ${path}: ${text}`);
  const read = (from: Record<string, unknown>, key: string, path: string, check: Check) => {
    const value = from[key];
    const text =
      value === undefined && check !== unknownValue ? `missing, expected ${check.expected}` : check(value);
    if (text !== undefined) problem(path, text);
    return value;
  };
  // Only the fields a check passed, and an optional one only when it is present.
  const pick = (from: Record<string, unknown>, path: string, required: Fields, optional: Fields = {}) => {
    const picked: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(required)) picked[key] = read(from, key, at(path, key), check);
    for (const [key, check] of Object.entries(optional)) {
      if (key in from) picked[key] = read(from, key, at(path, key), check);
    }
    return picked;
  };

  let parsed: Record<string, unknown> | undefined;
  const top = objectValue(event);
  if (top !== undefined) {
    problem('event', top);
  } else {
    const body = event as Record<string, unknown>;
    const runText = body.run === undefined ? 'missing, expected an object' : objectValue(body.run);
    let run: Record<string, unknown> | undefined;
    if (runText !== undefined) problem('run', runText);
    else {
      const from = body.run as Record<string, unknown>;
      run = pick(from, 'run', { id: nonEmpty, pipeline: nonEmpty });
      run.trigger = parseTrigger(from.trigger, 'run.trigger', problem, pick);
      run.logicalTime = read(from, 'logicalTime', 'run.logicalTime', dateTime);
    }
    parsed = {
      run,
      ...pick(body, '', { task: nonEmpty, gate: boolean, inputs: object, params: object, retryCount: count }),
    };
  }
  if (problems.length === 0) return parsed as unknown as TaskEvent;
  const heading =
    isRecord(event) && typeof event.task === 'string'
      ? `malformed event for task '${event.task}'`
      : 'malformed task event';
  const counted = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  throw new TaskEventError(
    [
      `${heading} (${counted}):`,
      ...problems,
      'The compiled state machine builds this event: deploy the handler and the state machine from the same stepwise version.',
    ].join('\n'),
  );
}

/** Describes what is wrong with a value, or returns undefined when it is fine. */
type Check = ((value: unknown) => string | undefined) & { readonly expected?: string };
type Fields = Readonly<Record<string, Check>>;

function check(expected: string, test: (value: unknown) => string | boolean): Check {
  return Object.assign(
    (value: unknown) => {
      const result = test(value);
      if (result === true) return undefined;
      return result === false ? `expected ${expected}, received ${preview(value)}` : result;
    },
    { expected },
  );
}

const string = check('a string', (value) => typeof value === 'string');
const nonEmpty = check(
  'a string',
  (value) => typeof value === 'string' && (value !== '' || 'must not be empty'),
);
const boolean = check('a boolean', (value) => typeof value === 'boolean');
const object = check('an object', isRecord);
const count = check(
  'an integer',
  (value) =>
    Number.isSafeInteger(value) && ((value as number) >= 0 || `must be at least 0, received ${value}`),
);
const unknownValue: Check = () => undefined;
const dateTime = check(
  'an ISO 8601 date-time such as "2026-11-01T02:00:00Z"',
  (value) => typeof value === 'string' && isDateTime(value),
);

function at(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function objectValue(value: unknown): string | undefined {
  return isRecord(value) ? undefined : `expected an object, received ${preview(value)}`;
}

/** RFC 3339: a real calendar date, seconds, and `Z` or an offset; as zod's `iso.datetime({ offset: true })`. */
function isDateTime(text: string): boolean {
  const match =
    /^(\d{4})-(\d\d)-(\d\d)T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/.exec(
      text,
    );
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return month >= 1 && month <= 12 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const triggerTypes = ['s3', 'schedule', 'pipeline', 'event', 'manual'] as const;

function parseTrigger(
  value: unknown,
  path: string,
  problem: (path: string, text: string) => void,
  pick: (
    from: Record<string, unknown>,
    path: string,
    required: Fields,
    optional?: Fields,
  ) => Record<string, unknown>,
): unknown {
  if (!isRecord(value)) {
    problem(
      path,
      value === undefined ? 'missing, expected an object' : `expected an object, received ${preview(value)}`,
    );
    return undefined;
  }
  const type = value.type;
  const expected = triggerTypes.map((t) => JSON.stringify(t)).join(', ');
  switch (type) {
    case 's3':
      return {
        type,
        ...pick(
          value,
          path,
          { bucket: nonEmpty, key: nonEmpty },
          { versionId: string, etag: string, size: count },
        ),
      };
    case 'schedule':
      return { type, ...pick(value, path, { time: dateTime }, { expression: string }) };
    case 'pipeline': {
      const upstreams = value.upstreams;
      let picked: unknown = upstreams;
      if (!Array.isArray(upstreams)) {
        problem(
          `${path}.upstreams`,
          upstreams === undefined
            ? 'missing, expected an array'
            : `expected an array, received ${preview(upstreams)}`,
        );
      } else if (upstreams.length === 0) {
        problem(`${path}.upstreams`, 'must be at least 1, received []');
      } else {
        picked = upstreams.map((upstream: unknown, index) => {
          const at = `${path}.upstreams[${index}]`;
          if (isRecord(upstream)) return pick(upstream, at, { pipeline: nonEmpty, runId: nonEmpty });
          problem(at, `expected an object, received ${preview(upstream)}`);
          return upstream;
        });
      }
      return { type, upstreams: picked, ...pick(value, path, { logicalTime: dateTime }) };
    }
    case 'event':
      return {
        type,
        ...pick(value, path, { source: nonEmpty, detailType: nonEmpty, id: nonEmpty, detail: unknownValue }),
      };
    case 'manual':
      return { type, ...pick(value, path, {}, { input: unknownValue }) };
    default:
      problem(
        `${path}.type`,
        type === undefined
          ? `missing, expected one of ${expected}`
          : `expected one of ${expected}, received ${preview(type)}`,
      );
      return undefined;
  }
}

/** A short rendering of a received value for error messages. */
export function preview(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json === undefined) return Object.prototype.toString.call(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
