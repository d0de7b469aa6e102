// CLI start-up, from the built package (dist/): `stepwise --help` and a usage error against a bare
// `node -e 0`, interleaved in the same run, each in a new process; and `stepwise validate` of the
// reference pipeline (examples/orders/pipeline.ts), wall time. Medians of N runs. The issue's bars:
// --help and usage errors within 8x a bare node start; validate of the reference at most 1.5 s on an
// idle machine (the load average is recorded with the figures).
// Run: node --import tsx bench/cli-start.ts [--runs N]   (npm run build first)
// Writes bench/results/cli-start.json and the "CLI start" section of bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { median, numberFlag, round, writeResult } from './measure.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = fileURLToPath(new URL('../dist/bin/stepwise.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write(`${cli} is missing: run 'npm run build' first\n`);
  process.exit(1);
}
const runs = numberFlag('runs', 15);
const validateRuns = numberFlag('validate-runs', 7);
const COMMAND = 'node --import tsx bench/cli-start.ts';
const loadBefore = loadavg().map((x) => round(x, 2));

interface Way {
  readonly name: string;
  readonly args: readonly string[];
  /** The exit code the command must end with, so a broken command is never timed as a fast one. */
  readonly exit: number;
}

const ways: readonly Way[] = [
  { name: 'node -e 0', args: ['-e', '0'], exit: 0 },
  { name: 'stepwise --help', args: [cli, '--help'], exit: 0 },
  { name: 'stepwise deploy (usage error)', args: [cli, 'deploy'], exit: 2 },
];

function time(args: readonly string[], exit: number): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== exit)
    throw new Error(
      `node ${args.join(' ')} exited ${result.status}, not ${exit}:\n${result.stdout}${result.stderr}`,
    );
  return ms;
}

// One warm-up of each (the file system cache), then the runs, interleaved so drift hits every way alike.
for (const way of ways) time(way.args, way.exit);
const samples = new Map<string, number[]>(ways.map((way) => [way.name, []]));
for (let i = 0; i < runs; i++) for (const way of ways) samples.get(way.name)?.push(time(way.args, way.exit));

const validateArgs = [cli, 'validate', 'examples/orders/pipeline.ts'];
time(validateArgs, 0);
const validateSamples = Array.from({ length: validateRuns }, () => time(validateArgs, 0));

const baseline = median(samples.get('node -e 0') ?? []);
const rows = ways.map((way) => {
  const ms = median(samples.get(way.name) ?? []);
  return { name: way.name, medianMs: round(ms), ratio: round(ms / baseline, 2) };
});
const validateMs = round(median(validateSamples));
const loadAfter = loadavg().map((x) => round(x, 2));

writeResult('cli-start', COMMAND, {
  runs,
  validateRuns,
  startup: rows,
  samples: Object.fromEntries(samples),
  validate: {
    command: 'stepwise validate examples/orders/pipeline.ts',
    medianMs: validateMs,
    samples: validateSamples,
  },
});

const section = `## CLI start (\`bench/cli-start.ts\`, from dist/)

Reproduce: \`npm run build && ${COMMAND}\`. Each command in a new \`node\` process (Node ${process.version},
${availableParallelism()} cores), ${runs} runs each, interleaved with the baseline, after one warm-up; medians.
Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load average (1, 5, 15 min)
${loadBefore.join(', ')} before and ${loadAfter.join(', ')} after.

| command | median | ratio to \`node -e 0\` |
| --- | --- | --- |
${rows.map((row) => `| \`${row.name}\` | ${row.medianMs} ms | ${row.ratio} |`).join('\n')}

\`stepwise validate examples/orders/pipeline.ts\` (loads tsx, the spec, the compiler; no CDK, no engine):
${validateMs} ms median wall time over ${validateRuns} runs (after one warm-up), ${round(validateMs / baseline, 1)}x the bare
node start measured in the same run. The bars: \`--help\` and a
usage error within 8x a bare node start; validate of the reference at most 1.5 s on an idle machine.
`;

const resultsFile = new URL('./RESULTS.md', import.meta.url);
const results = readFileSync(resultsFile, 'utf8');
const heading = /^## CLI start \(`bench\/cli-start\.ts`[^\n]*\n[\s\S]*?(?=^## |(?![\s\S]))/m;
writeFileSync(
  resultsFile,
  heading.test(results)
    ? results.replace(heading, () => `${section}\n`)
    : `${results.trimEnd()}\n\n${section}`,
);
process.stdout.write(section);
