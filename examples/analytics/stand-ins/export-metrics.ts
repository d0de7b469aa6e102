// Stands in for the Batch job `export-metrics` under `stepwise run`: it gets the SubmitJob request the
// state machine sends Batch, and returns the finished job as Batch's .sync integration would.
interface SubmitJobRequest {
  readonly JobName: string;
  readonly JobQueue: string;
  readonly JobDefinition: string;
  readonly ContainerOverrides: { readonly Command?: readonly string[] };
}

export async function handler(request: SubmitJobRequest) {
  return {
    JobId: `local-${request.JobName.slice(-12)}`,
    JobName: request.JobName,
    JobQueue: request.JobQueue,
    Status: 'SUCCEEDED',
    StatusReason: 'Essential container in task exited',
    Container: { Command: request.ContainerOverrides.Command, ExitCode: 0 },
  };
}
