import { ThrownValueError } from './errors.ts';

/** The error a thrown value is recorded as: an Error as it is, anything else as a ThrownValueError. */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new ThrownValueError(value);
}
