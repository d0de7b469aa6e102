import aslValidator from 'asl-validator';
import { sha256 } from '../content-hash.ts';

/**
 * The definitions found valid so far, by the SHA-256 of their JSON. asl-validator compiles its JSON
 * schemas anew on every call (0.15 to 0.6 s of CPU each), and a runtime builds a state machine for each
 * machine of the deployment every time it opens: checked once, a definition is not checked again, in
 * this process or, through the synth cache, in the next command on the same assembly.
 */
const valid = new Set<string>();

/**
 * Throws when the definition is not valid Amazon States Language, as aws-local-stepfunctions would
 * when given it to run; the local runner is then given it with its own check turned off. Paths and
 * ARNs are not checked: the definitions hold CloudFormation placeholders until they are substituted.
 * @returns the definition's hash, which the synth cache keeps to skip the check next time.
 */
export function checkDefinition(definition: unknown): string {
  const hash = sha256(JSON.stringify(definition));
  if (valid.has(hash)) return hash;
  // On a copy: asl-validator writes its defaults (QueryLanguage) into what it is given.
  const { isValid, errorsText } = aslValidator(structuredClone(definition), {
    checkPaths: false,
    checkArn: false,
  });
  if (!isValid)
    throw new Error(`State machine definition is invalid, see error(s) below:\n ${errorsText('\n')}`);
  valid.add(hash);
  return hash;
}

/** Definitions an earlier command found valid (kept in the synth cache beside the assembly). */
export function rememberValidDefinitions(hashes: readonly string[]): void {
  for (const hash of hashes) if (typeof hash === 'string') valid.add(hash);
}
