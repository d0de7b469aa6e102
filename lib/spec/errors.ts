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
