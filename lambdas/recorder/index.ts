/**
 * The recorder: on a terminal "Step Functions Execution Status Change" event, records the execution's
 * task attempts in the ledger, closes the run, alerts and emits "Run Finished". (Being filled in.)
 */
export async function handler(event: unknown): Promise<void> {
  console.log(JSON.stringify({ level: 'info', message: 'recorder: not implemented yet', event }));
}
