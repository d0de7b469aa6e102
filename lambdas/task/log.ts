/** Extra fields for one log line. Errors are written as `{ name, message, stack }`, bigints as strings. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * `ctx.log`: writes one JSON line per call to stdout, which Lambda sends to CloudWatch Logs, where
 * Logs Insights reads its fields. Each line carries `timestamp`, `level`, `message`, `runId`,
 * `pipeline`, `task` and `attempt`, then the given fields (which cannot overwrite those).
 *
 * `STEPWISE_LOG_LEVEL` (`info`, `warn`, `error` or `silent`) drops the lines below it.
 * @default info
 */
export interface TaskLogger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** The environment variable that sets the lowest level written. */
export const LOG_LEVEL_VARIABLE = 'STEPWISE_LOG_LEVEL';

/**
 * Set by `stepwise run` on every function it hosts: the runtime then leaves out its `task started` and
 * `task succeeded`/`task failed` lines, since the local run report shows every attempt.
 */
export const LOCAL_RUN_VARIABLE = 'STEPWISE_LOCAL';

const levels = ['info', 'warn', 'error', 'silent'] as const;
type Level = (typeof levels)[number];

/**
 * A logger whose lines carry `context` (run id, pipeline, task, attempt), writing with `write`.
 * A log call never throws: a field JSON cannot write is replaced by a note saying so.
 */
export function taskLogger(
  context: LogFields,
  write: (line: string) => void = (line) => process.stdout.write(line),
): TaskLogger {
  const setting = process.env[LOG_LEVEL_VARIABLE] || 'info';
  const lowest = Math.max(levels.indexOf(setting as Level), 0);
  const line = (level: Level, message: string, fields?: LogFields) => {
    if (levels.indexOf(level) < lowest) return;
    const head = { timestamp: new Date().toISOString(), level, message, ...context };
    let text: string;
    try {
      text = JSON.stringify({ ...head, ...fields, ...head }, jsonField);
    } catch (error) {
      text = JSON.stringify({ ...head, fields: `not logged: ${(error as Error).message}` });
    }
    write(`${text}\n`);
  };
  if (lowest === 0 && !levels.includes(setting as Level)) {
    line(
      'warn',
      `${LOG_LEVEL_VARIABLE} is '${setting}'; expected one of ${levels.join(', ')}. Logging at info.`,
    );
  }
  return {
    info: (message, fields) => line('info', message, fields),
    warn: (message, fields) => line('warn', message, fields),
    error: (message, fields) => line('error', message, fields),
  };
}

function jsonField(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}
