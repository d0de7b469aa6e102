// emrServerlessJob: the compiled state (the optimized .sync integration as a custom Task state), the
// role's grants (the created job role included), the spec checks, and local runs through a stand-in.
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../lib/compile/states.ts';
import { Pipeline } from '../../lib/constructs/pipeline.ts';
import { definePipeline, emrServerlessJob } from '../../lib/spec/index.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { taskRows } from '../faults/local-faults.ts';
import { aslValidatorErrors } from '../private/asl.ts';
import { deployedDefinition, issuesOf, localServiceRuns, taskState } from './service-runs.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/emr-serverless/${name}`, import.meta.url));
const specFile = fixture('pipeline.ts');
const ROLE = 'arn:aws:iam::111122223333:role/emr-job';

function spec(tasks: Record<string, unknown>): PipelineDefinition {
  return definePipeline({ name: 'emr-spec', tasks } as never, { specFile });
}

describe('emrServerlessJob, compiled', () => {
  const definition = compilePipeline(
    spec({
      compact: {
        run: emrServerlessJob({
          application: '00fq5n6h21j9rn09',
          entryPoint: 's3://code/compact.py',
          args: ['--table', 'orders'],
          sparkSubmitParameters: '--conf spark.executor.cores=4',
          executionRole: ROLE,
        }),
      },
    }),
  ).definition;
  const task = taskState(definition, 'compact');

  it('is one Task state calling emr-serverless:startJobRun.sync, the run identity in the Spark conf and the job name', () => {
    expect(task).toMatchObject({
      Type: 'Task',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
      Resource: 'arn:${Partition}:states:::emr-serverless:startJobRun.sync',
      Parameters: {
        ApplicationId: '00fq5n6h21j9rn09',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
        ExecutionRoleArn: '${Adapter_compact_executionRoleArn}',
        'Name.$': "States.Format('emr-spec-compact-{}', $.run.id)",
        JobDriver: {
          SparkSubmit: {
            EntryPoint: 's3://code/compact.py',
            EntryPointArguments: ['--table', 'orders'],
            'SparkSubmitParameters.$':
              "States.Format('--conf spark.executor.cores=4 --conf spark.stepwise.runId={} --conf spark.stepwise.pipeline={} --conf spark.stepwise.logicalTime={}', $.run.id, $.run.pipeline, $.run.logicalTime)",
          },
        },
      },
      ResultSelector: {
        'jobRunId.$': '$.JobRunId',
        'applicationId.$': '$.ApplicationId',
        'arn.$': '$.Arn',
        state: 'SUCCESS',
      },
      TimeoutSeconds: 7200,
    });
  });

  it("retries EMR Serverless's quota and throttling first, then 2 attempts, 60 s apart", () => {
    expect(task.Retry).toEqual([
      expect.objectContaining({ MaxAttempts: 0 }),
      {
        ErrorEquals: ['EmrServerless.ServiceQuotaExceededException', 'EmrServerless.ThrottlingException'],
        IntervalSeconds: 30,
        MaxAttempts: 5,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      },
      expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 1, IntervalSeconds: 60 }),
    ]);
  });

  it('passes asl-validator', () => {
    expect(aslValidatorErrors(deployedDefinition(definition))).toEqual([]);
  });
});

describe('emrServerlessJob, checked by definePipeline', () => {
  it('refuses a bad application id, entry point and role, every one at once', () => {
    expect(
      issuesOf(() =>
        spec({
          a: {
            run: emrServerlessJob({
              application: 'App-1',
              entryPoint: './compact.py',
              executionRole: 'emr-job',
            }),
          },
        }),
      ),
    ).toEqual([
      "tasks.a.run.application: is not an EMR Serverless application id (lowercase letters and digits, like '00fq5n6h21j9rn09'), received 'App-1'",
      "tasks.a.run.entryPoint: is not an s3:// URI of the job's script or JAR, like 's3://code/jobs/compact.py', received './compact.py'",
      "tasks.a.run.executionRole: is not an IAM role ARN, like 'arn:aws:iam::123456789012:role/emr-job', received 'emr-job'",
    ]);
  });

  it('refuses reads with a role of your own, which stepwise cannot grant', () => {
    expect(
      issuesOf(() =>
        spec({
          a: {
            run: emrServerlessJob({
              application: 'a1',
              entryPoint: 's3://code/a.py',
              executionRole: ROLE,
              reads: ['lake'],
            }),
          },
        }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^tasks\.a\.run\.reads: reads and writes are granted to the role stepwise creates/,
      ),
    ]);
  });
});

describe('emrServerlessJob, synthesized', () => {
  const stack = new Stack(new App(), 'Emr', { env: { account: '111122223333', region: 'eu-west-1' } });
  const lake = new s3.Bucket(stack, 'Lake');
  new Pipeline(stack, 'P', {
    spec: spec({
      given: {
        run: emrServerlessJob({ application: 'app1', entryPoint: 's3://code/a.py', executionRole: ROLE }),
      },
      created: {
        run: emrServerlessJob({ application: 'app2', entryPoint: 's3://code/b.py', reads: ['lake'] }),
      },
    }),
    buckets: { lake },
  });
  const template = Template.fromStack(stack);
  const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) =>
      p.Properties.PolicyDocument.Statement as {
        Action: string | string[];
        Resource: unknown;
        Condition?: unknown;
      }[],
  );
  const arn = (rest: string) => ({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:emr-serverless:eu-west-1:111122223333:${rest}`]],
  });
  const grantOf = (action: string) =>
    statements.filter((s) => ([] as string[]).concat(s.Action).includes(action)).map((s) => s.Resource);

  it('grants start on the application, poll and cancel on its job runs, and the managed rule', () => {
    expect(grantOf('emr-serverless:StartJobRun')).toEqual([
      arn('/applications/app1'),
      arn('/applications/app2'),
    ]);
    expect(grantOf('emr-serverless:CancelJobRun')).toEqual([
      arn('/applications/app1/jobruns/*'),
      arn('/applications/app2/jobruns/*'),
    ]);
    expect(new Set(grantOf('events:PutRule').map((r) => JSON.stringify(r)))).toEqual(
      new Set([
        JSON.stringify({
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':events:eu-west-1:111122223333:rule/StepFunctionsGetEventsForEMRServerlessJobRule',
            ],
          ],
        }),
      ]),
    );
  });

  it('passes the given role, and the created one, to EMR Serverless only', () => {
    const passes = statements.filter((s) => s.Action === 'iam:PassRole');
    expect(passes.map((s) => s.Resource)).toEqual([
      ROLE,
      { 'Fn::GetAtt': [expect.stringMatching(/^PEmrJobRolecreated/), 'Arn'] },
    ]);
    for (const pass of passes)
      expect(pass.Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'emr-serverless.amazonaws.com' },
      });
  });

  it('creates a job role trusted by EMR Serverless in this account, reading its entry point and the lake', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'emr-serverless.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
          },
        ],
      },
    });
    expect(grantOf('s3:GetObject')).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::code/b.py']] },
      expect.objectContaining({
        'Fn::Join': [
          '',
          [expect.objectContaining({ 'Fn::GetAtt': [expect.stringMatching(/^Lake/), 'Arn'] }), '/*'],
        ],
      }),
    ]);
  });
});

describe('emrServerlessJob, run locally through its stand-in', () => {
  const local = localServiceRuns('emr-run', fixture, (a) => a.includes('iam:PassRole'));

  it('SUCCEEDS, with one attempt of each task, the role passed to EMR Serverless as the local IAM allows', () => {
    expect(local.runs.ok.status).toBe('SUCCEEDED');
    expect(taskRows(local.runs.ok)).toEqual([
      ['compact', 'SUCCEEDED', 1],
      ['report', 'SUCCEEDED', 1],
    ]);
  });

  it("gives the stand-in StartJobRun's request: the created role, the run's name, its identity after the user's Spark conf", () => {
    const request = (local.runs.outputs.compact as { request: Record<string, unknown> }).request;
    expect(request).toEqual({
      ApplicationId: '00fq5n6h21j9rn09',
      ExecutionRoleArn: expect.stringMatching(/^arn:aws:iam::000000000000:role\//),
      Name: `emr-compact-compact-${local.runs.ok.runId}`,
      JobDriver: {
        SparkSubmit: {
          EntryPoint: 's3://code-bucket/jobs/compact.py',
          EntryPointArguments: ['--table', 'orders'],
          SparkSubmitParameters: expect.stringMatching(
            new RegExp(
              `^--conf spark\\.app\\.name=\\{orders\\}'s --conf spark\\.stepwise\\.runId=${local.runs.ok.runId} --conf spark\\.stepwise\\.pipeline=emr-compact --conf spark\\.stepwise\\.logicalTime=\\S+$`,
            ),
          ),
        },
      },
    });
    expect(local.runs.outputs.report).toEqual({
      got: {
        jobRunId: '00jobrun1',
        applicationId: '00fq5n6h21j9rn09',
        arn: 'arn:aws:emr-serverless:us-east-1:000000000000:/applications/00fq5n6h21j9rn09/jobruns/00jobrun1',
        state: 'SUCCESS',
      },
    });
  });

  it('fails the run at the task after its 2 attempts when the job fails, with the stand-in’s message', () => {
    expect(local.runs.failed.status).toBe('FAILED');
    expect(taskRows(local.runs.failed)).toEqual([['compact', 'FAILED', 2]]);
    expect(local.runs.failed.error).toMatchObject({ task: 'compact', error: 'States.TaskFailed' });
    expect(local.runs.failed.error?.message).toContain('OutOfMemoryError');
  });

  it('fails the task with AccessDenied on iam:PassRole when the role may not pass the job role', () => {
    expect(local.runs.denied.status).toBe('FAILED');
    expect(local.runs.denied.error?.error).toMatch(/AccessDeniedException$/);
    expect(local.runs.denied.error?.message).toMatch(
      /is not authorized to perform: iam:PassRole on resource: .*role\//,
    );
  });

  it('refuses an EMR Serverless task without a stand-in before any run starts, naming the task', () => {
    expect(local.refused.code).not.toBe(0);
    expect(local.refused.stderr).toContain("task 'compact' runs emr-serverless:startJobRun.sync");
    expect(local.refused.stderr).toContain(
      "add local: './stand-ins/compact.ts' to its emrServerlessJob(...) options",
    );
  });
});
