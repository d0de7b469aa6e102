// What every benchmark records beside its figures: when, on what, and how loaded the machine was.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
const startedAt = new Date().toISOString();

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** A number from `--name N` on the command line, else the default. */
export function numberFlag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? Number.NaN : Number(process.argv[at + 1]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/**
 * Writes `bench/results/<name>.json` with the figures and the machine's state: 1/5/15-minute load
 * averages when the benchmark started and ended, and the cores it had.
 */
export function writeResult(name: string, command: string, figures: Record<string, unknown>): void {
  const out = new URL('./results/', import.meta.url);
  mkdirSync(out, { recursive: true });
  const result = {
    benchmark: name,
    command,
    startedAt,
    endedAt: new Date().toISOString(),
    node: process.version,
    cores: availableParallelism(),
    loadBefore,
    loadAfter: loadavg().map((x) => Math.round(x * 100) / 100),
    ...figures,
  };
  writeFileSync(new URL(`${name}.json`, out), `${JSON.stringify(result, null, 2)}\n`);
}
