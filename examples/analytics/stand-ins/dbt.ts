// Stands in for the dbt container on Fargate under `stepwise run`: it gets the RunTask request the state
// machine sends ECS, reads the dbt command from the container override, and returns the stopped task as
// ECS's .sync integration would. A container that exits non-zero fails the task, as on AWS.
interface RunTaskRequest {
  readonly Cluster: string;
  readonly TaskDefinition: string;
  readonly Overrides: {
    readonly ContainerOverrides: readonly {
      readonly Name: string;
      readonly Command?: readonly string[];
      readonly Environment: readonly { readonly Name: string; readonly Value: string }[];
    }[];
  };
}

/** What each dbt command would report, to the log, for a project of 42 models and 118 tests. */
const SUMMARIES: Record<string, string> = {
  run: 'Completed successfully. Done. PASS=42 WARN=0 ERROR=0 SKIP=0 TOTAL=42',
  test: 'Completed successfully. Done. PASS=118 WARN=2 ERROR=0 SKIP=0 TOTAL=120',
  docs: 'Catalog written to target/catalog.json',
};

export async function handler(request: RunTaskRequest) {
  const [container] = request.Overrides.ContainerOverrides;
  if (!container) throw new Error('RunTask request has no container override');
  const [tool, step] = container.Command ?? [];
  const env = Object.fromEntries(container.Environment.map((e) => [e.Name, e.Value]));
  const summary = tool === 'dbt' && step ? SUMMARIES[step] : undefined;
  console.log(
    `[${env.STEPWISE_RUN_ID}] ${(container.Command ?? []).join(' ')}: ${summary ?? 'unknown command'}`,
  );
  const taskArn = `${request.Cluster.replace(':cluster/', ':task/')}/${env.STEPWISE_RUN_ID?.slice(-12)}${step}`;
  return {
    TaskArn: taskArn,
    TaskDefinitionArn: request.TaskDefinition,
    LastStatus: 'STOPPED',
    DesiredStatus: 'STOPPED',
    StopCode: 'EssentialContainerExited',
    StoppedReason: 'Essential container in task exited',
    Containers: [{ Name: container.Name, LastStatus: 'STOPPED', ExitCode: summary ? 0 : 2 }],
  };
}
