// Stands in for EMR Serverless under `stepwise run`: it gets the StartJobRun request the state machine
// sends, and returns the job run as emr-serverless:startJobRun.sync would once it reached SUCCESS.
interface StartJobRun {
  ApplicationId: string;
  Name: string;
  JobDriver: { SparkSubmit: { EntryPoint: string; SparkSubmitParameters: string } };
}

export async function handler(request: StartJobRun) {
  const jobRunId = `00local${Date.now().toString(36)}`;
  return {
    ApplicationId: request.ApplicationId,
    JobRunId: jobRunId,
    Arn: `arn:aws:emr-serverless:us-east-1:000000000000:/applications/${request.ApplicationId}/jobruns/${jobRunId}`,
  };
}
