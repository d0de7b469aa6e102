import * as z from 'zod';
import { PARTITION, RUN_CONTEXT, type ServiceAdapter, type ServiceRunFields } from './service.ts';

export interface BatchJobOptions extends ServiceRunFields {
  /**
   * The job queue, by name or ARN; the queue and its compute environments are defined elsewhere (your
   * stack, Terraform, the console).
   * @see https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html#Batch-SubmitJob-request-jobQueue
   */
  readonly queue: string;
  /**
   * The job definition of a container job (EC2 or Fargate), by ARN or `name[:revision]`; without a
   * revision, Batch runs the latest ACTIVE one.
   * @see https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html#Batch-SubmitJob-request-jobDefinition
   */
  readonly definition: string;
  /**
   * The command the container runs, in place of the job definition's, as an argument list.
   * @default - the job definition's own command
   * @see https://docs.aws.amazon.com/batch/latest/APIReference/API_ContainerOverrides.html
   */
  readonly command?: readonly string[];
}

export interface BatchJobRun extends BatchJobOptions {
  readonly kind: 'batchJob';
}

/**
 * Submits an AWS Batch job and waits for it (`batch:submitJob.sync`): the task succeeds when the job
 * does, and fails (and is retried) when the job fails. The task's output is `{ jobId, jobName, status }`.
 *
 * The job is named after the task and the run (`<task>-<run id>`, within Batch's 128 characters), and
 * its container gets the run's identity as environment variables: `STEPWISE_RUN_ID`,
 * `STEPWISE_PIPELINE` and `STEPWISE_LOGICAL_TIME`.
 *
 * Locally, `local` names a handler that runs in Batch's place: it receives the SubmitJob request
 * (`{ JobName, JobQueue, JobDefinition, ContainerOverrides: { Command, Environment } }`) and returns the
 * finished job as DescribeJobs gives it (`{ JobId, JobName, Status: 'SUCCEEDED' }`). Returning a job
 * whose `Status` is not `SUCCEEDED` fails the attempt, as on AWS; so does throwing.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/connect-batch.html
 */
export function batchJob(options: BatchJobOptions): BatchJobRun {
  return { kind: 'batchJob', ...options };
}

/** Batch's job names: letters, digits, `-` and `_`, starting with a letter or digit, at most 128. */
export const BATCH_JOB_NAME_MAX = 128;
/** Run ids are Step Functions execution names stepwise makes: at most 80 characters of `[A-Za-z0-9_-]`. */
const RUN_ID_MAX = 80;

/** The literal start of the job name: the task id, cut so that `<task>-<run id>` fits Batch's limit. */
export function batchJobNamePrefix(taskId: string): string {
  return taskId.slice(0, BATCH_JOB_NAME_MAX - RUN_ID_MAX - 1);
}

const QUEUE = /^(arn:aws[a-z-]*:batch:[a-z0-9-]+:\d{12}:job-queue\/)?[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const DEFINITION =
  /^(arn:aws[a-z-]*:batch:[a-z0-9-]+:\d{12}:job-definition\/)?[A-Za-z0-9][A-Za-z0-9_-]{0,127}(:\d+)?$/;

/** The name and revision of a job queue or job definition given by ARN or name. */
export function batchResourceName(value: string): { name: string; revision?: string } {
  const [name = '', revision] = value.replace(/^arn:[^/]+\//, '').split(':');
  return revision === undefined ? { name } : { name, revision };
}

export const BATCH_JOB: ServiceAdapter<BatchJobRun> = {
  kind: 'batchJob',
  example: "batchJob({ queue: 'analytics', definition: 'export-metrics:3' })",
  integration: 'batch:submitJob.sync',
  fields: {
    queue: z.string().regex(QUEUE, {
      error: 'is not a Batch job queue; give its name (letters, digits, - and _, at most 128) or its ARN',
    }),
    definition: z.string().regex(DEFINITION, {
      error: "is not a Batch job definition; give its ARN or 'name' or 'name:revision'",
    }),
    command: z
      .array(z.string())
      .min(1, { error: "is empty; give the command as ['export', '--day', 'today']" })
      .optional(),
  },
  state: (run, { task }) => ({
    Resource: `arn:${PARTITION}:states:::batch:submitJob.sync`,
    Parameters: {
      // Task ids and run ids are both within Batch's characters; only the length needs minding.
      'JobName.$': `States.Format('${batchJobNamePrefix(task.id)}-{}', ${RUN_CONTEXT.runId})`,
      JobQueue: run.queue,
      JobDefinition: run.definition,
      ContainerOverrides: {
        ...(run.command ? { Command: [...run.command] } : {}),
        Environment: [
          { Name: 'STEPWISE_RUN_ID', 'Value.$': RUN_CONTEXT.runId },
          { Name: 'STEPWISE_PIPELINE', 'Value.$': RUN_CONTEXT.pipeline },
          { Name: 'STEPWISE_LOGICAL_TIME', 'Value.$': RUN_CONTEXT.logicalTime },
        ],
      },
    },
    ResultSelector: { 'jobId.$': '$.JobId', 'jobName.$': '$.JobName', 'status.$': '$.Status' },
  }),
  failure: (result) => {
    const job = result as { Status?: string; StatusReason?: string };
    if (job.Status === 'SUCCEEDED') return undefined;
    return `job ended ${job.Status ?? 'without a Status'}${job.StatusReason ? `: ${job.StatusReason}` : ''}`;
  },
  // Batch's own faults (ServerException, the SDK's catch-all) pass; a ClientException is the request's.
  serviceRetry: {
    ErrorEquals: ['Batch.ServerException', 'Batch.AWSBatchException'],
    IntervalSeconds: 20,
    MaxAttempts: 4,
    BackoffRate: 2,
  },
  // A job is costly and queues behind others; Batch retries attempts itself if the definition says so.
  retry: { attempts: 2, intervalMs: 60_000, backoff: 2, maxDelayMs: 600_000, jitter: 'full' },
  timeoutMs: 6 * 3_600_000,
  calls: (request, { partition, region, account }) => {
    const arn = (resource: string) => `arn:${partition}:batch:${region}:${account}:${resource}`;
    const arnOf = (type: string, value: string) =>
      value.startsWith('arn:') ? value : arn(`${type}/${value}`);
    const definition = String(request.JobDefinition);
    return [
      { action: 'batch:SubmitJob', resource: arnOf('job-queue', String(request.JobQueue)) },
      {
        action: 'batch:SubmitJob',
        // Without a revision, Batch runs the latest, whose number the request does not say.
        resource: `${arnOf('job-definition', definition)}${batchResourceName(definition).revision ? '' : ':latest'}`,
      },
      // DescribeJobs has no resource type; the job's id is known only once it is submitted.
      { action: 'batch:DescribeJobs', resource: '*' },
      { action: 'batch:TerminateJob', resource: arn('job/stepwise-local') },
      ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((action) => ({
        action,
        resource: `arn:${partition}:events:${region}:${account}:rule/${BATCH_MANAGED_RULE}`,
      })),
    ];
  },
};

/** The EventBridge rule Step Functions manages in the account to learn that a job ended. */
export const BATCH_MANAGED_RULE = 'StepFunctionsGetEventsForBatchJobsRule';
