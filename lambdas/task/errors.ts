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
