import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePipeline } from '../../lib/compile/states.ts';
import { Pipeline } from '../../lib/constructs/pipeline.ts';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { loadExecution } from '../../lib/local/saved-executions.ts';
import { definePipeline, glueJob, lambda } from '../../lib/spec/index.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { taskRows } from '../faults/local-faults.ts';
import { stepwise, tempStateDir } from '../local/stepwise-cli.ts';
import { issuesOf, runServiceFixtures, taskState } from './service-runs.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/glue/${name}`, import.meta.url));
const specFile = fixture('pipeline.ts');

function spec(tasks: Record<string, unknown>, extra: Record<string, unknown> = {}): PipelineDefinition {
  return definePipeline({ name: 'glue-spec', tasks, ...extra } as never, { specFile });
}

describe('glueJob, compiled', () => {
  const pipeline = spec({ load: { run: glueJob('nightly-load', { args: { '--table': 'orders' } }) } });

  it('is one Task state calling glue:startJobRun.sync with the run identity in its arguments', () => {
    const task = taskState(compilePipeline(pipeline).definition, 'load');
    expect(task).toMatchObject({
      Type: 'Task',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
      Resource: 'arn:${Partition}:states:::glue:startJobRun.sync',
      Parameters: {
        JobName: 'nightly-load',
        Arguments: {
          '--table': 'orders',
          '--stepwise_run_id.$': '$.run.id',
          '--stepwise_pipeline.$': '$.run.pipeline',
          '--stepwise_logical_time.$': '$.run.logicalTime',
        },
      },
      ResultSelector: { 'jobRunId.$': '$.Id', 'jobName.$': '$.JobName', 'state.$': '$.JobRunState' },
      ResultPath: '$.results.load',
      TimeoutSeconds: 7200,
    });
  });

  it("retries Glue's throttling first, then the adapter's policy: 2 attempts, 60 s apart", () => {
    const task = taskState(compilePipeline(pipeline).definition, 'load');
    expect(task?.Retry).toEqual([
      expect.objectContaining({ MaxAttempts: 0 }),
      {
        ErrorEquals: ['Glue.ConcurrentRunsExceededException', 'Glue.ThrottlingException'],
        IntervalSeconds: 30,
        MaxAttempts: 5,
        BackoffRate: 2,
      },
      expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 1, IntervalSeconds: 60 }),
    ]);
  });

  it("takes the pipeline's defaults.retry over the adapter's, and the task's own over both", () => {
    const withDefaults = spec(
      { load: { run: glueJob('j') }, again: { run: glueJob('j'), retry: { attempts: 4 } } },
      { defaults: { retry: { attempts: 5 } } },
    );
    expect(withDefaults.tasks.map((t) => [t.id, t.retry.attempts])).toEqual([
      ['load', 5],
      ['again', 4],
    ]);
  });

  it('is not a Lambda function: the pipeline has no handler for it', () => {
    expect(compilePipeline(pipeline).handlers).toEqual([]);
  });
});

describe('glueJob, checked by definePipeline', () => {
  it('refuses a bad job name and an argument without --, naming the field', () => {
    expect(issuesOf(() => spec({ load: { run: glueJob('bad*name', { args: { table: 'x' } }) } }))).toEqual([
      "tasks.load.run.jobName: is not a Glue job name (1-255 letters, digits, spaces and - _ . : /), received 'bad*name'",
      "tasks.load.run.args.table: is not a Glue argument name; write '--table'",
    ]);
  });

  it('refuses a gate that is a Glue job, and says to add a lambda() gate', () => {
    expect(issuesOf(() => spec({ load: { run: glueJob('j'), gate: true } }))).toEqual([
      expect.stringMatching(
        /^tasks\.load\.gate: a gate must be a lambda\(\) task.*Add a lambda\(\) gate after it/,
      ),
    ]);
  });

  it('refuses a stand-in file that does not exist, at run.local', () => {
    expect(
      issuesOf(() => spec({ load: { run: glueJob('j', { local: './stand-ins/missing.ts' }) } })),
    ).toEqual([
      expect.stringMatching(/^tasks\.load\.run\.local: handler file '\.\/stand-ins\/missing\.ts' not found/),
    ]);
  });

  it("allows a Glue task longer than Lambda's 15 minutes, up to what a run may take", () => {
    expect(spec({ load: { run: glueJob('j'), timeout: '3h' } }).tasks[0]?.timeoutMs).toBe(3 * 3_600_000);
    expect(issuesOf(() => spec({ load: { run: glueJob('j'), timeout: '400d' } }))).toEqual([
      expect.stringMatching(
        /^tasks\.load\.timeout: '400d' is longer than a Step Functions Standard execution/,
      ),
    ]);
    expect(issuesOf(() => spec({ load: { run: lambda('./report.ts'), timeout: '3h' } }))).toEqual([
      expect.stringMatching(/^tasks\.load\.timeout: '3h' is longer than Lambda's 15-minute limit/),
    ]);
  });
});

describe('glueJob, synthesized', () => {
  it("grants the state machine's role the .sync calls on that one job, and nothing on *", () => {
    const stack = new Stack(new App(), 'Glue', { env: { account: '111122223333', region: 'eu-west-1' } });
    const pipeline = new Pipeline(stack, 'P', {
      spec: spec({ load: { run: glueJob('nightly-load', { local: './stand-ins/load.ts' }) } }),
    });
    const template = Template.fromStack(stack);
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[],
    );
    const glue = statements.filter((s) => JSON.stringify(s.Action).includes('glue:'));
    expect(glue.map((s) => ({ ...s, Action: [...(s.Action as string[])].sort() }))).toEqual([
      {
        Effect: 'Allow',
        Action: ['glue:BatchStopJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:StartJobRun'],
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':glue:eu-west-1:111122223333:job/nightly-load'],
          ],
        },
      },
    ]);
    // The stand-in is bundled only when `stepwise run` synthesizes: none in a deploy.
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    expect(machine?.Metadata?.['stepwise:stand-ins']).toBeUndefined();
    expect(pipeline.functions.size).toBe(0);
  });
});

describe('glueJob, run locally through its stand-in', () => {
  const state = tempStateDir('glue-run');
  let ok: RunReport;
  let failed: RunReport;
  let deniedRun: RunReport;
  let refused: { code: number; stderr: string };

  beforeAll(async () => {
    ({
      ok,
      failed,
      denied: deniedRun,
    } = await runServiceFixtures(state.dir, specFile, fixture('failing.ts'), (actions) =>
      actions.includes('glue:'),
    ));
    refused = await stepwise('run', fixture('no-stand-in.ts'), '--state-dir', join(state.dir, 'refused'));
  }, 300_000);

  afterAll(() => state.remove());

  it('SUCCEEDS, with one attempt of each task in the ledger', () => {
    expect(ok.status).toBe('SUCCEEDED');
    expect(taskRows(ok)).toEqual([
      ['load', 'SUCCEEDED', 1],
      ['report', 'SUCCEEDED', 1],
    ]);
  });

  it("gives the stand-in Glue's request, and the task downstream the job run's small result", () => {
    const saved = loadExecution(state.dir, ok.runId);
    expect(saved?.succeededOutputs.report).toEqual({
      got: { jobRunId: `jr_${ok.runId}`, jobName: 'nightly-load', state: 'SUCCEEDED' },
    });
    const request = (saved?.succeededOutputs.load as { Arguments?: Record<string, string> } | undefined)
      ?.Arguments;
    expect(request).toEqual({
      '--table': 'orders',
      '--stepwise_run_id': ok.runId,
      '--stepwise_pipeline': 'glue-load',
      '--stepwise_logical_time': expect.any(String),
    });
  });

  it('fails the run at the task after its retries when the job fails, with the stand-in’s message', () => {
    expect(failed.status).toBe('FAILED');
    expect(taskRows(failed)).toEqual([['load', 'FAILED', 2]]);
    expect(failed.error).toMatchObject({ task: 'load', error: 'States.TaskFailed' });
    expect(failed.error?.message).toContain('job nightly-load failed: table locked');
  });

  it("fails the task with Glue's AccessDeniedException when the role may not start the job", () => {
    expect(deniedRun.status).toBe('FAILED');
    expect(deniedRun.error?.error).toBe('Glue.AccessDeniedException');
    expect(deniedRun.error?.message).toMatch(
      /is not authorized to perform: glue:StartJobRun on resource: .*arn:aws:glue:us-east-1:000000000000:job\/nightly-load/,
    );
  });

  it('refuses a Glue task without a stand-in before any run starts, naming the task and the fix', () => {
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("task 'load' runs glue:startJobRun.sync");
    expect(refused.stderr).toContain("add local: './stand-ins/load.ts' to its glueJob(...) options");
  });
});
