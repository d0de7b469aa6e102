import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePipeline } from '../../lib/compile/states.ts';
import { Pipeline } from '../../lib/constructs/pipeline.ts';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { loadExecution } from '../../lib/local/saved-executions.ts';
import { batchJob, definePipeline } from '../../lib/spec/index.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { taskRows } from '../faults/local-faults.ts';
import { tempStateDir } from '../local/stepwise-cli.ts';
import { allStates } from '../private/asl.ts';
import { type PolicyStatement, roleStatements } from '../private/synth.ts';
import { issuesOf, runServiceFixtures } from './service-runs.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/batch-job/${name}`, import.meta.url));

function spec(tasks: Record<string, unknown>): PipelineDefinition {
  return definePipeline({ name: 'batch-spec', tasks } as never, { specFile: fixture('pipeline.ts') });
}

function taskState(pipeline: PipelineDefinition, name: string): Record<string, unknown> {
  const found = allStates(compilePipeline(pipeline).definition).find((s) => s.name === name);
  if (!found) throw new Error(`no state '${name}'`);
  return found.state as Record<string, unknown>;
}

describe('batchJob, compiled', () => {
  it('submits the job named after the task and the run, with the command and the run identity', () => {
    const pipeline = spec({
      export: { run: batchJob({ queue: 'exports', definition: 'export-metrics:3', command: ['export'] }) },
    });
    expect(taskState(pipeline, 'export')).toMatchObject({
      Type: 'Task',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
      Resource: 'arn:${Partition}:states:::batch:submitJob.sync',
      Parameters: {
        'JobName.$': "States.Format('export-{}', $.run.id)",
        JobQueue: 'exports',
        JobDefinition: 'export-metrics:3',
        ContainerOverrides: {
          Command: ['export'],
          Environment: [
            { Name: 'STEPWISE_RUN_ID', 'Value.$': '$.run.id' },
            { Name: 'STEPWISE_PIPELINE', 'Value.$': '$.run.pipeline' },
            { Name: 'STEPWISE_LOGICAL_TIME', 'Value.$': '$.run.logicalTime' },
          ],
        },
      },
      ResultSelector: { 'jobId.$': '$.JobId', 'jobName.$': '$.JobName', 'status.$': '$.Status' },
      TimeoutSeconds: 6 * 3600,
      Retry: [
        expect.objectContaining({ MaxAttempts: 0 }),
        {
          ErrorEquals: ['Batch.ServerException', 'Batch.AWSBatchException'],
          IntervalSeconds: 20,
          MaxAttempts: 4,
          BackoffRate: 2,
        },
        expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 1, IntervalSeconds: 60 }),
      ],
    });
  });

  it("cuts a long task id so that '<task>-<run id>' stays within Batch's 128 characters", () => {
    const id = `t${'x'.repeat(63)}`;
    const name = (
      taskState(spec({ [id]: { run: batchJob({ queue: 'q', definition: 'd' }) } }), id).Parameters as {
        'JobName.$': string;
      }
    )['JobName.$'];
    const prefix = /^States\.Format\('(.*)-\{\}'/.exec(name)?.[1] ?? '';
    // Run ids are execution names: at most 80 characters.
    expect(prefix.length + 1 + 80).toBe(128);
    expect(id.startsWith(prefix)).toBe(true);
  });
});

describe('batchJob, checked by definePipeline', () => {
  it('fails on a malformed queue, definition and empty command, naming each field', () => {
    expect(
      issuesOf(() =>
        spec({ export: { run: batchJob({ queue: 'my queue', definition: 'export:latest', command: [] }) } }),
      ),
    ).toEqual([
      "tasks.export.run.queue: is not a Batch job queue; give its name (letters, digits, - and _, at most 128) or its ARN, received 'my queue'",
      "tasks.export.run.definition: is not a Batch job definition; give its ARN or 'name' or 'name:revision', received 'export:latest'",
      "tasks.export.run.command: is empty; give the command as ['export', '--day', 'today']",
    ]);
  });
});

describe('batchJob, synthesized', () => {
  function batchStatements(stack: Stack): PolicyStatement[] {
    const template = Template.fromStack(stack);
    const role = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('PStateMachineRole'),
    );
    return roleStatements(template, role as string).filter((s) =>
      /batch:|events:/.test(JSON.stringify(s.Action)),
    );
  }
  const arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });

  it('grants SubmitJob on the one queue and the one definition revision, and the .sync calls', () => {
    const stack = new Stack(new App(), 'Batch', { env: { account: '111122223333', region: 'eu-west-1' } });
    new Pipeline(stack, 'P', {
      spec: spec({ export: { run: batchJob({ queue: 'exports', definition: 'export-metrics:3' }) } }),
    });
    expect(batchStatements(stack)).toEqual([
      {
        Effect: 'Allow',
        Action: 'batch:SubmitJob',
        Resource: [
          arn(':batch:eu-west-1:111122223333:job-queue/exports'),
          arn(':batch:eu-west-1:111122223333:job-definition/export-metrics:3'),
        ],
      },
      { Effect: 'Allow', Action: ['batch:DescribeJobs', 'batch:TerminateJob'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        Resource: arn(':events:eu-west-1:111122223333:rule/StepFunctionsGetEventsForBatchJobsRule'),
      },
    ]);
  });

  it("takes ARNs as given, and a definition without revision as any of that definition's revisions", () => {
    const stack = new Stack(new App(), 'Batch', { env: { account: '111122223333', region: 'eu-west-1' } });
    const queue = 'arn:aws:batch:eu-west-1:444455556666:job-queue/shared';
    new Pipeline(stack, 'P', {
      spec: spec({ export: { run: batchJob({ queue, definition: 'export-metrics' }) } }),
    });
    expect(batchStatements(stack)[0]?.Resource).toEqual([
      queue,
      {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':batch:eu-west-1:111122223333:job-definition/export-metrics:*',
          ],
        ],
      },
    ]);
  });
});

describe('batchJob, run locally through its stand-in', () => {
  const state = tempStateDir('batch-run');
  let ok: RunReport;
  let failed: RunReport;
  let deniedRun: RunReport;

  beforeAll(async () => {
    ({
      ok,
      failed,
      denied: deniedRun,
    } = await runServiceFixtures(
      state.dir,
      fixture('pipeline.ts'),
      fixture('failing.ts'),
      (actions) => actions === '"batch:SubmitJob"',
    ));
  }, 300_000);

  afterAll(() => state.remove());

  it('SUCCEEDS, the stand-in given the job name, the command and the run identity', () => {
    expect(ok.status).toBe('SUCCEEDED');
    expect(taskRows(ok)).toEqual([['export', 'SUCCEEDED', 1]]);
    const job = loadExecution(state.dir, ok.runId)?.succeededOutputs.export as {
      JobName: string;
      request: { ContainerOverrides: { Command: string[]; Environment: { Name: string; Value: string }[] } };
    };
    expect(job.JobName).toBe(`export-${ok.runId}`);
    expect(job.JobName).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/);
    expect(job.request.ContainerOverrides.Command).toEqual(['export', '--day', 'yesterday']);
    expect(job.request.ContainerOverrides.Environment).toEqual([
      { Name: 'STEPWISE_RUN_ID', Value: ok.runId },
      { Name: 'STEPWISE_PIPELINE', Value: 'batch-export' },
      { Name: 'STEPWISE_LOGICAL_TIME', Value: expect.any(String) },
    ]);
  });

  it('fails the task after its retries when the job ends FAILED, with the reason', () => {
    expect(failed.status).toBe('FAILED');
    expect(taskRows(failed)).toEqual([['export', 'FAILED', 2]]);
    expect(failed.error).toMatchObject({ task: 'export', error: 'States.TaskFailed' });
    expect(failed.error?.message).toContain('job ended FAILED: Essential container in task exited');
  });

  it('fails the task with AccessDenied when the role may not submit to the queue', () => {
    expect(deniedRun.status).toBe('FAILED');
    expect(deniedRun.error?.error).toMatch(/AccessDeniedException$/);
    expect(deniedRun.error?.message).toMatch(
      /is not authorized to perform: batch:SubmitJob on resource: .*arn:aws:batch:us-east-1:000000000000:job-queue\/exports/,
    );
  });
});
