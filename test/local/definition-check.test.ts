// The local engine's check that a definition is States Language it can run, done once per definition:
// a broken definition is refused every time with asl-validator's findings, a valid one is remembered by
// its hash, and the synth cache keeps the hashes of the assembly's definitions for the next command.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSpec } from '../../lib/cli/load-spec.ts';
import { sha256 } from '../../lib/content-hash.ts';
import { checkDefinition } from '../../lib/local/definition-check.ts';
import { synthesizeLocal } from '../../lib/local/synth.ts';

const work = mkdtempSync(join(tmpdir(), 'stepwise-definition-check-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('checkDefinition', () => {
  it('refuses a definition whose StartAt names no state, every time, saying what is wrong', () => {
    const broken = { StartAt: 'missing', States: { only: { Type: 'Succeed' } } };
    for (let i = 0; i < 2; i++)
      expect(() => checkDefinition(broken)).toThrow(
        /^State machine definition is invalid, see error\(s\) below:\n .*missing/s,
      );
  });

  it('accepts a valid definition and returns the hash of its JSON', () => {
    const valid = { StartAt: 'only', States: { only: { Type: 'Succeed' } } };
    expect(checkDefinition(valid)).toBe(sha256(JSON.stringify(valid)));
  });

  it("keeps the hashes of the assembly's definitions in the synth cache", async () => {
    const spec = await loadSpec(new URL('../fixtures/sales/pipeline.ts', import.meta.url).pathname);
    const { assemblyDir, deployment } = await synthesizeLocal([spec], join(work, 'state'));
    const cache = JSON.parse(readFileSync(join(assemblyDir, 'stepwise-synth.json'), 'utf8')) as {
      validDefinitions: string[];
    };
    expect(deployment.stateMachines.length).toBeGreaterThan(0);
    expect(cache.validDefinitions).toEqual(
      deployment.stateMachines.map((machine) => sha256(JSON.stringify(machine.definition))),
    );
  });
});
