// Each class sets `name` by hand: Lambda bundles are minified, which mangles class names.

/** A setting the recorder or reconciler needs is missing from its environment: a deployment bug. */
export class RecorderSettingError extends Error {
  constructor(variable: string, options?: { cause?: unknown }) {
    super(
      `environment variable ${variable} is not set; the stepwise platform construct sets it on the recorder and reconciler functions`,
      options,
    );
    this.name = 'RecorderSettingError';
  }
}

/** EventBridge accepted the PutEvents call but not the "Run Finished" entry. Thrown, so the event is retried. */
export class RunFinishedEventError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'RunFinishedEventError';
  }
}
