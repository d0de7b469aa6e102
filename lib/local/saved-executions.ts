import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
}

const DIR = 'executions';

/** `<state-dir>/executions/<name>.json`; execution names are unique per state machine and file-safe. */
function fileOf(stateDir: string, name: string): string {
  return join(stateDir, DIR, `${name}.json`);
}

export function saveExecution(stateDir: string, record: ExecutionRecord): void {
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
  };
  writeFileSync(fileOf(stateDir, record.name), JSON.stringify(saved));
}

export function loadExecution(stateDir: string, name: string): SavedExecution | undefined {
  const file = fileOf(stateDir, name);
  if (!/^[A-Za-z0-9_-]+$/.test(name) || !existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as SavedExecution;
}
