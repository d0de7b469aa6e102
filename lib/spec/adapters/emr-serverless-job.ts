import * as z from 'zod';
import type { JsonObject } from '../../compile/asl.ts';
import { PARTITION, RUN_CONTEXT, type ServiceAdapter, type ServiceRunFields } from './service.ts';

export interface EmrServerlessJobOptions extends ServiceRunFields {
  /**
   * The EMR Serverless application's id (like `00fq5n6h21j9rn09`); the application itself is created
   * elsewhere (your stack, the console), as a Spark application.
   * @see https://docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/applications.html
   */
  readonly application: string;
  /**
   * The Spark job's entry point: an `s3://` URI of a script or JAR.
   * @see https://docs.aws.amazon.com/emr-serverless/latest/APIReference/API_SparkSubmit.html
   */
  readonly entryPoint: string;
  /**
   * Arguments to the entry point, as the job's `sys.argv[1:]`.
   * @default - none
   */
  readonly args?: readonly string[];
  /**
   * spark-submit parameters besides the entry point, like `--conf spark.executor.cores=4`. stepwise adds
   * `--conf spark.stepwise.runId=...`, `spark.stepwise.pipeline` and `spark.stepwise.logicalTime`,
   * which the job reads with `spark.conf.get('spark.stepwise.runId')`.
   * @default - none besides stepwise's own
   * @see https://docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/jobs-spark.html
   */
  readonly sparkSubmitParameters?: string;
  /**
   * The ARN of the role the job runs as. The state machine may pass this role, and only to EMR
   * Serverless.
   * @default - a role the construct creates, trusted by EMR Serverless in this account, that may read
   * the entry point and the data buckets of `reads` and write those of `writes`
   * @see https://docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/getting-started.html#gs-runtime-role
   */
  readonly executionRole?: string;
  /**
   * Data buckets the job reads, by the names `Pipeline`'s `buckets` maps; granted to the role the
   * construct creates (with `executionRole`, grant your role yourself).
   * @default - none
   */
  readonly reads?: readonly string[];
  /**
   * Data buckets the job writes, by the names `Pipeline`'s `buckets` maps; granted as `reads` is.
   * @default - none
   */
  readonly writes?: readonly string[];
}

export interface EmrServerlessJobRun extends EmrServerlessJobOptions {
  readonly kind: 'emrServerlessJob';
}

/**
 * Runs a Spark job on an existing EMR Serverless application and waits for it
 * (`emr-serverless:startJobRun.sync`): the task succeeds when the job run does, and fails (and is
 * retried) when it fails or is cancelled. The task's output is `{ jobRunId, applicationId, arn, state }`.
 *
 * Why the optimized `.sync` integration, written as the Task state's ASL by stepwise's compiler (which
 * emits ASL, so aws-cdk-lib having no class for it does not matter), rather than the AWS SDK
 * integration and a polling loop: it keeps one Task state per task, so the task's retries, timeout and
 * ledger attempts work as for every other adapter, and Step Functions cancels the job run when the
 * state is cut short; a loop of StartJobRun, Wait, GetJobRun and Choice states would need its own
 * retry and timeout logic and cost a transition every poll.
 *
 * Locally, `local` names a handler that runs in EMR Serverless's place: it receives the StartJobRun
 * request (`{ ApplicationId, ExecutionRoleArn, Name, JobDriver: { SparkSubmit: { EntryPoint,
 * EntryPointArguments, SparkSubmitParameters } } }`) and returns the job run
 * (`{ ApplicationId, JobRunId, Arn }`).
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/connect-emr-serverless.html
 */
export function emrServerlessJob(options: EmrServerlessJobOptions): EmrServerlessJobRun {
  return { kind: 'emrServerlessJob', ...options };
}

/** The substitution key of the execution role's ARN, filled by the construct (given or created). */
export const EXECUTION_ROLE_KEY = 'executionRoleArn';

/** Text as a States.Format literal: its reserved characters escaped. */
function formatLiteral(text: string): string {
  return text.replace(/[\\{}']/g, (c) => `\\${c}`);
}

const bucketName = z.string().min(1, { error: "names a data bucket, like 'lake'" });

export const EMR_SERVERLESS_JOB: ServiceAdapter<EmrServerlessJobRun> = {
  kind: 'emrServerlessJob',
  example: "emrServerlessJob({ application: '00fq5n6h21j9rn09', entryPoint: 's3://code/compact.py' })",
  integration: 'emr-serverless:startJobRun.sync',
  fields: {
    application: z.string().regex(/^[0-9a-z]{1,64}$/, {
      error:
        "is not an EMR Serverless application id (lowercase letters and digits, like '00fq5n6h21j9rn09')",
    }),
    entryPoint: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+/, {
      error: "is not an s3:// URI of the job's script or JAR, like 's3://code/jobs/compact.py'",
    }),
    args: z.array(z.string()).optional(),
    sparkSubmitParameters: z.string().optional(),
    executionRole: z
      .string()
      .regex(/^arn:aws[a-zA-Z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, {
        error: "is not an IAM role ARN, like 'arn:aws:iam::123456789012:role/emr-job'",
      })
      .optional(),
    reads: z.array(bucketName).optional(),
    writes: z.array(bucketName).optional(),
  },
  problems: (run) =>
    run.executionRole !== undefined && (run.reads !== undefined || run.writes !== undefined)
      ? [
          {
            field: run.reads !== undefined ? 'reads' : 'writes',
            message:
              'reads and writes are granted to the role stepwise creates; with executionRole, grant your role its buckets yourself, or drop executionRole',
          },
        ]
      : [],
  buckets: (run) => [
    ...(run.reads ?? []).map((name, index) => ({ name, field: `reads[${index}]` })),
    ...(run.writes ?? []).map((name, index) => ({ name, field: `writes[${index}]` })),
  ],
  state: (run, { task, pipeline, substitution }) => {
    const own = `--conf spark.stepwise.runId={} --conf spark.stepwise.pipeline={} --conf spark.stepwise.logicalTime={}`;
    const submit = run.sparkSubmitParameters ? `${formatLiteral(run.sparkSubmitParameters)} ${own}` : own;
    const sparkSubmit: JsonObject = {
      EntryPoint: run.entryPoint,
      'SparkSubmitParameters.$': `States.Format('${submit}', ${RUN_CONTEXT.runId}, ${RUN_CONTEXT.pipeline}, ${RUN_CONTEXT.logicalTime})`,
    };
    if (run.args) sparkSubmit.EntryPointArguments = [...run.args];
    return {
      Resource: `arn:${PARTITION}:states:::emr-serverless:startJobRun.sync`,
      Parameters: {
        ApplicationId: run.application,
        ExecutionRoleArn: substitution(EXECUTION_ROLE_KEY),
        'Name.$': `States.Format('${pipeline}-${task.id}-{}', ${RUN_CONTEXT.runId})`,
        JobDriver: { SparkSubmit: sparkSubmit },
      },
      // StartJobRun's response, whose fields are all required; .sync returns once the run is SUCCESS.
      ResultSelector: {
        'jobRunId.$': '$.JobRunId',
        'applicationId.$': '$.ApplicationId',
        'arn.$': '$.Arn',
        state: 'SUCCESS',
      },
    };
  },
  // EMR Serverless refuses a run over the application's or account's capacity, or when throttled.
  serviceRetry: {
    ErrorEquals: ['EmrServerless.ServiceQuotaExceededException', 'EmrServerless.ThrottlingException'],
    IntervalSeconds: 30,
    MaxAttempts: 5,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
  // As for Glue: a failed Spark job has usually failed for a reason a retry won't fix, and runs cost.
  retry: { attempts: 2, intervalMs: 60_000, backoff: 2, maxDelayMs: 600_000, jitter: 'full' },
  timeoutMs: 2 * 3_600_000,
  calls: (request, { partition, region, account }) => {
    const application = `arn:${partition}:emr-serverless:${region}:${account}:/applications/${String(request.ApplicationId)}`;
    return [
      { action: 'emr-serverless:StartJobRun', resource: application },
      { action: 'emr-serverless:GetJobRun', resource: `${application}/jobruns/local` },
      { action: 'emr-serverless:CancelJobRun', resource: `${application}/jobruns/local` },
      {
        action: 'iam:PassRole',
        resource: String(request.ExecutionRoleArn),
        context: { 'iam:PassedToService': 'emr-serverless.amazonaws.com' },
      },
      {
        action: 'events:PutRule',
        resource: `arn:${partition}:events:${region}:${account}:rule/StepFunctionsGetEventsForEMRServerlessJobRule`,
      },
    ];
  },
};
