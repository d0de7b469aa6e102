import { Aws, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { BUCKETS_VARIABLE } from '../../lambdas/task/buckets.ts';
import {
  adapterSubstitution,
  handlerSubstitution,
  INTEGRATIONS,
  SUBSTITUTIONS,
} from '../compile/integrations.ts';
import { type CompiledPipeline, compilePipeline } from '../compile/states.ts';
import {
  DEFINITION_BUDGET_CONTEXT,
  LOCAL_SYNTH_CONTEXT,
  STAND_INS_METADATA,
  stateMachineOutputKey,
  TASK_PIPELINE_VARIABLE,
} from '../names.ts';
import { isServiceRun } from '../spec/adapters/registry.ts';
import { didYouMean } from '../spec/did-you-mean.ts';
import type { PipelineDefinition } from '../spec/types.ts';
import type { EcsTaskNetwork } from './adapters/ecs-task.ts';
import { addSplitParts } from './adapters/nested-pipeline.ts';
import { serviceBinding } from './adapters/registry.ts';
import { bundleHandler } from './bundle.ts';
import {
  type DataBucketRef,
  declaredAccess,
  grantBucketAccess,
  type QuarantineLocation,
  quarantineIsWatched,
  resolveBuckets,
  type WatchedLocation,
  watchedQuarantineProblem,
} from './data-access.ts';
import { addDefinitionAssetMetadata, pipelineDefinitionBody } from './definition-body.ts';
import { executionLogGroup } from './execution-logs.ts';
import { HandlerFunction } from './handler-function.ts';
import { LedgerTable } from './ledger-table.ts';
import { pipelineMetric } from './metrics.ts';
import { acknowledgeWildcardResource } from './nag.ts';
import { addPipelineAlarms } from './pipeline-alarms.ts';
import { PipelineDashboard } from './pipeline-dashboard.ts';
import type { PipelineMetrics } from './pipeline-metrics.ts';
import { executionsArn, StepwisePlatform } from './platform.ts';
import { addTrigger } from './triggers.ts';

/** Settings of a `Pipeline`: the spec, and the real buckets behind the names it uses. */
export interface PipelineProps {
  /**
   * The pipeline, as `definePipeline` returns it.
   * @see README.md, "A pipeline"
   */
  readonly spec: PipelineDefinition;
  /**
   * The real bucket behind each data-bucket name the spec uses: in an `s3ObjectCreated` trigger, in a
   * task's `lambda(entry, { reads, writes })`, or as `quarantine.bucket`.
   *
   * Every name the spec uses must be mapped; an unmapped one is an `UnmappedBucketError` at synth,
   * listing each missing name and where the spec uses it. A spec name is never deployed as if it were
   * a bucket name. Each handler function is granted, on each bucket, only what its tasks declare, and
   * finds the real names in `ctx.buckets`. A bucket that triggers runs must send its events to
   * EventBridge (`DataBucket` does).
   * @default - none: only a spec that names no bucket needs none
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html
   */
  readonly buckets?: Readonly<Record<string, DataBucketRef>>;
  /**
   * Where the spec's `ecsTask` tasks run: an ECS cluster, and the subnets and security groups of their
   * Fargate tasks.
   *
   * Without it, the first `ecsTask` in a stack creates one cluster in a new VPC of public subnets only,
   * shared by every pipeline of the stack: no NAT gateway (the costly part of a VPC), so each task gets a
   * public IP to pull its image and reach AWS APIs, behind a security group that admits no inbound traffic.
   * @default - a cluster in a new public-subnet VPC, one per stack, made only when the spec has an ecsTask
   * @see README.md, "Task adapters"
   */
  readonly ecs?: EcsTaskNetwork;
}

/**
 * One pipeline: its compiled Standard state machine, one Lambda function per distinct handler file, its
 * triggers, alarms and dashboard. Shares the stack's ledger, alert topic, dispatcher and recorder with
 * every other pipeline.
 */
export class Pipeline extends Construct implements PipelineMetrics {
  /**
   * The pipeline's spec, as `definePipeline` returned it.
   * @see README.md, "A pipeline"
   */
  readonly spec: PipelineDefinition;
  /**
   * The pipeline's Standard state machine. `Pipeline` adds its ARN as the stack output
   * `StepwiseStateMachine<PascalName>`.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/concepts-standard-vs-express.html
   */
  readonly stateMachine: sfn.StateMachine;
  /**
   * The Lambda functions, one per distinct handler file, by the handler's name (the file name without
   * its extension, such as `ingest`). To grant a task access to something else, use `taskFunction`.
   * @see README.md, "Deploying"
   */
  readonly functions: ReadonlyMap<string, HandlerFunction>;
  /**
   * The real bucket behind each bucket name the spec uses.
   * @see README.md, "Deploying"
   */
  readonly buckets: ReadonlyMap<string, DataBucketRef>;
  /**
   * Failed, timed-out, throttled and quarantined runs, and the SLA when the spec sets one; each
   * notifies the stack's alert topic.
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
   */
  readonly alarms: readonly cloudwatch.Alarm[];
  /**
   * The pipeline's CloudWatch dashboard: runs by status, duration p50 and p95, task retries, quarantines.
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Dashboards.html
   */
  readonly dashboard: cloudwatch.Dashboard;
  /** What the compiler made of the spec: the definition and the handler functions. */
  private readonly compiled: CompiledPipeline;
  private readonly platform: StepwisePlatform;
  private readonly s3Resources: string[] = [];
  private readonly functionByTask = new Map<string, HandlerFunction>();

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    this.spec = props.spec;
    this.buckets = resolveBuckets(props.spec, props.buckets ?? {});
    const budget = this.node.tryGetContext(DEFINITION_BUDGET_CONTEXT) as number | undefined;
    this.compiled = compilePipeline(
      props.spec,
      budget === undefined ? {} : { definitionBudget: Number(budget) },
    );
    const platform = StepwisePlatform.of(this);
    this.platform = platform;

    const functions = new Map<string, HandlerFunction>();
    for (const handler of this.compiled.handlers) {
      const access = declaredAccess(props.spec, handler.tasks);
      const fn = new HandlerFunction(this, `Handler-${handler.name}`, {
        entry: handler.entry,
        environment: {
          ...handler.env,
          [TASK_PIPELINE_VARIABLE]: props.spec.name,
          ...(access.size > 0 ? { [BUCKETS_VARIABLE]: this.bucketNamesJson(access.keys()) } : {}),
        },
        memoryMb: handler.memoryMb,
        timeout: Duration.seconds(handler.timeoutSeconds),
        description: handlerDescription(props.spec.name, handler.tasks),
      });
      for (const [name, granted] of access) {
        const bucket = this.bucket(name);
        grantBucketAccess(fn.function, bucket, granted);
        acknowledgeWildcardResource(
          fn.role,
          bucket.arnForObjects('*'),
          `The tasks declare ${granted.read && granted.write ? 'reads and writes' : granted.read ? 'reads' : 'writes'} of bucket '${name}', whose keys are known only at run time; the grant is limited to object actions on that one bucket.`,
        );
      }
      functions.set(handler.name, fn);
      for (const task of handler.tasks) this.functionByTask.set(task, fn);
    }
    this.functions = functions;

    const substitutions: Record<string, string> = {
      [SUBSTITUTIONS.partition]: Aws.PARTITION,
      [SUBSTITUTIONS.ledgerTable]: platform.ledger.table.tableName,
    };
    for (const [name, fn] of functions) substitutions[handlerSubstitution(name)] = fn.functionArn;
    const quarantineBucket = props.spec.quarantine.bucket;
    if (quarantineBucket !== undefined) {
      substitutions[SUBSTITUTIONS.quarantineBucket] = this.bucket(quarantineBucket).bucketName;
    }

    const serviceStatements: iam.PolicyStatement[] = [];
    const serviceWildcards: { resource: string; reason: string }[] = [];
    const standIns: Record<string, string> = {};
    const local = this.node.tryGetContext(LOCAL_SYNTH_CONTEXT) === true;
    for (const task of props.spec.tasks) {
      const { run } = task;
      if (!isServiceRun(run)) continue;
      const binding = serviceBinding(run).bind(run, {
        scope: this,
        task,
        bucket: (name) => this.bucket(name),
        ecs: props.ecs,
      });
      for (const [key, value] of Object.entries(binding.substitutions ?? {}))
        substitutions[adapterSubstitution(task.id, key)] = value;
      serviceStatements.push(...binding.statements);
      serviceWildcards.push(...(binding.wildcards ?? []));
      if (local && run.local !== undefined) standIns[task.id] = bundleHandler(run.local);
    }

    // A pipeline too large for one definition runs its parts as state machines of their own.
    const split = addSplitParts(this, {
      pipeline: props.spec.name,
      parts: this.compiled.parts,
      substitutions,
      functions: [...functions.values()],
      ledgerTableArn: platform.ledger.table.tableArn,
      serviceStatements,
      serviceWildcards,
      standIns,
      observers: [platform.recorder, platform.reconciler],
    });
    Object.assign(substitutions, split.substitutions);
    serviceStatements.push(...split.statements);
    serviceWildcards.push(...(split.wildcards ?? []));

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: pipelineDefinitionBody(this.compiled.definition),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      logs: {
        // Under /aws/vendedlogs/states/, unique per stack instance: see executionLogGroupName.
        destination: executionLogGroup(this, 'ExecutionLogs', props.spec.name),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
      comment: props.spec.description ?? `stepwise pipeline ${props.spec.name}`,
    });
    addDefinitionAssetMetadata(this.stateMachine);
    this.grantStateMachine(platform);
    for (const statement of serviceStatements) this.stateMachine.addToRolePolicy(statement);
    for (const { resource, reason } of serviceWildcards)
      acknowledgeWildcardResource(this.stateMachine.role as iam.Role, resource, reason);
    if (Object.keys(standIns).length > 0)
      (this.stateMachine.node.defaultChild as sfn.CfnStateMachine).addMetadata(STAND_INS_METADATA, standIns);
    this.node.addValidation({ validate: () => this.watchedQuarantines() });
    this.acknowledgeStateMachineWildcards();
    platform.registerPipeline({
      name: props.spec.name,
      stateMachine: this.stateMachine,
      maxConcurrentRuns: props.spec.maxConcurrentRuns,
      retentionDays: props.spec.retentionDays,
    });

    for (const [index, trigger] of props.spec.triggers.entries()) {
      const resolved =
        trigger.kind === 's3ObjectCreated'
          ? { ...trigger, bucket: this.bucket(trigger.bucket).bucketName }
          : trigger;
      addTrigger(this, `Trigger${index}-${trigger.kind}`, resolved, {
        pipeline: props.spec.name,
        dispatcher: platform.dispatcher.function,
        deadLetterQueue: platform.deadLetters.queue,
      });
    }

    this.alarms = addPipelineAlarms(this, {
      metrics: this,
      slaMs: props.spec.slaMs,
      alertTopic: platform.alerts.topic,
    });
    this.dashboard = new PipelineDashboard(this, 'Dashboard', {
      metrics: this,
      alarms: this.alarms,
    }).dashboard;
    addStateMachineOutput(this, props.spec.name, this.stateMachine);
  }

  /**
   * The pipeline's name, as the spec gives it.
   * @see README.md, "A pipeline"
   */
  get pipelineName(): string {
    return this.spec.name;
  }

  /**
   * The Lambda function that runs a task, for grants of your own: a table, a secret, a queue.
   * Tasks sharing a handler file share this function, and so whatever you grant it.
   *
   * @example
   * ordersTable.grantReadData(pipeline.taskFunction('ingest'));
   * @see README.md, "Deploying"
   */
  taskFunction(taskId: string): lambda.IFunction {
    const fn = this.functionByTask.get(taskId);
    if (fn) return fn.function;
    const tasks = [...this.functionByTask.keys()];
    throw new Error(
      `pipeline '${this.spec.name}' has no task '${taskId}'${didYouMean(taskId, tasks)}; its tasks are ${tasks.map((t) => `'${t}'`).join(', ')}`,
    );
  }

  /**
   * Runs started (AWS/States ExecutionsStarted), summed over 5 minutes.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
   */
  metricStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricStarted(props);
  }

  /**
   * Executions that succeeded (AWS/States ExecutionsSucceeded), summed over 5 minutes. A quarantined
   * run's execution succeeds too; `metricQuarantined` counts those.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
   */
  metricSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricSucceeded(props);
  }

  /**
   * Runs that failed (AWS/States ExecutionsFailed), summed over 5 minutes.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
   */
  metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricFailed(props);
  }

  /**
   * Runs stopped at the pipeline's timeout (AWS/States ExecutionsTimedOut), summed over 5 minutes.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
   */
  metricTimedOut(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricTimedOut(props);
  }

  /**
   * Executions Step Functions throttled (AWS/States ExecutionThrottled), summed over 5 minutes.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
   */
  metricThrottled(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricThrottled(props);
  }

  /**
   * Run duration in milliseconds (AWS/States ExecutionTime), averaged over 5 minutes.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
   */
  metricTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricTime(props);
  }

  /**
   * Quarantined runs (stepwise RunsQuarantined, from the recorder), summed over 5 minutes.
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
   */
  metricQuarantined(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return pipelineMetric(this.spec.name, 'RunsQuarantined', props);
  }

  /**
   * Task attempts beyond the first (stepwise TaskRetries, from the recorder), summed over 5 minutes.
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
   */
  metricTaskRetries(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return pipelineMetric(this.spec.name, 'TaskRetries', props);
  }

  /**
   * Lets a principal start runs through the dispatcher (lambda:InvokeFunction), as `stepwise run
   * --aws` and backfills do. The dispatcher serves every pipeline of the stack, so this grant does too.
   * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
   */
  grantTrigger(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [this.platform.dispatcher.functionArn],
    });
  }

  /**
   * Lets a principal read the ledger (GetItem and Query, on the table and its byStatus index), as
   * `stepwise runs --aws` does.
   * @see README.md, "The ledger"
   */
  grantReadLedger(grantee: iam.IGrantable): iam.Grant {
    const table = this.platform.ledger.table;
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:Query'],
      resourceArns: [table.tableArn, `${table.tableArn}/index/${LedgerTable.STATUS_INDEX}`],
    });
  }

  /**
   * Lets a principal redrive this pipeline's failed executions from the state that failed.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html
   */
  grantRedrive(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['states:RedriveExecution'],
      resourceArns: [executionsArn(this.stateMachine)],
    });
  }

  /**
   * Lets a principal read the state machine and its executions: aws-cdk-lib's `grantRead`.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/auth-and-access-control-sfn.html
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantRead(grantee);
  }

  private acknowledgeStateMachineWildcards(): void {
    const role = this.stateMachine.role as iam.Role;
    acknowledgeWildcardResource(
      role,
      '*',
      `X-Ray PutTraceSegments/PutTelemetryRecords and the CloudWatch Logs vended-delivery actions that CDK grants for execution logging${usesLatches(this.compiled) ? ', and states:SendTaskSuccess, with which a latch returns a task token,' : ''} do not support resource-level permissions, so AWS requires Resource "*".`,
    );
    for (const resource of this.s3Resources) {
      acknowledgeWildcardResource(
        role,
        resource,
        'The quarantine move copies and deletes the object that triggered the run, whose key is known only at run time; the wildcard is limited to the trigger prefix and the quarantine prefix of the named bucket.',
      );
    }
  }

  /** The real bucket for a name `resolveBuckets` has checked. */
  private bucket(name: string): DataBucketRef {
    const bucket = this.buckets.get(name);
    if (!bucket)
      throw new Error(`bucket '${name}' was not resolved; resolveBuckets checks every name the spec uses`);
    return bucket;
  }

  /** `{"raw":"<real name>"}` for the function's environment; tokens resolve at deploy. */
  private bucketNamesJson(names: Iterable<string>): string {
    const real = Object.fromEntries([...names].map((name) => [name, this.bucket(name).bucketName]));
    return Stack.of(this).toJsonString(real);
  }

  /** This pipeline's S3 triggers, with their real buckets. */
  private get watchedLocations(): readonly WatchedLocation[] {
    return this.spec.triggers.flatMap((trigger, index) =>
      trigger.kind === 's3ObjectCreated'
        ? [
            {
              pipeline: this.spec.name,
              path: `triggers[${index}]`,
              trigger,
              bucket: this.bucket(trigger.bucket),
            },
          ]
        : [],
    );
  }

  /**
   * Refuses a quarantine that an S3 trigger anywhere in the app watches. Refused rather than excluded
   * from the rule: an EventBridge pattern cannot require a key to match the trigger's wildcard and also
   * not start with the quarantine prefix (values of one field are alternatives, and `anything-but`
   * does not combine with `wildcard` on the same key).
   */
  private watchedQuarantines(): string[] {
    const { prefix, bucket } = this.spec.quarantine;
    const quarantines: QuarantineLocation[] = this.watchedLocations.map((source) => ({
      pipeline: this.spec.name,
      prefix,
      source: source.trigger,
      bucket: bucket === undefined ? source.bucket : this.bucket(bucket),
    }));
    if (quarantines.length === 0) return [];
    const watches = this.node.root.node
      .findAll()
      .filter((construct): construct is Pipeline => construct instanceof Pipeline)
      .flatMap((pipeline) => pipeline.watchedLocations);
    const problems = new Set<string>();
    for (const quarantine of quarantines) {
      for (const watch of watches) {
        if (quarantineIsWatched(quarantine, watch)) problems.add(watchedQuarantineProblem(quarantine, watch));
      }
    }
    return [...problems];
  }

  /** Least privilege: invoke its own functions, write the ledger run row, move bad objects aside. */
  private grantStateMachine(platform: StepwisePlatform): void {
    const role = this.stateMachine;
    for (const fn of this.functions.values()) fn.grantInvoke(role);
    const latched = usesLatches(this.compiled);
    role.addToRolePolicy(
      new iam.PolicyStatement({
        // A latch (a graph that is not series-parallel) reads the outputs of other chains back.
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', ...(latched ? ['dynamodb:GetItem'] : [])],
        resources: [platform.ledger.table.tableArn],
      }),
    );
    if (latched) {
      // A latch returns a waiting state's task token. SendTaskSuccess supports no resource-level
      // permissions (the Service Authorization Reference lists no resource type for it): Resource "*".
      role.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['states:SendTaskSuccess'], resources: ['*'] }),
      );
    }
    const { prefix, bucket: quarantineBucket } = this.spec.quarantine;
    for (const trigger of this.spec.triggers) {
      if (trigger.kind !== 's3ObjectCreated') continue;
      const sourceBucket = this.bucket(trigger.bucket);
      const targetBucket = quarantineBucket ? this.bucket(quarantineBucket) : sourceBucket;
      const source = sourceBucket.bucketName;
      const target = targetBucket.bucketName;
      // The copy decrypts the original and encrypts the copy with each bucket's own key, if any.
      sourceBucket.encryptionKey?.grant(role, 'kms:Decrypt');
      targetBucket.encryptionKey?.grant(role, 'kms:GenerateDataKey');
      const sourceObjects = `arn:${Aws.PARTITION}:s3:::${source}/${trigger.prefix ?? ''}*`;
      const targetObjects = `arn:${Aws.PARTITION}:s3:::${target}/${prefix}*`;
      this.s3Resources.push(sourceObjects, targetObjects);
      role.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [
            's3:GetObject',
            's3:GetObjectVersion',
            's3:GetObjectTagging',
            's3:GetObjectVersionTagging',
            's3:DeleteObject',
            // Delete original names the version the copy pinned, when the trigger has one.
            's3:DeleteObjectVersion',
          ],
          resources: [sourceObjects],
        }),
      );
      role.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:PutObject', 's3:PutObjectTagging'],
          resources: [targetObjects],
        }),
      );
    }
  }
}

/** Whether the definition has latched chains: it then waits on task tokens and returns them. */
function usesLatches(compiled: CompiledPipeline): boolean {
  return JSON.stringify(compiled.definition).includes(INTEGRATIONS.latchWait);
}

/** `StepwiseStateMachine<PascalName>`, a stack-level output holding the state machine's ARN. */
function addStateMachineOutput(pipeline: Pipeline, name: string, stateMachine: sfn.StateMachine): void {
  const stack = Stack.of(pipeline);
  const id = stateMachineOutputKey(name);
  const taken = stack.node.tryFindChild(id);
  if (taken) {
    throw new Error(
      `pipeline '${name}' needs the stack output ${id}, which ${taken.node.path} already takes; rename one of the pipelines (names differing only in hyphens before digits map to the same output)`,
    );
  }
  new CfnOutput(stack, id, {
    value: stateMachine.stateMachineArn,
    description: `stepwise pipeline '${name}' (state machine ARN)`,
  });
}

const LAMBDA_DESCRIPTION_MAX = 256;

/** Names the tasks a function serves; Lambda caps a description at 256 characters, so a long list is cut. */
function handlerDescription(pipeline: string, tasks: readonly string[]): string {
  const head = `stepwise ${pipeline}: `;
  for (let shown = tasks.length; shown > 0; shown--) {
    const rest = tasks.length - shown;
    const text = `${head}${tasks.slice(0, shown).join(', ')}${rest > 0 ? ` and ${rest} more` : ''}`;
    if (text.length <= LAMBDA_DESCRIPTION_MAX) return text;
  }
  return `${head}${tasks.length} tasks`.slice(0, LAMBDA_DESCRIPTION_MAX);
}
