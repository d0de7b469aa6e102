import { fileURLToPath } from 'node:url';
import { definePipeline } from '../../lib/spec/define-pipeline.ts';
import { formatIssue, SpecError } from '../../lib/spec/errors.ts';
import type { PipelineDefinition, PipelineSpec, TaskSpec } from '../../lib/spec/types.ts';

/** The repository root, written as `<repo>` in pinned error text so snapshots hold on any machine. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

/**
 * Specs built in tests live, as far as handler paths go, in `test/fixtures/`: `./handlers/step.ts`
 * is a real file there.
 */
export const FIXTURE_SPEC_FILE = fileURLToPath(new URL('../fixtures/inline-spec.ts', import.meta.url));

export const STEP_HANDLER = './handlers/step.ts';
export const CHECK_HANDLER = './handlers/check.ts';
export const NOTIFY_HANDLER = './handlers/notify.ts';

/** A task that runs the step handler, with whatever else the test gives it. */
export type TestTask = Omit<TaskSpec, 'run'> & Partial<Pick<TaskSpec, 'run'>>;

/** A checked pipeline made of tasks that all run fixture handlers. */
export function testPipeline(
  tasks: Readonly<Record<string, TestTask>>,
  rest: Partial<Omit<PipelineSpec, 'tasks'>> = {},
): PipelineDefinition {
  const full: Record<string, TaskSpec> = {};
  for (const [id, task] of Object.entries(tasks)) {
    full[id] = { run: { kind: 'lambda', entry: STEP_HANDLER }, ...task };
  }
  return definePipeline({ name: 'test', ...rest, tasks: full }, { specFile: FIXTURE_SPEC_FILE });
}

/** Tasks given as `id: [after...]`, the shape most plan tests need. */
export function pipelineFromEdges(edges: Readonly<Record<string, readonly string[]>>): PipelineDefinition {
  return testPipeline(Object.fromEntries(Object.entries(edges).map(([id, after]) => [id, { after }])));
}

/**
 * Runs `define` and returns the SpecError it throws, formatted one issue a line with the repository
 * root as `<repo>`. Fails the test when nothing, or something else, is thrown.
 */
export function specIssues(define: () => unknown): string[] {
  try {
    define();
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    return error.issues.map((issue) => formatIssue(issue).replaceAll(REPO_ROOT, '<repo>'));
  }
  throw new Error('expected a SpecError, but the spec was accepted');
}

/** Passes a value the types would reject, as a user writing plain JavaScript or YAML-ish config could. */
export function untyped(spec: unknown): PipelineSpec {
  return spec as PipelineSpec;
}
