import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockStateDir, StateDirBusyError } from '../../lib/local/state-dir.ts';
import { tempStateDir } from './stepwise-cli.ts';

const dirs: (() => void)[] = [];
const fresh = () => {
  const state = tempStateDir('lock');
  dirs.push(state.remove);
  return state.dir;
};
const holder = (dir: string) => JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { pid: number };

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync('true');
  return child.pid as number;
}

afterEach(() => {
  for (const remove of dirs.splice(0)) remove();
});

describe('lockStateDir', () => {
  it('takes the dir, creating it, and gives it back', () => {
    const dir = join(fresh(), 'nested', 'state');
    const release = lockStateDir(dir, 'stepwise run orders');
    expect(holder(dir).pid).toBe(process.pid);
    release();
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });

  it('fails when a live process holds the dir, naming its command', () => {
    const dir = fresh();
    const release = lockStateDir(dir, 'stepwise run orders');
    try {
      expect(() => lockStateDir(dir, 'stepwise runs orders')).toThrowError(StateDirBusyError);
      expect(() => lockStateDir(dir, 'stepwise runs orders')).toThrowError(
        new RegExp(
          `^state dir ${dir} is busy: 'stepwise run orders' \\(pid ${process.pid}\\) has used it since .+\\. Wait for it to finish, or pass another --state-dir\\.$`,
        ),
      );
    } finally {
      release();
    }
    lockStateDir(dir, 'stepwise runs orders')();
  });

  it('takes over a lock whose process is gone', () => {
    const dir = fresh();
    writeFileSync(
      join(dir, 'lock'),
      JSON.stringify({ pid: deadPid(), command: 'stepwise run orders', since: '2026-11-01T00:00:00.000Z' }),
    );
    const release = lockStateDir(dir, 'stepwise runs orders');
    expect(holder(dir).pid).toBe(process.pid);
    release();
  });

  it('takes over a lock file it cannot read', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'lock'), '');
    const release = lockStateDir(dir, 'stepwise runs orders');
    expect(holder(dir).pid).toBe(process.pid);
    release();
  });
});
