// Stands in for the Glue job `orders-cdc-merge` under `stepwise run`.
export async function handler(request: { JobName: string; Arguments: Record<string, string> }) {
  return {
    Id: `jr_local_merge_${request.Arguments['--stepwise_run_id']}`,
    JobName: request.JobName,
    JobRunState: 'SUCCEEDED',
  };
}
