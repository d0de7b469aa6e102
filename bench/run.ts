// npm run bench: builds the package, runs every benchmark under bench/ in sequence (each its own script
// and child process, so each can also be run alone), and writes bench/RESULTS.md from their JSON in
// bench/results/. The sections it generates sit between `<!-- bench:NAME -->` markers and are replaced
// on each run; every other heading in RESULTS.md (benchmarks that write their own prose) is kept.
// Run: npm run bench [-- --only local-loop,synth] [-- --rounds N] [-- --render-only]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSection, SECTION_ORDER } from './render-results.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_MD = join(ROOT, 'bench', 'RESULTS.md');
const flag = (name: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
};
const only = flag('only')?.split(',');
/** Runs nothing: writes RESULTS.md again from the JSON already in bench/results. */
const renderOnly = process.argv.includes('--render-only');
const rounds = flag('rounds') ?? '3';

interface Benchmark {
  readonly name: string;
  readonly args?: readonly string[];
  /** Written by another area: run here, its prose in RESULTS.md is its own. */
  readonly foreign?: boolean;
}

const BENCHMARKS: readonly Benchmark[] = [
  { name: 'local-loop', args: ['--rounds', rounds, '--cpu-prof'] },
  { name: 'engine-overhead' },
  { name: 'transitions' },
  { name: 'synth' },
  { name: 'cold-start' },
  { name: 'dispatcher', foreign: true },
  { name: 'makespan', foreign: true },
  { name: 'iam', foreign: true },
  { name: 'cli-start', foreign: true },
  { name: 'task-runtime-size', foreign: true },
];

const git = (...args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trimEnd();
  } catch {
    return '';
  }
};
const nproc = (() => {
  try {
    return execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();
/** What code a step measures: the commit, and the files under lib/, lambdas/, bin/, examples/ not committed. */
function codeNow(): string {
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const changed = git('status', '--porcelain', '--', 'lib', 'lambdas', 'bin', 'examples')
    .split('\n')
    .filter(Boolean);
  return changed.length
    ? `${commit} + ${changed.length} uncommitted: ${changed.map((l) => l.slice(3)).join(', ')}`
    : commit;
}

interface LogEntry {
  readonly name: string;
  readonly code: string;
  readonly status: string;
  readonly seconds: number;
  readonly loadBefore: number[];
  readonly loadAfter: number[];
}

const load = () => loadavg().map((x) => Math.round(x * 10) / 10);

function run(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', env: process.env });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

const log: LogEntry[] = [];
const started = new Date();

// The benchmarks of the built CLI (cli-start) read dist/: build it first. (The local loop compiles its
// own copy, since dist/ is shared.)
if (!renderOnly) {
  const measured = codeNow();
  const loadBefore = load();
  const t0 = performance.now();
  const code = await run(process.execPath, [join(ROOT, 'scripts', 'build.mjs')]);
  log.push({
    name: 'npm run build',
    code: measured,
    status: code === 0 ? 'ok' : `failed (exit ${code}); what reads dist/ runs whatever it holds`,
    seconds: Math.round((performance.now() - t0) / 1000),
    loadBefore,
    loadAfter: load(),
  });
}

for (const bench of BENCHMARKS) {
  if (renderOnly || (only && !only.includes(bench.name))) continue;
  const script = join(ROOT, 'bench', `${bench.name}.ts`);
  if (!existsSync(script)) {
    log.push({
      name: bench.name,
      code: codeNow(),
      status: `skipped: bench/${bench.name}.ts does not exist yet`,
      seconds: 0,
      loadBefore: load(),
      loadAfter: load(),
    });
    continue;
  }
  process.stderr.write(`\n== bench/${bench.name}.ts\n`);
  const measured = codeNow();
  const loadBefore = load();
  const t0 = performance.now();
  const code = await run(process.execPath, ['--import', 'tsx', script, ...(bench.args ?? [])]);
  const result = join(ROOT, 'bench', 'results', `${bench.name}.json`);
  const fresh = existsSync(result) && statSync(result).mtimeMs >= started.getTime();
  log.push({
    name: bench.name,
    code: measured,
    status: code === 0 ? (fresh ? 'ok' : 'ok, but wrote no bench/results JSON') : `failed (exit ${code})`,
    seconds: Math.round((performance.now() - t0) / 1000),
    loadBefore,
    loadAfter: load(),
  });
}

// RESULTS.md: the generated blocks replaced or inserted, everything else kept as it is.
// The run log keeps the last entry of each step, so a partial run (--only) keeps the others' lines.
const LOG_FILE = join(ROOT, 'bench', 'results', 'run-log.json');
const previous: (LogEntry & { at?: string })[] = existsSync(LOG_FILE)
  ? JSON.parse(readFileSync(LOG_FILE, 'utf8'))
  : [];
const stamped = log.map((l) => ({ ...l, at: started.toISOString().slice(0, 16).replace('T', ' ') }));
const merged = [...stamped, ...previous.filter((p) => !stamped.some((l) => l.name === p.name))].sort(
  (a, b) =>
    ['npm run build', ...BENCHMARKS.map((x) => x.name)].indexOf(a.name) -
    ['npm run build', ...BENCHMARKS.map((x) => x.name)].indexOf(b.name),
);
writeFileSync(LOG_FILE, `${JSON.stringify(merged, null, 2)}\n`);
let text = existsSync(RESULTS_MD) ? readFileSync(RESULTS_MD, 'utf8') : '# Benchmark results\n';
const block = (name: string, body: string) =>
  `<!-- bench:${name} -->\n${body.trim()}\n<!-- /bench:${name} -->`;
const header = [
  `Written by \`npm run bench\` (bench/run.ts) at ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC,`,
  `on ${availableParallelism()} cores (\`nproc\`: ${nproc || 'not available'}; ${cpus()[0]?.model ?? 'unknown CPU'}),`,
  `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. The machine is shared: each section gives the`,
  'load average (1, 5 and 15 minutes) when its benchmark started and ended. Ratios are against a baseline',
  'measured in the same run; times are medians. Raw figures: `bench/results/*.json`. The sections between',
  '`<!-- bench:... -->` markers are generated; the others are written by hand with their benchmark.',
  '',
  'Each step ran on the code its row names: the commit, and any uncommitted files under lib/, lambdas/,',
  "bin/ or examples/ of the shared working tree (other areas' work in progress) at the time.",
  '',
  '| step | run at (UTC) | code | status | took | load before | load after |',
  '| --- | --- | --- | --- | ---: | --- | --- |',
  ...merged.map(
    (l) =>
      `| ${l.name} | ${l.at ?? ''} | ${l.code ?? ''} | ${l.status} | ${l.seconds} s | ${l.loadBefore.join(', ')} | ${l.loadAfter.join(', ')} |`,
  ),
].join('\n');

// Every section is rendered from its JSON, which says when it was measured: a benchmark left out of
// this run (--only) or failed keeps the figures of its last run, dated.
const sections: [string, string][] = [['run', header]];
for (const name of SECTION_ORDER) {
  const file = join(ROOT, 'bench', 'results', `${name}.json`);
  if (!existsSync(file)) continue;
  sections.push([name, renderSection(name, JSON.parse(readFileSync(file, 'utf8')))]);
}
for (const [name, body] of sections) {
  const pattern = new RegExp(`<!-- bench:${name} -->[\\s\\S]*?<!-- /bench:${name} -->`);
  if (pattern.test(text)) text = text.replace(pattern, () => block(name, body));
  else {
    // A new block goes after the last generated one, or right under the title: before any hand-written heading.
    const ends = [...text.matchAll(/<!-- \/bench:[a-z-]+ -->\n/g)];
    const last = ends.at(-1);
    const at = last ? (last.index ?? 0) + last[0].length : text.indexOf('\n') + 1;
    text = `${text.slice(0, at)}\n${block(name, body)}\n${text.slice(at)}`;
  }
}
writeFileSync(RESULTS_MD, `${text.replace(/\n{3,}/g, '\n\n').trimEnd()}\n`);
// The scripts write JSON.stringify's layout; the repository's formatter (biome, over every file) wants
// its own. Only this area's results: the other benchmarks' files are theirs.
await run(process.execPath, [
  join(ROOT, 'node_modules', '@biomejs', 'biome', 'bin', 'biome'),
  'format',
  '--write',
  ...[...SECTION_ORDER, 'run-log', 'dispatcher']
    .map((name) => join(ROOT, 'bench', 'results', `${name}.json`))
    .filter(existsSync),
]);
process.stderr.write(`\nwrote ${RESULTS_MD}\n`);
for (const l of log) process.stderr.write(`  ${l.name}: ${l.status} (${l.seconds} s)\n`);
process.exitCode = log.some((l) => l.status.startsWith('failed')) ? 1 : 0;
