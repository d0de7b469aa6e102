// The executions a command saves as it goes (lib/local/saved-executions.ts), read back by the next
// command: each save removes the previous copy before renaming the new one into place, so a command
// killed in between leaves the new copy under its temporary name, where the next command finds it.
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../lib/local/engine.ts';
import { loadExecution, runningExecutions, saveExecution } from '../../lib/local/saved-executions.ts';
import { tempStateDir } from './stepwise-cli.ts';

const states: { remove: () => void }[] = [];
afterEach(() => {
  for (const state of states.splice(0)) state.remove();
});

function stateDir(): string {
  const state = tempStateDir('saved-executions');
  states.push(state);
  return state.dir;
}

/** An execution as the engine keeps it, with only what a save reads. */
function record(name: string, status: string, events: number): ExecutionRecord {
  return {
    arn: `arn:aws:states:us-east-1:000000000000:execution:Machine:${name}`,
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Machine',
    name,
    input: '{}',
    status,
    startDate: new Date('2026-01-01T00:00:00Z'),
    stopDate: status === 'RUNNING' ? undefined : new Date('2026-01-01T00:01:00Z'),
    redriveCount: 0,
    log: {
      events: Array.from({ length: events }, (_, i) => ({ id: i + 1, type: 'TaskStateEntered' })),
      succeededOutputs: new Map(),
    },
  } as unknown as ExecutionRecord;
}

describe('saved executions', () => {
  it('keeps one copy per execution, the latest, and a marker while it runs', () => {
    const dir = stateDir();
    saveExecution(dir, record('run-1', 'RUNNING', 1));
    saveExecution(dir, record('run-1', 'RUNNING', 2));
    expect(loadExecution(dir, 'run-1')?.events).toHaveLength(2);
    expect(runningExecutions(dir).map((e) => e.name)).toEqual(['run-1']);
    saveExecution(dir, record('run-1', 'SUCCEEDED', 3));
    expect(loadExecution(dir, 'run-1')?.status).toBe('SUCCEEDED');
    expect(runningExecutions(dir)).toEqual([]);
    expect(readdirSync(join(dir, 'executions'))).toEqual(['run-1.json']);
  });

  it('makes the executions folder again when it was removed', () => {
    const dir = stateDir();
    saveExecution(dir, record('run-1', 'RUNNING', 1));
    rmSync(join(dir, 'executions'), { recursive: true });
    saveExecution(dir, record('run-1', 'RUNNING', 2));
    expect(loadExecution(dir, 'run-1')?.events).toHaveLength(2);
  });

  it('finds the copy a command killed between removing the old copy and renaming the new one left', () => {
    const dir = stateDir();
    saveExecution(dir, record('run-1', 'RUNNING', 1));
    saveExecution(dir, record('run-1', 'RUNNING', 2));
    // What the kill leaves: the new copy whole under its temporary name, the old one gone.
    const file = join(dir, 'executions', 'run-1.json');
    renameSync(file, `${file}.tmp`);
    expect(loadExecution(dir, 'run-1')?.events).toHaveLength(2);
    expect(runningExecutions(dir).map((e) => e.events.length)).toEqual([2]);
    // The next save puts it back in its place.
    saveExecution(dir, record('run-1', 'FAILED', 3));
    expect(existsSync(`${file}.tmp`)).toBe(false);
    expect(loadExecution(dir, 'run-1')?.status).toBe('FAILED');
  });

  it('knows no execution from a first copy cut short mid-write', () => {
    const dir = stateDir();
    saveExecution(dir, record('run-0', 'SUCCEEDED', 1));
    writeFileSync(join(dir, 'executions', 'run-1.json.tmp'), '{"arn":"arn:aws:states:us-east-1');
    writeFileSync(join(dir, 'executions', 'run-1.json.running'), '');
    expect(loadExecution(dir, 'run-1')).toBeUndefined();
    expect(runningExecutions(dir)).toEqual([]);
  });

  it('reads the saved copy, not a temporary one cut short beside it', () => {
    const dir = stateDir();
    saveExecution(dir, record('run-1', 'RUNNING', 2));
    writeFileSync(join(dir, 'executions', 'run-1.json.tmp'), '{"arn":');
    expect(loadExecution(dir, 'run-1')?.events).toHaveLength(2);
    expect(runningExecutions(dir).map((e) => e.name)).toEqual(['run-1']);
  });
});
