import * as z from 'zod';
import { PARTITION, RUN_CONTEXT, type ServiceAdapter, type ServiceRunFields } from './service.ts';

export interface GlueJobOptions extends ServiceRunFields {
  /**
   * Job arguments, as Glue takes them: names start with `--`. stepwise adds `--stepwise_run_id`,
   * `--stepwise_pipeline` and `--stepwise_logical_time`, so the job can tell which run it serves.
   * @default - none besides stepwise's own
   * @see https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-glue-arguments.html
   */
  readonly args?: Readonly<Record<string, string>>;
}

export interface GlueJobRun extends GlueJobOptions {
  readonly kind: 'glueJob';
  /** The Glue job's name; the job itself is defined elsewhere (your stack, Terraform, the console). */
  readonly jobName: string;
}

/**
 * Runs an existing AWS Glue job and waits for it (`glue:startJobRun.sync`): the task succeeds when the
 * job run does, and fails (and is retried) when it fails, times out or is stopped. The task's output is
 * `{ jobRunId, jobName, state }`.
 *
 * Locally, `local` names a handler that runs in Glue's place: it receives the StartJobRun request
 * (`{ JobName, Arguments }`) and returns the job run (`{ Id, JobName, JobRunState }`).
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/connect-glue.html
 */
export function glueJob(jobName: string, options: GlueJobOptions = {}): GlueJobRun {
  return { kind: 'glueJob', jobName, ...options };
}

export const GLUE_JOB: ServiceAdapter<GlueJobRun> = {
  kind: 'glueJob',
  example: "glueJob('nightly-load', { args: { '--table': 'orders' } })",
  integration: 'glue:startJobRun.sync',
  fields: {
    jobName: z.string().regex(/^[\w\s\-.:/]{1,255}$/, {
      error: 'is not a Glue job name (1-255 letters, digits, spaces and - _ . : /)',
    }),
    args: z
      .record(z.string(), z.string())
      .check((ctx) => {
        for (const name of Object.keys(ctx.value)) {
          if (/^--[A-Za-z0-9_.-]+$/.test(name)) continue;
          ctx.issues.push({
            code: 'custom',
            input: name,
            path: [name],
            message: `is not a Glue argument name; write '--${name.replace(/^-*/, '')}'`,
          });
        }
      })
      .optional(),
  },
  state: (run) => ({
    Resource: `arn:${PARTITION}:states:::glue:startJobRun.sync`,
    Parameters: {
      JobName: run.jobName,
      Arguments: {
        ...run.args,
        '--stepwise_run_id.$': RUN_CONTEXT.runId,
        '--stepwise_pipeline.$': RUN_CONTEXT.pipeline,
        '--stepwise_logical_time.$': RUN_CONTEXT.logicalTime,
      },
    },
    ResultSelector: { 'jobRunId.$': '$.Id', 'jobName.$': '$.JobName', 'state.$': '$.JobRunState' },
  }),
  // Glue refuses a run past the job's MaxConcurrentRuns, or when its service is throttled.
  serviceRetry: {
    ErrorEquals: ['Glue.ConcurrentRunsExceededException', 'Glue.ThrottlingException'],
    IntervalSeconds: 30,
    MaxAttempts: 5,
    BackoffRate: 2,
  },
  // A failed Glue run has usually failed for a reason a retry won't fix, and each run is costly.
  retry: { attempts: 2, intervalMs: 60_000, backoff: 2, maxDelayMs: 600_000, jitter: 'full' },
  timeoutMs: 2 * 3_600_000,
  calls: (request, { partition, region, account }) => {
    const job = `arn:${partition}:glue:${region}:${account}:job/${String(request.JobName)}`;
    return ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'].map(
      (action) => ({ action, resource: job }),
    );
  },
};
