// A project directory outside the repository whose node_modules resolve as an installed project's would,
// without reaching a registry: each of the repository's own packages is linked in, and `stepwise-cdk`
// links to the repository itself, so it loads through package.json `exports` (the built dist/).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A fresh directory under the system's temporary directory, and its removal. */
export function tempProject(name: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `stepwise-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Gives `dir` a node_modules holding links to the repository's packages and to stepwise-cdk itself. */
export function linkNodeModules(dir: string): void {
  const modules = join(dir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  const own = join(repositoryRoot, 'node_modules');
  for (const entry of readdirSync(own)) {
    if (entry === '.cache' || entry === '.package-lock.json') continue;
    symlinkSync(join(own, entry), join(modules, entry));
  }
  symlinkSync(repositoryRoot, join(modules, 'stepwise-cdk'));
}
