import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePipeline } from '../../lib/compile/states.ts';
import { Pipeline } from '../../lib/constructs/pipeline.ts';
import type { RunReport } from '../../lib/ledger/ledger.ts';
import { loadExecution } from '../../lib/local/saved-executions.ts';
import { definePipeline, ecsTask } from '../../lib/spec/index.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { taskRows } from '../faults/local-faults.ts';
import { tempStateDir } from '../local/stepwise-cli.ts';
import { allStates } from '../private/asl.ts';
import { type PolicyStatement, roleStatements } from '../private/synth.ts';
import { issuesOf, runServiceFixtures } from './service-runs.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/ecs-task/${name}`, import.meta.url));
const analyticsSpec = fileURLToPath(new URL('../../examples/analytics/pipeline.ts', import.meta.url));
const IMAGE = 'public.ecr.aws/docker/library/busybox:1.36';

function spec(tasks: Record<string, unknown>): PipelineDefinition {
  return definePipeline({ name: 'ecs-spec', tasks } as never, { specFile: fixture('failing.ts') });
}

function stateOf(pipeline: PipelineDefinition, name: string): Record<string, unknown> {
  const found = allStates(compilePipeline(pipeline).definition).find((s) => s.name === name);
  if (!found) throw new Error(`no state '${name}'`);
  return found.state as Record<string, unknown>;
}

describe('ecsTask, compiled', () => {
  it('runs the Fargate task and waits, with the command and the run identity as container overrides', () => {
    const state = stateOf(
      spec({ build: { run: ecsTask({ image: IMAGE, command: ['dbt', 'run'] }) } }),
      'build',
    );
    expect(state).toMatchObject({
      Type: 'Task',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
      Resource: 'arn:${Partition}:states:::ecs:runTask.sync',
      Parameters: {
        LaunchType: 'FARGATE',
        // biome-ignore-start lint/suspicious/noTemplateCurlyInString: DefinitionSubstitutions placeholders
        Cluster: '${Adapter_build_cluster}',
        TaskDefinition: '${Adapter_build_taskDefinition}',
        NetworkConfiguration: {
          AwsvpcConfiguration: {
            Subnets: ['${Adapter_build_subnets}'],
            SecurityGroups: ['${Adapter_build_securityGroups}'],
            AssignPublicIp: '${Adapter_build_assignPublicIp}',
          },
        },
        // biome-ignore-end lint/suspicious/noTemplateCurlyInString: DefinitionSubstitutions placeholders
        Overrides: {
          ContainerOverrides: [
            {
              Name: 'main',
              Command: ['dbt', 'run'],
              Environment: [
                { Name: 'STEPWISE_RUN_ID', 'Value.$': '$.run.id' },
                { Name: 'STEPWISE_PIPELINE', 'Value.$': '$.run.pipeline' },
                { Name: 'STEPWISE_LOGICAL_TIME', 'Value.$': '$.run.logicalTime' },
              ],
            },
          ],
        },
      },
      ResultSelector: {
        'taskArn.$': '$.TaskArn',
        'lastStatus.$': '$.LastStatus',
        'stopCode.$': '$.StopCode',
        'stoppedReason.$': '$.StoppedReason',
      },
      ResultPath: '$.results.build',
      TimeoutSeconds: 7200,
    });
  });

  it('names a given task definition and container as written', () => {
    const state = stateOf(
      spec({ build: { run: ecsTask({ taskDefinition: 'dbt:7', container: 'dbt' }) } }),
      'build',
    ) as { Parameters: { TaskDefinition: string; Overrides: { ContainerOverrides: { Name: string }[] } } };
    expect(state.Parameters.TaskDefinition).toBe('dbt:7');
    expect(state.Parameters.Overrides.ContainerOverrides[0]?.Name).toBe('dbt');
    expect(state.Parameters.Overrides.ContainerOverrides[0]).not.toHaveProperty('Command');
  });

  it("retries ECS's throttling and capacity refusals first, then the adapter's policy: 2 attempts, 60 s apart", () => {
    expect(stateOf(spec({ build: { run: ecsTask({ image: IMAGE }) } }), 'build').Retry).toEqual([
      expect.objectContaining({ MaxAttempts: 0 }),
      {
        ErrorEquals: ['ECS.AmazonECSException', 'AmazonECS.Unknown'],
        IntervalSeconds: 20,
        MaxAttempts: 4,
        BackoffRate: 2,
      },
      expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 1, IntervalSeconds: 60 }),
    ]);
  });
});

describe('ecsTask, checked by definePipeline', () => {
  it('fails when neither image nor taskDefinition is given, or both are', () => {
    expect(
      issuesOf(() =>
        spec({ a: { run: ecsTask({}) }, b: { run: ecsTask({ image: IMAGE, taskDefinition: 'dbt' }) } }),
      ),
    ).toEqual([
      "tasks.a.run.image: is missing; give image: 'registry/repository:tag' (stepwise registers the task definition) or taskDefinition: 'family:revision'",
      'tasks.b.run.taskDefinition: is given with image; give one of them: image, for a task definition stepwise registers, or taskDefinition, for one of your own',
    ]);
  });

  it("fails when cpu and memory are not one of Fargate's sizes, naming the sizes offered", () => {
    expect(
      issuesOf(() =>
        spec({
          a: { run: ecsTask({ image: IMAGE, cpu: 300 }) },
          b: { run: ecsTask({ image: IMAGE, cpu: 2048, memory: 2048 }) },
          c: { run: ecsTask({ image: IMAGE, cpu: 256, memory: 4096 }) },
        }),
      ),
    ).toEqual([
      'tasks.a.run.cpu: 300 is not a Fargate CPU value; use one of 256, 512, 1024, 2048, 4096, 8192, 16384',
      'tasks.b.run.memory: 2048 MiB is not offered by Fargate with 2048 CPU units; use 4096 to 16384 in steps of 1024',
      'tasks.c.run.memory: 4096 MiB is not offered by Fargate with 256 CPU units; use 512, 1024, 2048',
    ]);
    expect(
      issuesOf(() => spec({ a: { run: ecsTask({ image: IMAGE, cpu: 16384, memory: 122880 }) } })),
    ).toEqual([]);
  });

  it('fails when sizes are given with a task definition, or roles to pass with an image', () => {
    expect(
      issuesOf(() =>
        spec({
          a: { run: ecsTask({ taskDefinition: 'dbt:7', memory: 1024 }) },
          b: { run: ecsTask({ image: IMAGE, passRoles: ['arn:aws:iam::111122223333:role/dbt'] }) },
        }),
      ),
    ).toEqual([
      'tasks.a.run.memory: is given with taskDefinition, whose own memory the task takes; set it in the task definition, or use image',
      'tasks.b.run.passRoles: is given with image, whose roles stepwise makes and passes itself; remove it',
    ]);
  });

  it('fails on a malformed image, task definition and empty command, naming each field', () => {
    expect(
      issuesOf(() =>
        spec({
          a: { run: ecsTask({ image: 'Not An Image' }) },
          b: { run: ecsTask({ taskDefinition: 'arn:aws:ecs:eu-west-1:1:task-definition/x', command: [] }) },
        }),
      ),
    ).toEqual([
      "tasks.a.run.image: is not a container image URI; write it as 'registry/repository:tag' (letters, digits, . _ - / : @), received 'Not An Image'",
      "tasks.b.run.taskDefinition: is not a task definition; give its ARN or 'family' or 'family:revision', received 'arn:aws:ecs:eu-west-1:1:task-definition/x'",
      "tasks.b.run.command: is empty; give the command as ['dbt', 'run']",
    ]);
  });
});

describe('ecsTask, synthesized', () => {
  const env = { account: '111122223333', region: 'eu-west-1' };

  function ecsStatements(template: Template): PolicyStatement[] {
    const role = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('PStateMachineRole'),
    );
    return roleStatements(template, role as string).filter((s) =>
      /ecs:|events:|iam:PassRole/.test(JSON.stringify(s.Action)),
    );
  }

  it('registers a Fargate task definition of the size asked, logging to CloudWatch Logs, and grants exactly the .sync calls', () => {
    const stack = new Stack(new App(), 'Ecs', { env });
    new Pipeline(stack, 'P', {
      spec: spec({
        build: { run: ecsTask({ image: IMAGE, cpu: 1024, memory: 3072, command: ['dbt', 'run'] }) },
      }),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '3072',
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      ContainerDefinitions: [
        {
          Name: 'main',
          Image: IMAGE,
          Essential: true,
          LogConfiguration: { LogDriver: 'awslogs', Options: { 'awslogs-stream-prefix': 'build' } },
        },
      ],
    });
    const definition = Object.keys(template.findResources('AWS::ECS::TaskDefinition'))[0] as string;
    const cluster = Object.keys(template.findResources('AWS::ECS::Cluster'))[0] as string;
    const roleArn = (prefix: string) => {
      const id = Object.keys(template.findResources('AWS::IAM::Role')).find((r) => r.startsWith(prefix));
      return { 'Fn::GetAtt': [id, 'Arn'] };
    };
    expect(ecsStatements(template)).toEqual([
      {
        Effect: 'Allow',
        Action: 'ecs:RunTask',
        Resource: { Ref: definition },
        Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [cluster, 'Arn'] } } },
      },
      { Effect: 'Allow', Action: ['ecs:StopTask', 'ecs:DescribeTasks'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':events:eu-west-1:111122223333:rule/StepFunctionsGetEventsForECSTaskRule',
            ],
          ],
        },
      },
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: [
          roleArn('PEcsTaskDefinitionbuildTaskRole'),
          roleArn('PEcsTaskDefinitionbuildExecutionRole'),
        ],
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ]);
  });

  it('makes one cluster in a public-subnet VPC without NAT for the whole stack, and gives tasks a public IP', () => {
    const stack = new Stack(new App(), 'Ecs', { env });
    new Pipeline(stack, 'A', { spec: spec({ x: { run: ecsTask({ image: IMAGE }) } }) });
    new Pipeline(stack, 'B', {
      spec: definePipeline({ name: 'ecs-b', tasks: { y: { run: ecsTask({ image: IMAGE }) } } }),
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
      Properties: { DefinitionSubstitutions: Record<string, unknown> };
    };
    expect(machine.Properties.DefinitionSubstitutions.Adapter_x_assignPublicIp).toBe('ENABLED');
    // One placeholder in the definition's Subnets list, filled with the ids joined by '","'.
    expect(machine.Properties.DefinitionSubstitutions.Adapter_x_subnets).toEqual({
      'Fn::Join': [
        '","',
        [
          { Ref: expect.stringMatching(/^StepwiseEcsNetworkVpcTasksSubnet1/) },
          { Ref: expect.stringMatching(/^StepwiseEcsNetworkVpcTasksSubnet2/) },
        ],
      ],
    });
  });

  it('runs in the cluster and subnets passed in, making no VPC, and passes the roles named for a task definition', () => {
    const stack = new Stack(new App(), 'Ecs', { env });
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1, maxAzs: 2 });
    const cluster = new ecs.Cluster(stack, 'Cluster', {
      vpc: vpc as ec2.IVpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    new Pipeline(stack, 'P', {
      spec: spec({
        build: {
          run: ecsTask({ taskDefinition: 'dbt', passRoles: ['arn:aws:iam::111122223333:role/dbt-task'] }),
        },
      }),
      ecs: { cluster: cluster as ecs.ICluster },
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::ECS::TaskDefinition', 0);
    const statements = ecsStatements(template);
    expect(statements[0]?.Resource).toEqual({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':ecs:eu-west-1:111122223333:task-definition/dbt:*'],
      ],
    });
    expect(statements.find((s) => s.Action === 'iam:PassRole')?.Resource).toBe(
      'arn:aws:iam::111122223333:role/dbt-task',
    );
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
      Properties: { DefinitionSubstitutions: Record<string, unknown> };
    };
    // The VPC's private subnets (the default selection), no public IP.
    expect(machine.Properties.DefinitionSubstitutions.Adapter_build_assignPublicIp).toBe('DISABLED');
    expect(JSON.stringify(machine.Properties.DefinitionSubstitutions.Adapter_build_subnets)).toContain(
      'VpcPrivateSubnet1',
    );
  });

  it("grants the execution role the pull from a private ECR image's one repository", () => {
    const stack = new Stack(new App(), 'Ecs', { env });
    new Pipeline(stack, 'P', {
      spec: spec({
        build: { run: ecsTask({ image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/dbt:1.8' }) },
      }),
    });
    const template = Template.fromStack(stack);
    const role = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('PEcsTaskDefinitionbuildExecutionRole'),
    ) as string;
    const pull = roleStatements(template, role).find((s) =>
      JSON.stringify(s.Action).includes('ecr:BatchGetImage'),
    );
    expect(JSON.stringify(pull?.Resource)).toContain(':ecr:eu-west-1:111122223333:repository/dbt');
  });
});

describe('ecsTask, run locally through its stand-in', () => {
  const state = tempStateDir('ecs-run');
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
      analyticsSpec,
      fixture('failing.ts'),
      (actions) => actions === '"ecs:RunTask"',
    ));
  }, 300_000);

  afterAll(() => state.remove());

  it('SUCCEEDS the analytics example: dbt run, test and docs as ECS tasks, then the Batch export', () => {
    expect(ok.status).toBe('SUCCEEDED');
    expect(taskRows(ok)).toEqual([
      ['dbt-run', 'SUCCEEDED', 1],
      ['dbt-test', 'SUCCEEDED', 1],
      ['dbt-docs', 'SUCCEEDED', 1],
      ['export-metrics', 'SUCCEEDED', 1],
    ]);
  });

  it('hands the stand-in the cluster, the registered task definition and the run identity', () => {
    const saved = loadExecution(state.dir, ok.runId);
    const task = saved?.succeededOutputs['dbt-test'] as Record<string, unknown>;
    expect(task).toMatchObject({
      TaskArn: expect.stringMatching(
        /^arn:aws:ecs:us-east-1:000000000000:task\/StepwiseEcsNetworkCluster\w+\//,
      ),
      TaskDefinitionArn: expect.stringMatching(
        /^arn:aws:ecs:us-east-1:000000000000:task-definition\/\w+dbttest\w*:1$/,
      ),
      LastStatus: 'STOPPED',
    });
    expect(String(task.TaskArn)).toContain(ok.runId.slice(-12));
  });

  it('fails the task after its retries when the container exits non-zero, as Step Functions does', () => {
    expect(failed.status).toBe('FAILED');
    expect(taskRows(failed)).toEqual([['migrate', 'FAILED', 2]]);
    expect(failed.error).toMatchObject({ task: 'migrate', error: 'States.TaskFailed' });
    expect(failed.error?.message).toContain("container 'main' exited with code 3");
  });

  it('fails the task with AccessDenied when the role may not run the task definition', () => {
    expect(deniedRun.status).toBe('FAILED');
    expect(deniedRun.error?.error).toMatch(/AccessDeniedException$/);
    expect(deniedRun.error?.message).toMatch(
      /is not authorized to perform: ecs:RunTask on resource: .*arn:aws:ecs:us-east-1:000000000000:task-definition\//,
    );
  });
});
