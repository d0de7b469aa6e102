// A pipeline('x') task needs x's spec beside it on the command line: refused before any synth, with the
// command that works.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stepwise, tempStateDir } from '../local/stepwise-cli.ts';

const monthEnd = fileURLToPath(new URL('../../examples/month-end/pipeline.ts', import.meta.url));

describe('stepwise run of a pipeline with a nested pipeline() task', () => {
  it("refuses it without the nested pipeline's spec, naming the task and the pipeline to add", async () => {
    const state = tempStateDir('nested-spec');
    try {
      const result = await stepwise('run', monthEnd, '--state-dir', state.dir);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /^error: task 'analytics' of 'month-end' runs pipeline\('analytics'\), which none of the given specs defines; give its spec too, like stepwise run .*examples\/month-end\/pipeline\.ts <path to analytics's spec>\n/,
      );
    } finally {
      state.remove();
    }
  });
});
