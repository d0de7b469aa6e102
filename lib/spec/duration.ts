/** A duration written as a number and a unit: `'500ms'`, `'2s'`, `'5m'`, `'1h'` or `'1d'`. */
export type DurationText = `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Milliseconds in a duration string, or undefined when the string is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
}

export const DURATION_HINT = "write it as a number and a unit, like '500ms', '2s', '5m' or '1h'";

/** Whole seconds, rounded up, at least `min`. Step Functions counts in whole seconds. */
export function toSeconds(ms: number, min = 0): number {
  return Math.max(min, Math.ceil(ms / 1000));
}
