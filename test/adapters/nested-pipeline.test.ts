// pipeline('name'): a nested run of another pipeline of the stack. The compiled state, the role's grant,
// the spec and synth checks, and local runs served natively (success in both ledgers, a failing child,
// a denied StartExecution).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpec } from '../../lib/cli/load-spec.ts';
import { compilePipeline } from '../../lib/compile/states.ts';
import { Pipeline } from '../../lib/constructs/pipeline.ts';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { LocalRuntime } from '../../lib/local/runtime.ts';
import { loadExecution } from '../../lib/local/saved-executions.ts';
import { synthesizeLocal } from '../../lib/local/synth.ts';
import { definePipeline, lambda, pipeline } from '../../lib/spec/index.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { taskRows } from '../faults/local-faults.ts';
import { tempStateDir } from '../local/stepwise-cli.ts';
import { issuesOf, runWithoutStatements } from './service-runs.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/nested/${name}`, import.meta.url));
const specFile = fixture('parent.ts');

function spec(name: string, tasks: Record<string, unknown>): PipelineDefinition {
  return definePipeline({ name, tasks } as never, { specFile });
}

function findState(definition: { States: Record<string, unknown> }, name: string): Record<string, unknown> {
  for (const [key, state] of Object.entries(definition.States) as [string, Record<string, unknown>][]) {
    if (key === name) return state;
    for (const branch of (state.Branches as { States: Record<string, unknown> }[] | undefined) ?? []) {
      const found = findState(branch, name);
      if (Object.keys(found).length > 0) return found;
    }
  }
  return {};
}

describe('pipeline(), compiled', () => {
  const parent = spec('daily', { child: { run: pipeline('orders') } });

  it('starts the nested state machine with states:startExecution.sync:2, handing it the run', () => {
    expect(findState(compilePipeline(parent).definition, 'child')).toMatchObject({
      Type: 'Task',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
      Resource: 'arn:${Partition}:states:::states:startExecution.sync:2',
      Parameters: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
        StateMachineArn: '${Adapter_child_stateMachine}',
        Input: {
          run: {
            'id.$': '$.run.id',
            pipeline: 'orders',
            'logicalTime.$': '$.run.logicalTime',
            'key.$': "States.Format('pipeline:daily/{}/child', $.run.id)",
            trigger: {
              type: 'pipeline',
              'upstreams.$':
                'States.StringToJson(States.Format(\'[\\{"pipeline":"daily","runId":"{}"\\}]\', $.run.id))',
              'logicalTime.$': '$.run.logicalTime',
            },
            'expiresAt.$': '$.run.expiresAt',
          },
          'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
        },
      },
      ResultSelector: {
        'executionArn.$': '$.ExecutionArn',
        pipeline: 'orders',
        'results.$': '$.Output.results',
      },
      ResultPath: '$.results.child',
      TimeoutSeconds: 86_400,
    });
  });

  it("retries Step Functions' refusals to start, and does not run the nested pipeline twice", () => {
    expect(findState(compilePipeline(parent).definition, 'child').Retry).toEqual([
      expect.objectContaining({ MaxAttempts: 0 }),
      {
        ErrorEquals: ['StepFunctions.ExecutionLimitExceededException', 'StepFunctions.SfnException'],
        IntervalSeconds: 5,
        MaxAttempts: 5,
        BackoffRate: 2,
      },
      expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 0 }),
    ]);
  });
});

describe('pipeline(), checked', () => {
  it('fails when the name is not a pipeline name, or a stand-in is given', () => {
    expect(
      issuesOf(() =>
        spec('daily', {
          a: { run: pipeline('Orders Daily') },
          b: { run: { kind: 'pipeline', pipelineName: 'orders', local: './step.ts' } },
        }),
      ),
    ).toMatchInlineSnapshot(`
      [
        "tasks.a.run.pipelineName: is not a pipeline name; name the nested pipeline as its spec does (lowercase letters, digits and hyphens, starting with a letter, at most 40 characters), received 'Orders Daily'",
        "tasks.b.run.local: a nested pipeline needs no stand-in: stepwise run runs the pipeline itself; remove local",
      ]
    `);
  });

  it('fails at synth when the stack has no pipeline of that name, listing the ones it has', () => {
    const stack = new Stack(new App(), 'Nested');
    new Pipeline(stack, 'Parent', { spec: spec('daily', { child: { run: pipeline('ordrs') } }) });
    new Pipeline(stack, 'Orders', { spec: spec('orders', { step: { run: lambda('./step.ts') } }) });
    expect(() => Template.fromStack(stack)).toThrow(
      "tasks.child.run: pipeline 'daily' runs pipeline('ordrs'), but stack Nested has no pipeline 'ordrs' (did you mean 'orders'?); its other pipelines are 'orders'. Add the nested pipeline to the same stack, or fix the name",
    );
  });

  it('fails at synth when a pipeline nests itself', () => {
    const stack = new Stack(new App(), 'Nested');
    new Pipeline(stack, 'Parent', { spec: spec('daily', { again: { run: pipeline('daily') } }) });
    expect(() => Template.fromStack(stack)).toThrow(/pipeline 'daily' runs pipeline\('daily'\), itself/);
  });
});

describe('pipeline(), synthesized', () => {
  it('grants StartExecution on the nested machine only, its executions, and the managed rule', () => {
    const stack = new Stack(new App(), 'Nested', { env: { account: '111122223333', region: 'eu-west-1' } });
    // The nested pipeline is defined after the one that runs it: it is found when the template resolves.
    const parent = new Pipeline(stack, 'Parent', {
      spec: spec('daily', { child: { run: pipeline('orders') } }),
    });
    const child = new Pipeline(stack, 'Orders', {
      spec: spec('orders', { step: { run: lambda('./step.ts') } }),
    });
    const template = Template.fromStack(stack);
    const childId = stack.getLogicalId(child.stateMachine.node.defaultChild as never);
    const roleId = stack.getLogicalId(parent.stateMachine.role.node.defaultChild as never);
    const statements = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }),
    ).flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]);
    const nested = statements.filter((s) => /states:|events:/.test(JSON.stringify(s.Action)));
    expect(nested).toEqual([
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: childId } },
      {
        Effect: 'Allow',
        Action: ['states:DescribeExecution', 'states:StopExecution'],
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':states:eu-west-1:111122223333:execution:',
              { 'Fn::GetAtt': [childId, 'Name'] },
              ':*',
            ],
          ],
        },
      },
      {
        Effect: 'Allow',
        Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':events:eu-west-1:111122223333:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule',
            ],
          ],
        },
      },
    ]);
    const machine = template.findResources('AWS::StepFunctions::StateMachine')[
      stack.getLogicalId(parent.stateMachine.node.defaultChild as never)
    ];
    expect(machine?.Properties.DefinitionSubstitutions.Adapter_child_stateMachine).toEqual({ Ref: childId });
  });
});

describe('pipeline(), run locally', () => {
  const state = tempStateDir('nested-run');
  let ok: RunReport;
  let childRuns: RunReport[];
  let okOutputs: Record<string, unknown>;
  let failed: RunReport;
  let failedChildRuns: RunReport[];
  let denied: RunReport;

  beforeAll(async () => {
    const specs = await Promise.all(
      ['parent.ts', 'child.ts', 'failing-parent.ts', 'failing-child.ts'].map((f) => loadSpec(fixture(f))),
    );
    const [parent, , failingParent] = specs as [PipelineDefinition, PipelineDefinition, PipelineDefinition];
    const synth = await synthesizeLocal(specs, join(state.dir, 'synth'));
    const runtime = await LocalRuntime.open(synth.deployment, {
      stateDir: state.dir,
      command: 'nested test',
      buckets: [],
    });
    try {
      ok = (await runtime.run(parent, { kind: 'manual', input: {} })).report;
      childRuns = await runtime.listRuns('nested-child', {});
      okOutputs = loadExecution(state.dir, ok.runId)?.succeededOutputs ?? {};
      failed = (await runtime.run(failingParent, { kind: 'manual', input: {} })).report;
      failedChildRuns = await runtime.listRuns('nested-failing-child', {});
    } finally {
      await runtime.close();
    }

    // The same app without the parent machine's StartExecution grant: the start is denied, as on AWS.
    denied = await runWithoutStatements(
      synth.assemblyDir,
      join(state.dir, 'denied'),
      parent,
      (policy, actions) =>
        policy.includes('nestedparentStateMachineRole') && actions === '"states:StartExecution"',
    );
  }, 300_000);

  afterAll(() => state.remove());

  it('SUCCEEDS, the nested task one attempt in the parent’s ledger', () => {
    expect(ok.status).toBe('SUCCEEDED');
    expect(taskRows(ok)).toEqual([
      ['prepare', 'SUCCEEDED', 1],
      ['child', 'SUCCEEDED', 1],
      ['report', 'SUCCEEDED', 1],
    ]);
  });

  it("appears in the nested pipeline's ledger too, with the parent's run id, logical time and trigger", () => {
    expect(childRuns).toHaveLength(1);
    const [child] = childRuns as [RunReport];
    expect(child).toMatchObject({
      runId: ok.runId,
      pipeline: 'nested-child',
      status: 'SUCCEEDED',
      trigger: { type: 'pipeline', upstreams: [{ pipeline: 'nested-parent', runId: ok.runId }] },
    });
    expect(taskRows(child)).toEqual([
      ['extract', 'SUCCEEDED', 1],
      ['load', 'SUCCEEDED', 1],
    ]);
  });

  it("hands the task downstream the nested run's results, which ran under the parent's run", () => {
    const report = okOutputs.report as { inputs: { child: Record<string, unknown> }; logicalTime: string };
    const child = report.inputs.child as {
      executionArn: string;
      pipeline: string;
      results: Record<string, { runId: string; pipeline: string; logicalTime: string }>;
    };
    expect(child.pipeline).toBe('nested-child');
    expect(child.executionArn).toMatch(/:execution:\w+:[0-9a-f-]{36}$/);
    expect(Object.keys(child.results)).toEqual(['extract', 'load']);
    expect(child.results.load).toMatchObject({
      runId: ok.runId,
      pipeline: 'nested-child',
      logicalTime: report.logicalTime,
    });
  });

  it("fails the run at the nested task when the nested run fails, with the nested run's error", () => {
    expect(failed.status).toBe('FAILED');
    expect(taskRows(failed)).toEqual([['child', 'FAILED', 1]]);
    expect(failed.error).toMatchObject({ task: 'child', error: 'States.TaskFailed' });
    expect(failed.error?.message).toContain('told to fail');
    expect(failedChildRuns.map((r) => [r.runId, r.status])).toEqual([[failed.runId, 'FAILED']]);
    expect(taskRows(failedChildRuns[0] as RunReport)).toEqual([
      ['extract', 'SUCCEEDED', 1],
      ['load', 'FAILED', 1],
    ]);
  });

  it('fails the nested task with AccessDeniedException when the role may not start the nested machine', () => {
    expect(denied.status).toBe('FAILED');
    expect(denied.error?.task).toBe('child');
    expect(denied.error?.error).toBe('StepFunctions.AccessDeniedException');
    expect(denied.error?.message).toMatch(/is not authorized to perform: states:StartExecution on resource/);
  });
});
