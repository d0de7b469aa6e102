// Stands in for the Glue job `orders-cdc-capture` under `stepwise run`: it gets the StartJobRun request
// the state machine sends Glue, and returns the job run Glue's .sync integration would.
export async function handler(request: { JobName: string; Arguments: Record<string, string> }) {
  return {
    Id: `jr_local_${request.Arguments['--stepwise_run_id']}`,
    JobName: request.JobName,
    JobRunState: 'SUCCEEDED',
  };
}
