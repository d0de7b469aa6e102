import * as z from 'zod';
import { PARTITION, RUN_CONTEXT, type ServiceAdapter, type ServiceRunFields } from './service.ts';

export interface EcsTaskOptions extends ServiceRunFields {
  /**
   * A container image URI (`public.ecr.aws/org/dbt:1.8`, `123456789012.dkr.ecr.eu-west-1.amazonaws.com/dbt:1.8`):
   * the `Pipeline` construct registers a Fargate task definition of one container running it, logging
   * to CloudWatch Logs, with its own task and execution roles. An image in a private ECR repository of
   * the account is pulled with the execution role, which is granted that. Give `image` or
   * `taskDefinition`, not both.
   * @default - none: give `taskDefinition` instead
   * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_image
   */
  readonly image?: string;
  /**
   * An existing task definition that can run on Fargate, by ARN or `family[:revision]`; without a
   * revision, ECS runs the family's latest ACTIVE one. Give `image` or `taskDefinition`, not both.
   * @default - none: give `image` instead
   * @see https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html#ECS-RunTask-request-taskDefinition
   */
  readonly taskDefinition?: string;
  /**
   * The container that `command` and the run's identity are given to: its name in the task definition.
   * @default 'main' (the name of the container stepwise registers for `image`)
   * @see https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerOverride.html
   */
  readonly container?: string;
  /**
   * The command the container runs, in place of its image's or task definition's, as an argument list:
   * `['dbt', 'run', '--target', 'prod']`.
   * @default - the image's or the task definition's own command
   * @see https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerOverride.html#ECS-Type-ContainerOverride-command
   */
  readonly command?: readonly string[];
  /**
   * CPU units of the task (1024 is one vCPU): 256, 512, 1024, 2048, 4096, 8192 or 16384. Only with `image`.
   * @default 256
   * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
   */
  readonly cpu?: number;
  /**
   * Memory of the task in MiB, one of the amounts Fargate offers for `cpu` (for 256 CPU units: 512,
   * 1024 or 2048). Only with `image`.
   * @default 512
   * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
   */
  readonly memory?: number;
  /**
   * The ARNs of the roles `taskDefinition` names (its task role and execution role): running the task
   * passes them to ECS, so the state machine's role is granted `iam:PassRole` on each. Only with
   * `taskDefinition`; for `image`, stepwise knows the roles it made.
   * @default - none: a task definition with roles then fails with an AccessDenied for iam:PassRole
   * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
   */
  readonly passRoles?: readonly string[];
}

export interface EcsTaskRun extends EcsTaskOptions {
  readonly kind: 'ecsTask';
}

/**
 * Runs a container as a Fargate task and waits for it (`ecs:runTask.sync`): the task succeeds when the
 * ECS task stops with its essential containers exited 0. A container that exits non-zero, or a task
 * that never starts (its image cannot be pulled, say), fails the attempt with `States.TaskFailed`, the
 * stopped task's description as the cause, and the attempt is retried. The task's output is
 * `{ taskArn, lastStatus, stopCode, stoppedReason }`.
 *
 * The container gets the run's identity as environment variables: `STEPWISE_RUN_ID`,
 * `STEPWISE_PIPELINE` and `STEPWISE_LOGICAL_TIME`.
 *
 * Locally, `local` names a handler that runs in ECS's place: it receives the RunTask request
 * (`{ Cluster, TaskDefinition, LaunchType, NetworkConfiguration, Overrides: { ContainerOverrides: [{ Name,
 * Command, Environment }] } }`) and returns the stopped task as DescribeTasks gives it (`{ TaskArn,
 * LastStatus: 'STOPPED', StopCode, StoppedReason, Containers: [{ Name, ExitCode }] }`). Returning a
 * container with a non-zero `ExitCode` fails the attempt, as on AWS; so does throwing.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html
 */
export function ecsTask(options: EcsTaskOptions): EcsTaskRun {
  return { kind: 'ecsTask', ...options };
}

/**
 * Fargate's task sizes: the memory amounts (MiB) each CPU value offers.
 * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */
export const FARGATE_SIZES: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: steps(1024, 4096, 1024),
  1024: steps(2048, 8192, 1024),
  2048: steps(4096, 16384, 1024),
  4096: steps(8192, 30720, 1024),
  8192: steps(16384, 61440, 4096),
  16384: steps(32768, 122880, 8192),
};

function steps(from: number, to: number, by: number): number[] {
  return Array.from({ length: (to - from) / by + 1 }, (_, i) => from + i * by);
}

export const DEFAULT_ECS_CPU = 256;
export const DEFAULT_ECS_MEMORY = 512;
/** The container stepwise registers for `image`. */
export const DEFAULT_ECS_CONTAINER = 'main';

const TASK_DEFINITION =
  /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/)?[A-Za-z0-9_-]{1,255}(:\d+)?$/;

/** `family[:revision]` of a task definition given by ARN or name. */
export function taskDefinitionFamily(taskDefinition: string): { family: string; revision?: string } {
  const [family = '', revision] = taskDefinition.replace(/^arn:[^/]+\//, '').split(':');
  return revision === undefined ? { family } : { family, revision };
}

export const ECS_TASK: ServiceAdapter<EcsTaskRun> = {
  kind: 'ecsTask',
  example: "ecsTask({ image: 'public.ecr.aws/org/dbt:1.8', command: ['dbt', 'run'] })",
  integration: 'ecs:runTask.sync',
  fields: {
    image: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._\-/:@]*$/, {
        error:
          "is not a container image URI; write it as 'registry/repository:tag' (letters, digits, . _ - / : @)",
      })
      .max(255)
      .optional(),
    taskDefinition: z
      .string()
      .regex(TASK_DEFINITION, {
        error: "is not a task definition; give its ARN or 'family' or 'family:revision'",
      })
      .optional(),
    container: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,255}$/, { error: 'is not a container name (letters, digits, - and _)' })
      .optional(),
    command: z.array(z.string()).min(1, { error: "is empty; give the command as ['dbt', 'run']" }).optional(),
    cpu: z.int().optional(),
    memory: z.int().optional(),
    passRoles: z
      .array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { error: 'is not an IAM role ARN' }))
      .optional(),
  },
  problems: (run) => {
    const problems: { field: string; message: string }[] = [];
    if ((run.image === undefined) === (run.taskDefinition === undefined)) {
      problems.push({
        field: run.image === undefined ? 'image' : 'taskDefinition',
        message:
          run.image === undefined
            ? "is missing; give image: 'registry/repository:tag' (stepwise registers the task definition) or taskDefinition: 'family:revision'"
            : 'is given with image; give one of them: image, for a task definition stepwise registers, or taskDefinition, for one of your own',
      });
    }
    if (run.taskDefinition !== undefined) {
      for (const field of ['cpu', 'memory'] as const) {
        if (run[field] !== undefined)
          problems.push({
            field,
            message: `is given with taskDefinition, whose own ${field} the task takes; set it in the task definition, or use image`,
          });
      }
    } else if (run.image !== undefined) {
      const cpu = run.cpu ?? DEFAULT_ECS_CPU;
      const memory = run.memory ?? DEFAULT_ECS_MEMORY;
      const offered = FARGATE_SIZES[cpu];
      if (!offered) {
        problems.push({
          field: 'cpu',
          message: `${cpu} is not a Fargate CPU value; use one of ${Object.keys(FARGATE_SIZES).join(', ')}`,
        });
      } else if (!offered.includes(memory)) {
        problems.push({
          field: 'memory',
          message: `${memory} MiB is not offered by Fargate with ${cpu} CPU units; use ${describeSizes(offered)}`,
        });
      }
      if (run.passRoles !== undefined)
        problems.push({
          field: 'passRoles',
          message: 'is given with image, whose roles stepwise makes and passes itself; remove it',
        });
    }
    return problems;
  },
  state: (run, { substitution }) => {
    const identity = [
      { Name: 'STEPWISE_RUN_ID', 'Value.$': RUN_CONTEXT.runId },
      { Name: 'STEPWISE_PIPELINE', 'Value.$': RUN_CONTEXT.pipeline },
      { Name: 'STEPWISE_LOGICAL_TIME', 'Value.$': RUN_CONTEXT.logicalTime },
    ];
    return {
      Resource: `arn:${PARTITION}:states:::ecs:runTask.sync`,
      Parameters: {
        LaunchType: 'FARGATE',
        Cluster: substitution('cluster'),
        TaskDefinition: run.taskDefinition ?? substitution('taskDefinition'),
        NetworkConfiguration: {
          AwsvpcConfiguration: {
            // Each list is one placeholder, filled with its ids joined by '","': the substitution is
            // textual, so one string becomes as many array elements as there are ids.
            Subnets: [substitution('subnets')],
            SecurityGroups: [substitution('securityGroups')],
            AssignPublicIp: substitution('assignPublicIp'),
          },
        },
        Overrides: {
          ContainerOverrides: [
            {
              Name: run.container ?? DEFAULT_ECS_CONTAINER,
              ...(run.command ? { Command: [...run.command] } : {}),
              Environment: identity,
            },
          ],
        },
      },
      // Fields every stopped task has; a container's ExitCode is absent when it never started, and a
      // path that points nowhere is a States.Runtime error, which no Retry or Catch sees.
      ResultSelector: {
        'taskArn.$': '$.TaskArn',
        'lastStatus.$': '$.LastStatus',
        'stopCode.$': '$.StopCode',
        'stoppedReason.$': '$.StoppedReason',
      },
    };
  },
  failure: (result) => {
    const task = result as { Containers?: { Name?: string; ExitCode?: number; Reason?: string }[] };
    const failed = (task.Containers ?? []).find((c) => c.ExitCode !== undefined && c.ExitCode !== 0);
    if (!failed) return undefined;
    return `container '${failed.Name}' exited with code ${failed.ExitCode}${failed.Reason ? `: ${failed.Reason}` : ''}; the stopped task: ${JSON.stringify(result)}`;
  },
  // ECS throttles RunTask per account; a RunTask answered with Failures (no capacity for the task at
  // that moment, among others) fails the state with AmazonECS.Unknown.
  serviceRetry: {
    ErrorEquals: ['ECS.AmazonECSException', 'AmazonECS.Unknown'],
    IntervalSeconds: 20,
    MaxAttempts: 4,
    BackoffRate: 2,
  },
  // A container that failed has usually failed for a reason a retry will not fix, and each run costs.
  retry: { attempts: 2, intervalMs: 60_000, backoff: 2, maxDelayMs: 600_000, jitter: 'full' },
  timeoutMs: 2 * 3_600_000,
  calls: (request, { partition, region, account }) => {
    const taskDefinition = String(request.TaskDefinition);
    const { family, revision } = taskDefinitionFamily(taskDefinition);
    const definitionArn = taskDefinition.startsWith('arn:')
      ? taskDefinition
      : `arn:${partition}:ecs:${region}:${account}:task-definition/${family}${revision ? `:${revision}` : ''}`;
    const cluster = String(request.Cluster).replace(/^arn:[^/]+\//, '');
    const taskArn = `arn:${partition}:ecs:${region}:${account}:task/${cluster}/stepwise-local`;
    return [
      {
        action: 'ecs:RunTask',
        // Without a revision, RunTask runs the latest, whose number the request does not say.
        resource: revision ? definitionArn : `${definitionArn}:latest`,
        context: { 'ecs:cluster': String(request.Cluster) },
      },
      { action: 'ecs:DescribeTasks', resource: taskArn },
      { action: 'ecs:StopTask', resource: taskArn },
      ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((action) => ({
        action,
        resource: `arn:${partition}:events:${region}:${account}:rule/${ECS_MANAGED_RULE}`,
      })),
    ];
  },
};

/** The EventBridge rule Step Functions manages in the account to learn that a task stopped. */
export const ECS_MANAGED_RULE = 'StepFunctionsGetEventsForECSTaskRule';

function describeSizes(sizes: readonly number[]): string {
  if (sizes.length <= 4) return sizes.join(', ');
  const step = (sizes[1] ?? 0) - (sizes[0] ?? 0);
  return `${sizes[0]} to ${sizes[sizes.length - 1]} in steps of ${step}`;
}
