import { definePipeline } from '../../lib/spec/define-pipeline.ts';
import type { PipelineDefinition, TaskSpec } from '../../lib/spec/types.ts';
import { CHECK_HANDLER, FIXTURE_SPEC_FILE, NOTIFY_HANDLER, STEP_HANDLER } from './specs.ts';

const WIDTH = 10;

/**
 * A pipeline of `size` tasks in layers of ten, each task after two tasks of the layer before (so the
 * graph is not series-parallel), with a gate, a non-critical task and, every fifth layer, a retry group
 * in each layer. Three handler files serve them all, as a large real pipeline reuses a few handlers.
 */
export function largePipeline(size: number, name = 'large'): PipelineDefinition {
  const tasks: Record<string, TaskSpec> = {};
  const id = (layer: number, slot: number) => `l${layer}-t${slot}`;
  for (let n = 0; n < size; n++) {
    const layer = Math.floor(n / WIDTH);
    const slot = n % WIDTH;
    const previous = layer === 0 ? [] : [id(layer - 1, slot), id(layer - 1, (slot + 1) % WIDTH)];
    const after = previous.filter((dep) => Number(dep.split('-t')[1]) + (layer - 1) * WIDTH < size);
    const task: TaskSpec = { run: { kind: 'lambda', entry: STEP_HANDLER }, after };
    if (slot === 3)
      tasks[id(layer, slot)] = { ...task, run: { kind: 'lambda', entry: CHECK_HANDLER }, gate: true };
    else if (slot === 7)
      tasks[id(layer, slot)] = { ...task, run: { kind: 'lambda', entry: NOTIFY_HANDLER }, critical: false };
    else if (slot === 0 && layer > 0 && layer % 5 === 0)
      tasks[id(layer, slot)] = { ...task, retry: { attempts: 2, from: id(layer - 1, 0) } };
    else tasks[id(layer, slot)] = task;
  }
  return definePipeline(
    {
      name,
      triggers: [
        { kind: 's3ObjectCreated', bucket: 'large-landing', prefix: 'in/' },
        { kind: 'schedule', expression: 'cron(0 3 * * ? *)', timezone: 'UTC' },
      ],
      tasks,
      timeout: '12h',
    },
    { specFile: FIXTURE_SPEC_FILE },
  );
}
