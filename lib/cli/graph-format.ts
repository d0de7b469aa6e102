import type { PipelineDefinition } from '../spec/types.ts';

export type GraphFormat = 'mermaid' | 'dot';

/** The task graph as Mermaid or Graphviz text: gates as diamonds, non-critical tasks dashed. */
export function renderGraph(pipeline: PipelineDefinition, format: GraphFormat): string {
  return format === 'dot' ? renderDot(pipeline) : renderMermaid(pipeline);
}

function renderMermaid(pipeline: PipelineDefinition): string {
  const lines = ['flowchart TD'];
  for (const task of pipeline.tasks) {
    const label = [task.id, task.retryFrom ? `retry from ${task.retryFrom}` : '']
      .filter(Boolean)
      .join('<br/>');
    lines.push(`  ${node(task.id)}${task.gate ? `{"${label}"}` : `["${label}"]`}`);
    if (!task.critical) lines.push(`  style ${node(task.id)} stroke-dasharray: 5 5`);
  }
  for (const task of pipeline.tasks) {
    for (const dep of task.after) lines.push(`  ${node(dep)} --> ${node(task.id)}`);
  }
  return lines.join('\n');
}

function renderDot(pipeline: PipelineDefinition): string {
  const lines = [`digraph "${pipeline.name}" {`, '  rankdir=TB;'];
  for (const task of pipeline.tasks) {
    const attrs = [`label="${task.id}${task.retryFrom ? `\\nretry from ${task.retryFrom}` : ''}"`];
    if (task.gate) attrs.push('shape=diamond');
    else attrs.push('shape=box');
    if (!task.critical) attrs.push('style=dashed');
    lines.push(`  "${task.id}" [${attrs.join(', ')}];`);
  }
  for (const task of pipeline.tasks) {
    for (const dep of task.after) lines.push(`  "${dep}" -> "${task.id}";`);
  }
  lines.push('}');
  return lines.join('\n');
}

/** Mermaid ids cannot hold '-'. */
function node(id: string): string {
  return id.replace(/-/g, '_');
}
