import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Another command holds the state dir. */
export class StateDirBusyError extends Error {
  override readonly name = 'StateDirBusyError';
}

/**
 * Takes the state dir for one command. The ledger store (LevelDB) and the S3 store are not safe to
 * share between processes, so a second command on the same dir is refused with a clear message, and
 * a lock left by a process that has died is taken over.
 */
export function lockStateDir(stateDir: string, command: string): () => void {
  const dir = resolve(stateDir);
  mkdirSync(dir, { recursive: true });
  const lockFile = join(dir, 'lock');
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, command, since: new Date().toISOString() }));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(lockFile);
      if (holder && isAlive(holder.pid)) {
        throw new StateDirBusyError(
          `state dir ${dir} is busy: '${holder.command}' (pid ${holder.pid}) has used it since ${holder.since}. Wait for it to finish, or pass another --state-dir.`,
        );
      }
      rmSync(lockFile, { force: true }); // stale: its process is gone
    }
  }
  throw new StateDirBusyError(`state dir ${dir} is busy; try again`);
}

function readHolder(lockFile: string): { pid: number; command: string; since: string } | undefined {
  try {
    return JSON.parse(readFileSync(lockFile, 'utf8'));
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
