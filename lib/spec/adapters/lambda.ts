import type { LambdaRun } from '../types.ts';

export interface LambdaOptions {
  /** Environment variables the function is deployed with. */
  readonly env?: Readonly<Record<string, string>>;
  /** Memory in MB. @default 512 */
  readonly memoryMb?: number;
}

/**
 * Runs a task as a Lambda function built from a handler file with esbuild.
 * The path is relative to the spec file. Tasks sharing a handler file share one function.
 */
export function lambda(entry: string, options: LambdaOptions = {}): LambdaRun {
  return { kind: 'lambda', entry, ...options };
}
