import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * Where stepwise keeps what it can reuse between commands (bundles, checked definitions):
 * `STEPWISE_CACHE_DIR` if set, else `node_modules/.cache/stepwise-cdk` of the project `file` is in
 * (where build tools keep their caches), else the system's temporary directory.
 */
export function stepwiseCacheDir(file: string): string {
  const fromEnv = process.env.STEPWISE_CACHE_DIR;
  if (fromEnv) return resolve(fromEnv);
  for (let dir = dirname(resolve(file)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'stepwise-cdk');
    if (dirname(dir) === dir) return join(tmpdir(), 'stepwise-cdk');
  }
}
