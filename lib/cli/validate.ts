import { compilePipeline } from '../compile/states.ts';
import { SpecError } from '../spec/errors.ts';
import { CliUsageError } from './errors.ts';
import { type GraphFormat, renderGraph } from './graph-format.ts';
import { loadSpec } from './load-spec.ts';
import type { CliOptions } from './main.ts';
import { type Output, write } from './render.ts';

// validate and graph load the spec and the compiler only: no CDK, no local engine, so they answer fast.

export async function validateCommand(
  specPath: string,
  options: CliOptions,
  output: Output,
): Promise<number> {
  try {
    const spec = await loadSpec(specPath);
    const compiled = compilePipeline(spec);
    if (options.json) {
      write(output, {
        ok: true,
        pipeline: spec.name,
        tasks: spec.tasks.length,
        states: Object.keys(compiled.definition.States).length,
        exactPlan: compiled.plan.exact,
        problems: [],
      });
    } else {
      output.out.write(
        `ok: pipeline '${spec.name}' is valid: ${counted(spec.tasks.length, 'task')}, ${counted(compiled.handlers.length, 'handler function')}, ${counted(spec.triggers.length, 'trigger')}\n`,
      );
      if (!compiled.plan.exact)
        output.out.write(
          'note: the task graph is not series-parallel; some tasks wait longer than their dependencies require\n',
        );
    }
    return 0;
  } catch (error) {
    if (!(error instanceof SpecError) || !options.json) throw error;
    write(output, { ok: false, pipeline: error.pipeline ?? null, problems: error.issues });
    return 1;
  }
}

export async function graphCommand(specPath: string, options: CliOptions, output: Output): Promise<number> {
  const format = (options.format ?? 'mermaid') as GraphFormat;
  if (format !== 'mermaid' && format !== 'dot')
    throw new CliUsageError(`--format must be mermaid or dot, got '${format}'`);
  const spec = await loadSpec(specPath);
  output.out.write(`${renderGraph(spec, format)}\n`);
  return 0;
}

/** `1 task`, `2 tasks`. */
function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
