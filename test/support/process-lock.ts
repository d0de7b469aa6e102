// A lock between the test processes (vitest's forks) for work only one of them may do at a time: a
// directory only one of them can create, naming its holder.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A lock whose holder wrote no pid within this long died while taking it. */
const UNCLAIMED_LOCK_MS = 30_000;

/**
 * Runs `work` holding the lock `lockDir`. Another process's lock is waited for, up to `waitMs`, then an
 * error names `what` and the directory to remove; a lock whose holder died is taken over.
 */
export async function withLock<T>(
  lockDir: string,
  what: string,
  waitMs: number,
  work: () => Promise<T>,
): Promise<T> {
  mkdirSync(join(lockDir, '..'), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (lockIsStale(lockDir)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`waited ${waitMs / 1000} s for ${what} ${lockDir}; remove it if no test runs`);
    // Another process holds it: nothing to await across processes, so look again shortly.
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  writeFileSync(join(lockDir, 'pid'), String(process.pid));
  try {
    return await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** The lock's holder has exited, or never wrote its pid. */
function lockIsStale(lockDir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
  } catch {
    try {
      return Date.now() - statSync(lockDir).mtimeMs > UNCLAIMED_LOCK_MS;
    } catch {
      return false; // released meanwhile
    }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
