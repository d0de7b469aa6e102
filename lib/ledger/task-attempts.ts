/**
 * Turns the state-level history of one execution into task attempts: the rows the ledger keeps under
 * `RUN#<runId>`. Pure, so the deployed recorder (on GetExecutionHistory) and the local engine (on its
 * own event log) produce the same rows.
 */
export type HistoryEvent =
  | { readonly type: 'entered'; readonly state: string; readonly at: string }
  | {
      readonly type: 'failed';
      readonly state: string;
      readonly at: string;
      readonly error: string;
      readonly cause: string;
    }
  | { readonly type: 'retried'; readonly state: string; readonly at: string }
  | { readonly type: 'exited'; readonly state: string; readonly at: string };

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

export function taskAttempts(events: readonly HistoryEvent[], tasks: ReadonlySet<string>): TaskAttempt[] {
  const attempts: TaskAttempt[] = [];
  const open = new Map<string, number>();
  const start = (task: string, at: string) => {
    const attempt = attempts.filter((a) => a.task === task).length + 1;
    open.set(task, attempts.length);
    attempts.push({
      task,
      attempt,
      status: 'RUNNING',
      startedAt: at,
      endedAt: undefined,
      durationMs: undefined,
      error: undefined,
      cause: undefined,
    });
  };
  const finish = (task: string, at: string, status: AttemptStatus, error?: string, cause?: string) => {
    const index = open.get(task);
    if (index === undefined) return;
    open.delete(task);
    const current = attempts[index] as TaskAttempt;
    attempts[index] = {
      ...current,
      status,
      endedAt: at,
      durationMs: Date.parse(at) - Date.parse(current.startedAt),
      error,
      cause,
    };
  };
  for (const event of events) {
    if (!tasks.has(event.state)) continue;
    switch (event.type) {
      case 'entered':
      case 'retried':
        start(event.state, event.at);
        break;
      case 'failed':
        finish(event.state, event.at, 'FAILED', event.error, event.cause);
        break;
      case 'exited':
        // A caught failure also exits the state; it was closed as FAILED already.
        finish(event.state, event.at, 'SUCCEEDED');
        break;
    }
  }
  return attempts;
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
