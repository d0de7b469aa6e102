import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { sha256 } from '../content-hash.ts';
import { stackFiles } from '../stack-files.ts';

/**
 * The definitions found valid so far in this process, by `definitionKey`. asl-validator compiles its
 * JSON schemas anew on every call (0.15 to 0.6 s of CPU each), and a runtime builds a state machine for
 * each machine of the deployment every time it opens.
 */
const valid = new Set<string>();

/**
 * Throws when the definition is not valid Amazon States Language, as aws-local-stepfunctions would
 * when given it to run; the local runner is then given it with its own check turned off. Paths and
 * ARNs are not checked: the definitions hold CloudFormation placeholders until they are substituted.
 * A definition found valid is not checked again in this process, nor, given `cacheDir` (stepwise's
 * cache directory of the project), by a later command: most synths after an edit to a handler give
 * the same definitions.
 */
export function checkDefinition(definition: unknown, cacheDir?: string): void {
  const key = definitionKey(definition);
  if (valid.has(key)) return;
  const marker = cacheDir && join(cacheDir, 'valid-definitions', key);
  if (marker && existsSync(marker)) {
    valid.add(key);
    return;
  }
  // On a copy: asl-validator writes its defaults (QueryLanguage) into what it is given.
  const { isValid, errorsText } = aslValidator(structuredClone(definition), {
    checkPaths: false,
    checkArn: false,
  });
  if (!isValid)
    throw new Error(`State machine definition is invalid, see error(s) below:\n ${errorsText('\n')}`);
  valid.add(key);
  if (marker) {
    try {
      mkdirSync(join(marker, '..'), { recursive: true });
      writeFileSync(marker, '');
    } catch {
      // A cache that cannot be written only means the check runs again next time.
    }
  }
}

/** The definition's JSON and the validator's version, hashed: a new validator checks again. */
export function definitionKey(definition: unknown): string {
  return sha256(`${validatorVersion()}\n${JSON.stringify(definition)}`);
}

let version: string | undefined;
function validatorVersion(): string {
  version ??= (createRequire(stackFiles()[0] as string)('asl-validator/package.json') as { version: string })
    .version;
  return version;
}
