// The N shape (c after a and b, d after b), which compiles to latched chains, run end to end through
// `stepwise run`: the latch's DynamoDB writes and reads, its task tokens and SendTaskSuccess go through
// the local engine with every call authorized against the synthesized state-machine role.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliResult,
  fixture,
  jsonOf,
  type RunJson,
  stepwise,
  taskOf,
  tempStateDir,
} from './stepwise-cli.ts';

const spec = fixture('nshape/pipeline.ts');
const state = tempStateDir('nshape');
const probeFile = join(state.dir, 'probe.jsonl');

let result: CliResult;
let run: RunJson;

beforeAll(async () => {
  result = await stepwise(
    'run',
    spec,
    '--input',
    JSON.stringify({ probe: probeFile }),
    '--json',
    '--state-dir',
    state.dir,
  );
  run = jsonOf<RunJson>(result);
}, 300_000);

afterAll(() => state.remove());

describe('latched chains through the local engine and its IAM', () => {
  it('succeeds with every task run once, and nothing denied', () => {
    expect([run.status, result.code]).toEqual(['SUCCEEDED', 0]);
    expect(result.stderr).toBe('');
    expect(run.tasks.map((t) => [t.id, t.status, t.attempts]).sort()).toEqual([
      ['a', 'SUCCEEDED', 1],
      ['b', 'SUCCEEDED', 1],
      ['c', 'SUCCEEDED', 1],
      ['d', 'SUCCEEDED', 1],
    ]);
  });

  it('starts each task only after its dependencies ended', () => {
    const at = (id: string, edge: 'startedAt' | 'endedAt') => Date.parse(taskOf(run, id)[edge] ?? '');
    expect(at('c', 'startedAt')).toBeGreaterThanOrEqual(at('a', 'endedAt'));
    expect(at('c', 'startedAt')).toBeGreaterThanOrEqual(at('b', 'endedAt'));
    expect(at('d', 'startedAt')).toBeGreaterThanOrEqual(at('b', 'endedAt'));
  });

  it('hands c the outputs of a and b, one of them across chains through the latch', () => {
    const probes = readFileSync(probeFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { task: string; inputs: unknown });
    expect(probes.find((p) => p.task === 'c')?.inputs).toEqual({
      a: { from: 'a', attempt: 1 },
      b: { from: 'b', attempt: 1 },
    });
    expect(probes.find((p) => p.task === 'd')?.inputs).toEqual({ b: { from: 'b', attempt: 1 } });
  });
});
