import type * as z from 'zod/mini';

/**
 * Plain-English zod issues for drop reasons and configuration errors. zod/mini ships no messages (every
 * issue reads "Invalid input"), and its English locale bundles every other locale with it; this map
 * covers what the dispatcher's schemas can report in a few lines. Passed per parse, so the global zod
 * configuration of whatever process imports this stays untouched.
 */
export const explainIssue: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, received ${kindOf(issue.input)}`;
    case 'invalid_value':
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, received ${JSON.stringify(issue.input) ?? 'nothing'}`;
    case 'too_small':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `expected at least ${issue.minimum} ${issue.origin === 'array' ? 'item(s)' : 'character(s)'}`
        : `expected a number ${issue.inclusive ? '>=' : '>'} ${issue.minimum}, received ${JSON.stringify(issue.input)}`;
    case 'invalid_format':
      return issue.format === 'datetime'
        ? `expected an ISO 8601 time with Z or an offset, such as 2026-11-01T02:00:00Z, received ${JSON.stringify(issue.input)}`
        : `expected a ${issue.format}, received ${JSON.stringify(issue.input)}`;
    case 'invalid_union': {
      // A discriminated union names its discriminator and the values it knows.
      const { discriminator, options } = issue as { discriminator?: string; options?: unknown[] };
      if (!discriminator || !options?.length) return 'matches none of the accepted shapes';
      const received = (issue.input as Record<string, unknown> | undefined)?.[discriminator];
      return `expected one of ${options.map((o) => `'${String(o)}'`).join(', ')}, received ${JSON.stringify(received) ?? 'nothing'}`;
    }
    default:
      return undefined;
  }
};

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value === undefined) return 'nothing';
  return typeof value;
}
