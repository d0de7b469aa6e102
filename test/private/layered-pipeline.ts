// A pipeline in layers, shared by the split and definition-asset tests: each task after two of the
// layer before (not series-parallel), each running the nested fixtures' count.ts, which returns one
// more than the sum of its inputs, so a task of layer k returns 2^(k+1) - 1.
import { fileURLToPath } from 'node:url';
import { definePipeline } from '../../lib/spec/define-pipeline.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';

const specFile = fileURLToPath(new URL('../fixtures/nested/parent.ts', import.meta.url));

export interface LayerShape {
  readonly layers: number;
  readonly width: number;
}

/** The task ids, layer by layer: `l<layer>-t<slot>`. */
export function layeredIds({ layers, width }: LayerShape): string[] {
  return Array.from({ length: layers * width }, (_, n) => `l${Math.floor(n / width)}-t${n % width}`);
}

/** `extra(id)` adds fields to a task (a retry, params). */
export function layeredPipeline(
  name: string,
  shape: LayerShape,
  extra: (id: string) => Record<string, unknown> = () => ({}),
): PipelineDefinition {
  const tasks: Record<string, unknown> = {};
  for (const id of layeredIds(shape)) {
    const [layer, slot] = id.slice(1).split('-t').map(Number) as [number, number];
    tasks[id] = {
      run: { kind: 'lambda', entry: './count.ts' },
      after: layer === 0 ? [] : [`l${layer - 1}-t${slot}`, `l${layer - 1}-t${(slot + 1) % shape.width}`],
      ...extra(id),
    };
  }
  return definePipeline({ name, tasks } as never, { specFile });
}

/** What each task returns when every task succeeds: 2^(k+1) - 1 for a task of layer k. */
export function layeredResults(ids: readonly string[]): Record<string, { n: number }> {
  return Object.fromEntries(ids.map((id) => [id, { n: 2 ** (Number(id.slice(1).split('-')[0]) + 1) - 1 }]));
}
