import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The SHA-256 of some bytes, in hex: how the bundle and synth caches name content. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Whether every file still has the content hash recorded for it. */
export function inputsUnchanged(inputs: Readonly<Record<string, string>>): boolean {
  return Object.entries(inputs).every(([file, hash]) => {
    try {
      return sha256(readFileSync(file)) === hash;
    } catch {
      return false;
    }
  });
}
