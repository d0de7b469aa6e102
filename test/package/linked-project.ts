// A project directory outside the repository whose node_modules resolve as an installed project's would,
// without reaching a registry: each of the repository's own packages is linked in, and `stepwise-cdk`
// either links to the repository itself, so it loads through package.json `exports` (the built dist/),
// or is the packed tarball unpacked, as `npm install <tarball>` would leave it.
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// Asynchronous, so the test worker's event loop keeps answering vitest's RPC (60 s timeout) while a
// slow child runs on a loaded machine.
const run = promisify(execFile);

export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A fresh directory under the system's temporary directory, and its removal. */
export function tempProject(name: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `stepwise-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Packages the repository also holds in another major version, under an alias (package.json
 * devDependencies): `cdk init` asks for TypeScript 7 (`typescript: ~7.0.2`), the repository builds with 5.
 */
const OTHER_MAJORS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  typescript: { '7': 'typescript-7' },
};

/**
 * Links each of the repository's packages (and its node_modules/.bin) into `dir`'s node_modules. Where
 * `dir`'s package.json asks for a major version of a package that the repository holds under an alias
 * (OTHER_MAJORS), that copy is linked under the package's name, as `npm install` would give the project.
 */
function linkDependencies(dir: string): string {
  const modules = join(dir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  const own = join(repositoryRoot, 'node_modules');
  const wanted = wantedVersions(dir);
  for (const entry of readdirSync(own)) {
    if (entry === '.cache' || entry === '.package-lock.json') continue;
    symlinkSync(join(own, otherMajor(entry, wanted[entry]) ?? entry), join(modules, entry));
  }
  // .bin's links are relative (`../typescript/bin/tsc`): copied rather than linked as a whole, they lead
  // to the packages linked here, an alias among them.
  if (Object.keys(OTHER_MAJORS).some((name) => otherMajor(name, wanted[name]))) {
    rmSync(join(modules, '.bin'));
    cpSync(join(own, '.bin'), join(modules, '.bin'), { recursive: true, verbatimSymlinks: true });
  }
  return modules;
}

/** The alias holding the major version `range` asks for of `name`, when it is not the repository's own. */
function otherMajor(name: string, range: string | undefined): string | undefined {
  const major = /^[~^]?(\d+)\./.exec(range ?? '')?.[1];
  return major === undefined ? undefined : OTHER_MAJORS[name]?.[major];
}

/** The version ranges `dir`'s package.json asks for, dependencies and devDependencies together. */
function wantedVersions(dir: string): Record<string, string> {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return {};
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  return { ...manifest.dependencies, ...manifest.devDependencies };
}

/** Gives `dir` a node_modules holding links to the repository's packages and to stepwise-cdk itself. */
export function linkNodeModules(dir: string): void {
  symlinkSync(repositoryRoot, join(linkDependencies(dir), 'stepwise-cdk'));
}

/**
 * Gives `dir` a node_modules holding links to the repository's packages and `stepwise-cdk` unpacked
 * from `tarball` (the output of `npm pack`): only what the tarball holds is there to load.
 */
export async function installPacked(dir: string, tarball: string): Promise<string> {
  const target = join(linkDependencies(dir), 'stepwise-cdk');
  mkdirSync(target);
  await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  return target;
}

/**
 * `cdk init app --language typescript`, as a user runs it, without installing anything (offline). What it
 * generates depends only on the directory's name (the app's name), so the CLI runs once per name in a
 * test file, and later projects of that name get a copy of its output.
 */
export async function cdkInit(dir: string): Promise<void> {
  const name = basename(dir);
  let generated = cdkInitOutputs.get(name);
  if (!generated) {
    const parent = mkdtempSync(join(tmpdir(), 'stepwise-cdk-init-'));
    cdkInitParents.push(parent);
    const template = join(parent, name);
    mkdirSync(template);
    generated = run(
      join(repositoryRoot, 'node_modules', '.bin', 'cdk'),
      ['init', 'app', '--language', 'typescript', '--generate-only'],
      { cwd: template, env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' } },
    ).then(() => template);
    cdkInitOutputs.set(name, generated);
  }
  mkdirSync(dir, { recursive: true });
  cpSync(await generated, dir, { recursive: true });
}

/** What `cdk init` generated in this test file, by the app's name, and where, for removal at exit. */
const cdkInitOutputs = new Map<string, Promise<string>>();
const cdkInitParents: string[] = [];
process.on('exit', () => {
  for (const parent of cdkInitParents) rmSync(parent, { recursive: true, force: true });
});
