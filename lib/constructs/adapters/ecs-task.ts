import { Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  DEFAULT_ECS_CONTAINER,
  DEFAULT_ECS_CPU,
  DEFAULT_ECS_MEMORY,
  ECS_MANAGED_RULE,
  type EcsTaskRun,
  taskDefinitionFamily,
} from '../../spec/adapters/ecs-task.ts';
import { acknowledgeWildcardResource } from '../nag.ts';
import type { ServiceBinding } from './service-binding.ts';

/**
 * Where a pipeline's `ecsTask` tasks run: `Pipeline`'s `ecs`.
 * @see README.md, "Task adapters"
 */
export interface EcsTaskNetwork {
  /**
   * The cluster the tasks run in; Fargate capacity needs no instances in it.
   * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/clusters.html
   */
  readonly cluster: ecs.ICluster;
  /**
   * The subnets of the tasks' network interfaces, in the cluster's VPC. They must reach the image's
   * registry and CloudWatch Logs: through a NAT gateway, VPC endpoints, or a public IP (`assignPublicIp`).
   * @default - the VPC's private subnets with egress, or else its public ones
   * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * The tasks' security groups.
   * @default - one new group of the cluster's VPC, admitting no inbound traffic
   * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html
   */
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
  /**
   * Whether each task gets a public IP: in public subnets, the only way out without a NAT gateway.
   * @default false
   * @see https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html
   */
  readonly assignPublicIp?: boolean;
}

/**
 * The stack's default place for ECS tasks, made by the first `ecsTask` of a stack whose `Pipeline`
 * passes no `ecs`, and shared by every pipeline of the stack: a cluster in a VPC of public subnets in
 * two zones. It has no NAT gateway, the part of a VPC that costs by the hour, so tasks get a public IP
 * to pull their image and reach AWS; their security group admits no inbound traffic. Rejected traffic
 * is kept in VPC flow logs for a month.
 */
class DefaultEcsNetwork extends Construct {
  static readonly ID = 'StepwiseEcsNetwork';

  static of(scope: Construct): DefaultEcsNetwork {
    const stack = Stack.of(scope);
    return (
      (stack.node.tryFindChild(DefaultEcsNetwork.ID) as DefaultEcsNetwork | undefined) ??
      new DefaultEcsNetwork(stack, DefaultEcsNetwork.ID)
    );
  }

  readonly network: Required<EcsTaskNetwork>;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    // aws-cdk-lib's classes declare optional members that its interfaces do not (vpnGatewayId), which
    // exactOptionalPropertyTypes tells apart: the class is the interface, so say so once.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Tasks', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      // Restricting the default security group takes a custom-resource Lambda function; nothing here
      // uses that group, and the tasks have a group of their own.
      restrictDefaultSecurityGroup: false,
    }) as ec2.IVpc;
    new ec2.FlowLog(this, 'FlowLog', {
      resourceType: ec2.FlowLogResourceType.fromVpc(vpc),
      trafficType: ec2.FlowLogTrafficType.REJECT,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', {
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      ),
    });
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    }) as ecs.ICluster;
    const securityGroup = new ec2.SecurityGroup(this, 'Tasks', {
      vpc,
      description: 'stepwise ECS tasks: no inbound traffic; outbound to pull images and call AWS',
      allowAllOutbound: true,
    });
    this.network = {
      cluster,
      subnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroups: [securityGroup],
      assignPublicIp: true,
    };
  }
}

/** A private ECR repository URI: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest]`. */
const ECR_IMAGE =
  /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?::([^@]+))?(?:@(.+))?$/;

/** The image, as a private ECR repository (so that the execution role is granted the pull) or a registry. */
function containerImage(scope: Construct, id: string, uri: string): ecs.ContainerImage {
  const ecrImage = ECR_IMAGE.exec(uri);
  if (!ecrImage) return ecs.ContainerImage.fromRegistry(uri);
  const [, account, region, repositoryName, tag, digest] = ecrImage as unknown as [
    string,
    string,
    string,
    string,
    string?,
    string?,
  ];
  const repository = ecr.Repository.fromRepositoryAttributes(scope, `${id}Repository`, {
    repositoryName,
    repositoryArn: Stack.of(scope).formatArn({
      service: 'ecr',
      account,
      region,
      resource: 'repository',
      resourceName: repositoryName,
    }),
  });
  return digest
    ? ecs.ContainerImage.fromEcrRepository(repository, digest)
    : ecs.ContainerImage.fromEcrRepository(repository, tag ?? 'latest');
}

/**
 * The `.sync` integration runs the task, then follows it through the managed rule and stops it if the
 * state is cut short: the calls Step Functions documents. RunTask is granted on the one task definition
 * (revision included, for the one stepwise registers); iam:PassRole on its roles.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html
 */
export const ECS_TASK_BINDING: ServiceBinding<EcsTaskRun> = {
  bind: (run, { scope, task, ecs: given }) => {
    const network = given ?? DefaultEcsNetwork.of(scope).network;
    const stack = Stack.of(scope);
    const vpc = network.cluster.vpc;
    const securityGroups = network.securityGroups ?? [
      new ec2.SecurityGroup(scope, `EcsTaskSecurityGroup-${task.id}`, {
        vpc,
        description: `stepwise ECS task ${task.id}: no inbound traffic`,
        allowAllOutbound: true,
      }),
    ];
    const subnets = vpc.selectSubnets(network.subnets ?? {}).subnetIds;

    let taskDefinition: string;
    let runTaskResources: string[];
    const passRoles: string[] = [...(run.passRoles ?? [])];
    if (run.image !== undefined) {
      const definition = new ecs.FargateTaskDefinition(scope, `EcsTaskDefinition-${task.id}`, {
        cpu: run.cpu ?? DEFAULT_ECS_CPU,
        memoryLimitMiB: run.memory ?? DEFAULT_ECS_MEMORY,
      });
      definition.addContainer(DEFAULT_ECS_CONTAINER, {
        image: containerImage(scope, `EcsTaskImage-${task.id}`, run.image),
        essential: true,
        logging: ecs.LogDrivers.awsLogs({
          streamPrefix: task.id,
          logGroup: new logs.LogGroup(scope, `EcsTaskLogs-${task.id}`, {
            retention: logs.RetentionDays.THREE_MONTHS,
          }),
        }),
      });
      if (ECR_IMAGE.test(run.image)) {
        acknowledgeWildcardResource(
          definition.obtainExecutionRole() as iam.Role,
          '*',
          'ecr:GetAuthorizationToken, with which the execution role logs in to ECR to pull the image, supports no resource-level permissions, so AWS requires Resource "*"; the pull itself is granted on the one repository.',
        );
      }
      taskDefinition = definition.taskDefinitionArn;
      runTaskResources = [definition.taskDefinitionArn];
      passRoles.push(definition.taskRole.roleArn, definition.obtainExecutionRole().roleArn);
    } else {
      taskDefinition = run.taskDefinition as string;
      const { family, revision } = taskDefinitionFamily(taskDefinition);
      const given = taskDefinition.startsWith('arn:')
        ? taskDefinition
        : stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: family });
      // Without a revision, RunTask runs the family's latest: any of its revisions.
      runTaskResources = [revision ? given : `${given}:*`];
    }

    const statements = [
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: runTaskResources,
        conditions: { ArnEquals: { 'ecs:cluster': network.cluster.clusterArn } },
      }),
      // The task's id is known only once it runs: Step Functions documents Resource "*", and stops
      // only the tasks it started.
      new iam.PolicyStatement({ actions: ['ecs:StopTask', 'ecs:DescribeTasks'], resources: ['*'] }),
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: ECS_MANAGED_RULE })],
      }),
      ...(passRoles.length > 0
        ? [
            new iam.PolicyStatement({
              actions: ['iam:PassRole'],
              resources: passRoles,
              conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
            }),
          ]
        : []),
    ];
    return {
      substitutions: {
        cluster: network.cluster.clusterArn,
        taskDefinition,
        subnets: Fn.join('","', subnets),
        securityGroups: Fn.join(
          '","',
          securityGroups.map((group) => group.securityGroupId),
        ),
        assignPublicIp: network.assignPublicIp ? 'ENABLED' : 'DISABLED',
      },
      statements,
      wildcards: [
        {
          resource: '*',
          reason:
            'ecs:StopTask and ecs:DescribeTasks act on a task whose id is known only once it runs; Step Functions documents Resource "*" for them, and stops only the tasks it started.',
        },
      ],
    };
  },
};
