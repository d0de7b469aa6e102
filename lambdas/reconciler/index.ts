/**
 * The reconciler, on a schedule: closes runs still RUNNING in the ledger whose execution has ended.
 * (Being filled in.)
 */
export async function handler(): Promise<{
  checked: number;
  closed: number;
  stillRunning: number;
  errors: number;
}> {
  return { checked: 0, closed: 0, stillRunning: 0, errors: 0 };
}
