// The local engine's check that a definition is States Language it can run, done once per definition:
// a broken definition is refused every time with asl-validator's findings, a valid one is remembered by
// its key in this process and in stepwise's cache directory, where a synth marks its assembly's
// definitions for the next command.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSpec } from '../../lib/cli/load-spec.ts';
import { checkDefinition, definitionKey } from '../../lib/local/definition-check.ts';
import { synthesizeLocal } from '../../lib/local/synth.ts';

const work = mkdtempSync(join(tmpdir(), 'stepwise-definition-check-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const broken = { StartAt: 'missing', States: { only: { Type: 'Succeed' } } };

describe('checkDefinition', () => {
  it('refuses a definition whose StartAt names no state, every time, saying what is wrong, and caches nothing', () => {
    const cacheDir = join(work, 'refused');
    for (let i = 0; i < 2; i++)
      expect(() => checkDefinition(broken, cacheDir)).toThrow(
        /^State machine definition is invalid, see error\(s\) below:\n .*missing/s,
      );
    expect(existsSync(join(cacheDir, 'valid-definitions', definitionKey(broken)))).toBe(false);
  });

  it('leaves a valid definition as it was, and marks it valid in the cache directory', () => {
    const cacheDir = join(work, 'accepted');
    const definition = { StartAt: 'only', States: { only: { Type: 'Succeed' } } };
    const before = JSON.stringify(definition);
    checkDefinition(definition, cacheDir);
    expect(JSON.stringify(definition)).toBe(before); // asl-validator writes defaults into its input
    expect(existsSync(join(cacheDir, 'valid-definitions', definitionKey(definition)))).toBe(true);
  });

  it('takes a definition marked valid in the cache directory without checking it again', () => {
    // Only a check that ran could refuse this one: the mark says a command before found it valid.
    const cacheDir = join(work, 'marked');
    mkdirSync(join(cacheDir, 'valid-definitions'), { recursive: true });
    writeFileSync(join(cacheDir, 'valid-definitions', definitionKey(broken)), '');
    expect(() => checkDefinition(broken, cacheDir)).not.toThrow();
  });

  it("marks each definition of a synthesized assembly valid in the project's cache directory", async () => {
    const cacheDir = join(work, 'project-cache');
    const before = process.env.STEPWISE_CACHE_DIR;
    process.env.STEPWISE_CACHE_DIR = cacheDir;
    try {
      const spec = await loadSpec(fileURLToPath(new URL('../fixtures/sales/pipeline.ts', import.meta.url)));
      const { deployment } = await synthesizeLocal([spec], join(work, 'state'));
      expect(deployment.stateMachines.length).toBeGreaterThan(0);
      for (const machine of deployment.stateMachines)
        expect(existsSync(join(cacheDir, 'valid-definitions', definitionKey(machine.definition)))).toBe(true);
    } finally {
      if (before === undefined) delete process.env.STEPWISE_CACHE_DIR;
      else process.env.STEPWISE_CACHE_DIR = before;
    }
  });
});
