import { inspect } from 'node:util';

// Each class sets `name` by hand: Lambda bundles are minified, which mangles class names, and the Node
// runtime reports `error.name` as the errorType that the state machine's Retry and Catch match on.

/**
 * Bad data: the input is wrong and trying again will not fix it.
 *
 * The compiled state machine never retries a `DataError`; it sends the run to the quarantine branch,
 * which moves the triggering S3 object aside and records `reason`.
 */
export class DataError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'DataError';
  }
}

/** A gate task returned something other than `{ pass: boolean, reason?: string }`. */
export class GateOutputError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'GateOutputError';
  }
}

/** The event a task received does not match the contract the compiled state machine builds. */
export class TaskEventError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'TaskEventError';
  }
}

/** A task returned an output that cannot travel through Step Functions: not JSON, or too large. */
export class TaskOutputError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'TaskOutputError';
  }
}

/** The function's environment does not hold what the pipeline deploys it with. */
export class TaskEnvironmentError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'TaskEnvironmentError';
  }
}

/**
 * A task threw something that is not an `Error`, such as `throw { code: 42 }` or `throw 'failed'`.
 * Lambda's Node runtime would report such a value as `[object Object]`, so `defineTask` turns it into
 * this error, whose message shows the value. It is retried like any other failure.
 */
export class ThrownValueError extends Error {
  /** The value the task threw. */
  readonly value: unknown;

  constructor(value: unknown) {
    super(
      `the task threw ${describeThrown(value)}, which is not an Error; throw new Error('...') (or DataError for bad data) so its message and stack reach the ledger`,
    );
    this.name = 'ThrownValueError';
    this.value = value;
  }
}

function describeThrown(value: unknown): string {
  const shown = inspect(value, { depth: 2, breakLength: Number.POSITIVE_INFINITY, maxStringLength: 200 });
  const short = shown.length > 300 ? `${shown.slice(0, 297)}...` : shown;
  if (value === null || value === undefined) return short;
  const kind = Array.isArray(value)
    ? 'an array'
    : typeof value === 'object'
      ? 'an object'
      : `a ${typeof value}`;
  return `${kind}, ${short}`;
}
