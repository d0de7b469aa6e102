import type { LambdaRun } from '../types.ts';

export interface LambdaOptions {
  /** Environment variables the function is deployed with. */
  readonly env?: Readonly<Record<string, string>>;
  /** Memory in MB. @default 512 */
  readonly memoryMb?: number;
  /**
   * Data buckets the task reads (get, head, list), by the names `Pipeline`'s `buckets` maps to real
   * buckets. The handler finds each one's real name in `ctx.buckets`.
   * @default - none
   */
  readonly reads?: readonly string[];
  /**
   * Data buckets the task writes (put, multipart upload), by the names `Pipeline`'s `buckets` maps to
   * real buckets. The handler finds each one's real name in `ctx.buckets`.
   * @default - none
   */
  readonly writes?: readonly string[];
}

/**
 * Runs a task as a Lambda function built from a handler file with esbuild.
 * The path is relative to the spec file. Tasks sharing a handler file share one function, and with it
 * the union of their `reads`, `writes` and `env`.
 */
export function lambda(entry: string, options: LambdaOptions = {}): LambdaRun {
  return { kind: 'lambda', entry, ...options };
}
