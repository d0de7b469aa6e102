/** One problem found in a spec, at a path such as `tasks.publish.after[0]`. */
export interface SpecIssue {
  readonly path: string;
  readonly message: string;
}

/** A pipeline spec that cannot be compiled. Lists every problem found, not just the first. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  readonly issues: readonly SpecIssue[];
  readonly pipeline: string | undefined;

  constructor(issues: readonly SpecIssue[], options: { pipeline?: string; cause?: unknown } = {}) {
    const where = options.pipeline ? `pipeline '${options.pipeline}'` : 'pipeline spec';
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(`${where} has ${count}:\n${issues.map((i) => `  - ${formatIssue(i)}`).join('\n')}`, {
      cause: options.cause,
    });
    this.issues = issues;
    this.pipeline = options.pipeline;
  }
}

/**
 * A SpecError from another copy of this library: the compiled CLI loads a user's spec through tsx,
 * which may give the spec its own instance of the package, whose SpecError is another class. Known by
 * its shape, it is reported as this copy's own.
 */
export function asSpecError(error: unknown): SpecError | undefined {
  if (error instanceof SpecError) return error;
  if (!(error instanceof Error) || error.name !== 'SpecError') return undefined;
  const { issues, pipeline } = error as { issues?: unknown; pipeline?: unknown };
  if (!Array.isArray(issues) || !issues.every(isIssue)) return undefined;
  return new SpecError(issues, { ...(typeof pipeline === 'string' ? { pipeline } : {}), cause: error });
}

function isIssue(value: unknown): value is SpecIssue {
  const issue = value as Partial<SpecIssue> | null;
  return typeof issue?.path === 'string' && typeof issue.message === 'string';
}

export function formatIssue(issue: SpecIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** Formats a path as written in the spec: `tasks.publish.after[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}
