import type { ReconcileFailure } from './reconcile.ts';

/** Some runs could not be reconciled. Thrown after every run was tried, so it shows as a Lambda error. */
export class ReconcileError extends Error {
  constructor(
    readonly failures: readonly ReconcileFailure[],
    options?: { cause?: unknown },
  ) {
    const first = failures[0];
    super(
      `${failures.length} run(s) could not be reconciled; the first: ${first?.pipeline} run ${first?.runId}: ${first?.message}`,
      options,
    );
    this.name = 'ReconcileError';
  }
}
