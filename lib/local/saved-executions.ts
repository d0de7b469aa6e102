import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionRecord } from './engine.ts';
import type { AwsHistoryEvent } from './history-log.ts';

/** A finished execution as the state dir keeps it: enough to redrive it in a later command. */
export interface SavedExecution {
  readonly arn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  readonly status: string;
  readonly startDate: string;
  readonly stopDate: string | undefined;
  readonly redriveCount: number;
  readonly events: readonly AwsHistoryEvent[];
  /**
   * Task states whose last attempt succeeded, with that output, as the history log keeps them. A
   * redrive reads where to resume from `events` (see `redriveDefinition`), not from this.
   */
  readonly succeededOutputs: Readonly<Record<string, unknown>>;
  /** The command that ran it: an execution saved RUNNING outlived its process when nobody holds the lock. */
  readonly owner?: ExecutionOwner;
}

export interface ExecutionOwner {
  readonly pid: number;
  readonly command: string;
}

const DIR = 'executions';

/** `<state-dir>/executions/<name>.json`; execution names are unique per state machine and file-safe. */
function fileOf(stateDir: string, name: string): string {
  return join(stateDir, DIR, `${name}.json`);
}

/**
 * Saved when the execution starts, after each task that succeeds, and when it ends, so that a command
 * killed mid-run leaves what it had done. Written to a temporary file and renamed: a kill mid-write
 * leaves the previous copy whole.
 */
export function saveExecution(stateDir: string, record: ExecutionRecord, owner?: ExecutionOwner): void {
  mkdirSync(join(stateDir, DIR), { recursive: true });
  const saved: SavedExecution = {
    arn: record.arn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    input: record.input,
    status: record.status,
    startDate: record.startDate.toISOString(),
    stopDate: record.stopDate?.toISOString(),
    redriveCount: record.redriveCount,
    events: record.log.events,
    succeededOutputs: Object.fromEntries(record.log.succeededOutputs),
    ...(owner ? { owner } : {}),
  };
  const file = fileOf(stateDir, record.name);
  writeFileSync(`${file}.tmp`, JSON.stringify(saved));
  renameSync(`${file}.tmp`, file);
  // A marker beside it while it runs, so a later command finds what was left running without
  // reading every execution the state dir ever kept.
  const marker = `${file}${RUNNING_MARKER}`;
  if (record.status === 'RUNNING') writeFileSync(marker, '');
  else rmSync(marker, { force: true });
}

/** Every saved execution still RUNNING: left by a command that ended before its executions did. */
export function runningExecutions(stateDir: string): SavedExecution[] {
  const dir = join(stateDir, DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(RUNNING_MARKER))
    .flatMap((f) => {
      const file = join(dir, f.slice(0, -RUNNING_MARKER.length));
      try {
        const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedExecution;
        return saved.status === 'RUNNING' ? [saved] : [];
      } catch {
        return []; // not an execution this version wrote
      }
    });
}

const RUNNING_MARKER = '.running';

export function loadExecution(stateDir: string, name: string): SavedExecution | undefined {
  const file = fileOf(stateDir, name);
  if (!/^[A-Za-z0-9_-]+$/.test(name) || !existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as SavedExecution;
}
