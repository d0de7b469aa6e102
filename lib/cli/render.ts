import type { RunReport } from '../ledger/ledger.ts';
import type { RuntimeEvent } from '../local/runtime.ts';

export interface Output {
  readonly out: NodeJS.WritableStream & { isTTY?: boolean };
  readonly err: NodeJS.WritableStream;
}

const COLORS = process.env.NO_COLOR === undefined;
const paint = (code: number, text: string, tty: boolean) =>
  tty && COLORS ? `\u001b[${code}m${text}\u001b[0m` : text;

const STATUS_COLOR: Record<string, number> = {
  SUCCEEDED: 32,
  DEDUPLICATED: 36,
  FAILED: 31,
  TIMED_OUT: 31,
  QUARANTINED: 33,
  SKIPPED: 90,
};

/**
 * Live progress for people: one line per task attempt as it ends, with its status, attempt and time.
 * On a TTY the running tasks show on a spinner line that is redrawn in place.
 */
export class ProgressRenderer {
  private readonly running = new Map<string, { attempt: number; since: number }>();
  private readonly tty: boolean;
  private spinner: NodeJS.Timeout | undefined;
  private frame = 0;

  constructor(private readonly output: Output) {
    this.tty = Boolean(output.out.isTTY);
  }

  handle(event: RuntimeEvent): void {
    switch (event.type) {
      case 'phase':
        this.line(paint(90, `  ${event.phase} ready in ${formatMs(event.ms)}`, this.tty));
        break;
      case 'execution-started':
        this.line(`  run ${event.name}`);
        this.startSpinner();
        break;
      case 'task-started':
        this.running.set(event.task, { attempt: event.attempt, since: Date.parse(event.at) });
        if (!this.tty)
          this.line(`  … ${event.task} started${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`);
        break;
      case 'task-succeeded':
      case 'task-failed': {
        const started = this.running.get(event.task);
        this.running.delete(event.task);
        const took = started ? formatMs(Date.parse(event.at) - started.since) : '';
        const attempt = event.attempt > 1 ? ` attempt ${event.attempt}` : '';
        if (event.type === 'task-succeeded') {
          this.line(`  ${paint(32, '✔', this.tty)} ${event.task}${attempt} ${paint(90, took, this.tty)}`);
        } else {
          this.line(
            `  ${paint(31, '✖', this.tty)} ${event.task}${attempt} failed ${paint(90, took, this.tty)}: ${event.error}: ${shortCause(event.cause)}`,
          );
        }
        break;
      }
      case 'alert':
        this.line(paint(33, `  ⚑ alert: ${event.alert.subject}`, this.tty));
        for (const text of event.alert.message.split('\n').slice(0, 3))
          this.line(paint(33, `      ${text}`, this.tty));
        break;
      case 'execution-finished':
        this.stopSpinner();
        break;
      case 'notice':
        this.line(paint(33, `  note: ${event.message}`, this.tty));
        break;
    }
  }

  close(): void {
    this.stopSpinner();
  }

  private line(text: string): void {
    if (this.tty) this.output.out.write('\r\u001b[2K');
    this.output.out.write(`${text}\n`);
    this.drawSpinner();
  }

  private startSpinner(): void {
    if (!this.tty || this.spinner) return;
    this.spinner = setInterval(() => this.drawSpinner(), 100);
    this.spinner.unref();
  }

  private stopSpinner(): void {
    if (this.spinner) clearInterval(this.spinner);
    this.spinner = undefined;
    if (this.tty) this.output.out.write('\r\u001b[2K');
  }

  private drawSpinner(): void {
    if (!this.spinner || this.running.size === 0) return;
    const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
    const now = Date.now();
    const tasks = [...this.running].map(
      ([task, r]) => `${task}${r.attempt > 1 ? ` #${r.attempt}` : ''} ${formatMs(now - r.since)}`,
    );
    this.output.out.write(`\r\u001b[2K  ${frames[this.frame++ % frames.length]} ${tasks.join(', ')}`);
  }
}

/** The end-of-run summary: status, then one line per task. */
export function renderRunSummary(report: RunReport, tty: boolean): string {
  const lines = [
    `${paint(STATUS_COLOR[report.status] ?? 0, report.status, tty)} ${report.pipeline} run ${report.runId} in ${formatMs(report.durationMs)} (${report.transitions} state transitions)`,
  ];
  if (report.duplicateOf)
    lines.push(`  the same trigger already ran as ${report.duplicateOf}; nothing was processed again`);
  for (const task of report.tasks) {
    const attempts = task.attempts === 1 ? '1 attempt' : task.attempts > 1 ? `${task.attempts} attempts` : '';
    const took =
      task.startedAt && task.endedAt ? formatMs(Date.parse(task.endedAt) - Date.parse(task.startedAt)) : '';
    const detail = [attempts, took].filter(Boolean).join(', ');
    lines.push(
      `  ${task.id.padEnd(16)} ${paint(STATUS_COLOR[task.status] ?? 0, task.status.padEnd(11), tty)} ${detail.padEnd(20)}${task.error ? ` ${paint(90, task.error, tty)}` : ''}`.trimEnd(),
    );
  }
  if (report.quarantine) {
    const where = report.quarantine.key
      ? `moved to s3://${report.quarantine.bucket}/${report.quarantine.key}`
      : 'no S3 input to move';
    lines.push(`  quarantined: ${report.quarantine.reason} (${where})`);
  }
  if (report.error)
    lines.push(
      `  failed in ${report.error.task ?? 'an unknown task'}: ${report.error.error}${report.error.message ? `: ${report.error.message}` : ''}`,
    );
  if (report.warnings?.length)
    lines.push(`  warnings: non-critical task(s) failed: ${report.warnings.join(', ')}`);
  return lines.join('\n');
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

function shortCause(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: show it as it is
  }
  return cause.length > 200 ? `${cause.slice(0, 200)}…` : cause;
}

/** One JSON value on stdout, for `--json`. */
export function write(output: Output, value: unknown): void {
  output.out.write(`${JSON.stringify(value, null, 2)}\n`);
}
