/**
 * One task attempt: a row the ledger keeps under `RUN#<runId>`. `summarizeExecutionHistory` (history.ts)
 * makes them from GetExecutionHistory, which the local engine serves in the same shape.
 */
export type AttemptStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface TaskAttempt {
  readonly task: string;
  /** Counts from 1 across the whole run, group retries included. */
  readonly attempt: number;
  readonly status: AttemptStatus;
  readonly startedAt: string;
  readonly endedAt: string | undefined;
  readonly durationMs: number | undefined;
  readonly error: string | undefined;
  readonly cause: string | undefined;
}

/** The message inside a Lambda error's cause (`{"errorType","errorMessage","trace"}`), or the cause itself. */
export function causeMessage(cause: string | undefined): string | undefined {
  if (cause === undefined) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}
