import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ArnFormat, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { pipelineConfigJson, pipelineVariable } from '../../lambdas/dispatcher/config.ts';
import { PLATFORM_ENVIRONMENT, RUN_FINISHED, STACK_OUTPUTS } from '../names.ts';
import { stackFiles } from '../stack-files.ts';
import { AlertTopic } from './alert-topic.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import { HandlerFunction } from './handler-function.ts';
import { LedgerTable } from './ledger-table.ts';
import { acknowledgeWildcardResource } from './nag.ts';
import { RuleGroup } from './rule-group.ts';

const PLATFORM_ID = 'StepwisePlatform';

/** Terminal statuses of a Step Functions execution: each one ends a run. */
const TERMINAL_STATUSES = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

/** How often the reconciler looks for runs whose end the recorder missed, and how old such a run is. */
const RECONCILE_EVERY = Duration.minutes(10);

/**
 * EventBridge's default quota on a rule's pattern is 2048 characters. A state machine ARN takes up to
 * about 130 of them, a pipeline name at most 43, with room left for the rest of the pattern.
 */
const MACHINES_PER_RULE = 12;
const PIPELINES_PER_RULE = 30;

/**
 * "The total size of all environment variables doesn't exceed 4 KB", counted here as the JSON of the
 * variables, which is at least their keys and values.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
 */
const LAMBDA_ENVIRONMENT_BYTES = 4096;
/** The longest a state machine ARN gets: aws-us-gov partition, 14-character region, 80-character name. */
const WORST_CASE_STATE_MACHINE_ARN = `arn:aws-us-gov:states:${'r'.repeat(14)}:${'0'.repeat(12)}:stateMachine:${'n'.repeat(80)}`;
/** The reconciler's own variables (a superset of the dispatcher's), tokens at their longest. */
const WORST_CASE_OBSERVER_ENVIRONMENT = {
  [PLATFORM_ENVIRONMENT.ledgerTable]: 't'.repeat(255),
  [PLATFORM_ENVIRONMENT.alertTopicArn]: `arn:aws-us-gov:sns:${'r'.repeat(14)}:${'0'.repeat(12)}:${'t'.repeat(256)}`,
  [PLATFORM_ENVIRONMENT.eventBusName]: 'default',
  [PLATFORM_ENVIRONMENT.reconcileAfterMinutes]: '10',
};

function environmentSize(variables: Record<string, string>): number {
  return Buffer.byteLength(JSON.stringify(variables), 'utf8');
}

/** What a pipeline tells the platform about itself. */
export interface PipelineRegistration {
  /**
   * The pipeline's name, unique in the stack: it names the pipeline in the dispatcher's settings and
   * in ledger keys.
   * @see README.md, "The ledger"
   */
  readonly name: string;
  /**
   * The pipeline's state machine, which the dispatcher starts and the recorder and reconciler read.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/concepts-standard-vs-express.html
   */
  readonly stateMachine: sfn.StateMachine;
  /**
   * How many runs of the pipeline may run at once; the dispatcher queues the rest in the ledger.
   * @see README.md, "Deploying"
   */
  readonly maxConcurrentRuns: number;
  /**
   * How many days the pipeline's ledger rows are kept, through the table's TTL attribute `expiresAt`.
   * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
   */
  readonly retentionDays: number;
}

/**
 * What every pipeline in a stack shares: the ledger table, the alert topic, the dispatcher that
 * every trigger goes through, the recorder that writes each finished run's history, the reconciler
 * that closes runs the recorder missed, and the dead-letter queue behind them. Created once per stack,
 * by the first `Pipeline` in it.
 */
export class StepwisePlatform extends Construct {
  /**
   * The stack's platform, created on first use.
   * @see README.md, "Deploying"
   */
  static of(scope: Construct): StepwisePlatform {
    const stack = Stack.of(scope);
    return (
      (stack.node.tryFindChild(PLATFORM_ID) as StepwisePlatform | undefined) ??
      new StepwisePlatform(stack, PLATFORM_ID)
    );
  }

  /**
   * The run ledger every pipeline of the stack writes.
   * @see README.md, "The ledger"
   */
  readonly ledger: LedgerTable;
  /**
   * The topic every alert goes to: failed and quarantined runs, alarms, runs that could not start.
   * @see https://docs.aws.amazon.com/sns/latest/dg/sns-create-subscribe-endpoint-to-topic.html
   */
  readonly alerts: AlertTopic;
  /**
   * Where undeliverable trigger events and failed asynchronous invocations go, with an alarm.
   * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-event-delivery.html
   */
  readonly deadLetters: DeadLetterQueue;
  /**
   * The Lambda every trigger goes through: it dedupes by run key, queues runs beyond
   * `maxConcurrentRuns` and starts the executions.
   * @see README.md, "Deploying"
   */
  readonly dispatcher: HandlerFunction;
  /**
   * The Lambda that records each finished run from its execution history: task attempts, the alert,
   * metrics and the "Run Finished" event.
   * @see README.md, "Deploying"
   */
  readonly recorder: HandlerFunction;
  /**
   * The Lambda that, every 10 minutes, closes runs whose end the recorder missed and repairs
   * concurrency slots.
   * @see README.md, "Deploying"
   */
  readonly reconciler: HandlerFunction;
  private readonly statusChangeRules: RuleGroup;
  private readonly runFinishedRules: RuleGroup;
  private readonly pipelines = new Map<string, PipelineRegistration>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.ledger = new LedgerTable(this, 'Ledger');
    this.alerts = new AlertTopic(this, 'Alerts');
    this.deadLetters = new DeadLetterQueue(this, 'DeadLetters', { alertTopic: this.alerts.topic });
    const table = this.ledger.table;

    this.dispatcher = new HandlerFunction(this, 'Dispatcher', {
      entry: lambdaEntry('dispatcher'),
      description: 'stepwise dispatcher: dedupes triggers, queues runs beyond the limit and starts them',
      memoryMb: 256,
      timeout: Duration.seconds(30),
      // ALERT_TOPIC_ARN: a run Step Functions refuses to start is set aside with an alert.
      environment: {
        [PLATFORM_ENVIRONMENT.ledgerTable]: table.tableName,
        [PLATFORM_ENVIRONMENT.alertTopicArn]: this.alerts.topic.topicArn,
      },
      deadLetterQueue: this.deadLetters.queue,
    });
    this.alerts.grantPublish(this.dispatcher.role);
    this.dispatcher.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:GetItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
        ],
        resources: [table.tableArn],
      }),
    );

    const observerEnvironment = {
      [PLATFORM_ENVIRONMENT.ledgerTable]: table.tableName,
      [PLATFORM_ENVIRONMENT.alertTopicArn]: this.alerts.topic.topicArn,
      [PLATFORM_ENVIRONMENT.eventBusName]: 'default',
    };
    this.recorder = new HandlerFunction(this, 'Recorder', {
      entry: lambdaEntry('recorder'),
      description:
        "stepwise recorder: writes each finished run's task attempts, alerts, announces Run Finished",
      memoryMb: 512,
      // A long run's history takes many GetExecutionHistory pages.
      timeout: Duration.minutes(5),
      environment: observerEnvironment,
      deadLetterQueue: this.deadLetters.queue,
    });
    this.reconciler = new HandlerFunction(this, 'Reconciler', {
      entry: lambdaEntry('reconciler'),
      description: 'stepwise reconciler: closes runs whose end the recorder missed',
      memoryMb: 512,
      timeout: Duration.minutes(5),
      environment: {
        ...observerEnvironment,
        [PLATFORM_ENVIRONMENT.reconcileAfterMinutes]: String(RECONCILE_EVERY.toMinutes()),
      },
      deadLetterQueue: this.deadLetters.queue,
    });
    this.grantObserver(this.recorder, { statusIndex: false });
    this.grantObserver(this.reconciler, { statusIndex: true });
    // The reconciler also repairs concurrency slots and drains the queue, as the dispatcher does.
    this.reconciler.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:DeleteItem'], resources: [table.tableArn] }),
    );

    // Status-change events are best effort and Lambda is invoked asynchronously: EventBridge retries
    // a failed delivery, Lambda retries a failed invocation, and what still fails lands in the queue.
    const delivery = {
      retryAttempts: 10,
      maxEventAge: Duration.hours(24),
      deadLetterQueue: this.deadLetters.queue,
    };
    this.statusChangeRules = new RuleGroup(this, 'ExecutionStatusChange', {
      description: 'stepwise: a pipeline execution ended; the recorder writes its history',
      pattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: TERMINAL_STATUSES },
      },
      valuePattern: (stateMachineArn) => ({ detail: { stateMachineArn: [stateMachineArn] } }),
      valuesPerRule: MACHINES_PER_RULE,
      target: new targets.LambdaFunction(this.recorder.function, delivery),
    });
    this.runFinishedRules = new RuleGroup(this, 'RunFinished', {
      description: 'stepwise: a run finished; the dispatcher frees its slot and starts queued runs',
      pattern: { source: [RUN_FINISHED.source], detailType: [RUN_FINISHED.detailType] },
      valuePattern: (pipeline) => ({ detail: { pipeline: [pipeline] } }),
      valuesPerRule: PIPELINES_PER_RULE,
      target: new targets.LambdaFunction(this.dispatcher.function, {
        ...delivery,
        event: events.RuleTargetInput.fromObject({
          kind: 'finished',
          event: events.EventField.fromPath('$'),
        }),
      }),
    });
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'stepwise: the reconciler closes runs whose end the recorder missed',
      schedule: events.Schedule.rate(RECONCILE_EVERY),
      // A missed pass is made up by the next one.
      targets: [new targets.LambdaFunction(this.reconciler.function, { retryAttempts: 2 })],
    });

    // Stack-level outputs, so `stepwise ... --aws` finds the platform by fixed output keys.
    const stack = Stack.of(this);
    new CfnOutput(stack, STACK_OUTPUTS.table, {
      value: table.tableName,
      description: 'stepwise run ledger (DynamoDB table name)',
    });
    new CfnOutput(stack, STACK_OUTPUTS.dispatcher, {
      value: this.dispatcher.function.functionName,
      description: 'stepwise dispatcher (Lambda function name): manual runs and backfills go through it',
    });
    new CfnOutput(stack, STACK_OUTPUTS.alertTopic, {
      value: this.alerts.topic.topicArn,
      description: 'stepwise alerts (SNS topic ARN): subscribe to receive them',
    });
  }

  /**
   * The dispatcher and the reconciler read each pipeline's settings from their environment, and Lambda
   * allows 4 KB of environment variables per function. The state machine ARN is a token at synth time,
   * so it is counted at its longest (aws-us-gov partition, a 14-character region, an 80-character
   * name), as are the table name and the topic ARN; everything else is counted as it will be deployed.
   * Refuse here, with the fix, rather than fail in the middle of a deploy.
   */
  private checkDispatcherEnvironment(): void {
    const size = environmentSize({
      ...WORST_CASE_OBSERVER_ENVIRONMENT,
      ...Object.fromEntries(
        [...this.pipelines.values()].map((p) => [
          pipelineVariable(p.name),
          pipelineConfigJson({
            stateMachineArn: WORST_CASE_STATE_MACHINE_ARN,
            maxConcurrentRuns: p.maxConcurrentRuns,
            retentionDays: p.retentionDays,
          }),
        ]),
      ),
    });
    if (size > LAMBDA_ENVIRONMENT_BYTES)
      throw new Error(
        `stack ${Stack.of(this).stackName} has ${this.pipelines.size} pipelines; their settings take up to ${size} bytes of the dispatcher's environment, and Lambda allows ${LAMBDA_ENVIRONMENT_BYTES}. Split the pipelines over several stacks (each gets its own ledger, dispatcher and recorder), or shorten their names.`,
      );
  }

  /**
   * Lets the dispatcher start runs of this pipeline and tells it the pipeline's settings; lets the
   * recorder and reconciler read its executions; routes its status changes to the recorder and its
   * "Run Finished" events back to the dispatcher. `Pipeline` calls it; a pipeline name is registered
   * once per stack.
   * @see README.md, "Deploying"
   */
  registerPipeline(pipeline: PipelineRegistration): void {
    if (this.pipelines.has(pipeline.name))
      throw new Error(
        `two pipelines are named '${pipeline.name}' in stack ${Stack.of(this).stackName}; pipeline names must be unique in a stack`,
      );
    this.pipelines.set(pipeline.name, pipeline);
    this.checkDispatcherEnvironment();
    const { stateMachine } = pipeline;
    const settings = pipelineConfigJson({
      stateMachineArn: stateMachine.stateMachineArn,
      maxConcurrentRuns: pipeline.maxConcurrentRuns,
      retentionDays: pipeline.retentionDays,
    });
    // The reconciler drains queues too, so it knows every pipeline and may start its runs.
    for (const starter of [this.dispatcher, this.reconciler]) {
      starter.function.addEnvironment(pipelineVariable(pipeline.name), settings);
      starter.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['states:StartExecution'],
          resources: [stateMachine.stateMachineArn],
        }),
      );
    }
    grantReadExecutions(
      stateMachine,
      [this.recorder, this.reconciler],
      "Execution ARNs end in the execution's name, which the dispatcher chooses at run time; the wildcard covers only the executions of this one state machine.",
    );
    this.statusChangeRules.add(stateMachine.stateMachineArn);
    this.runFinishedRules.add(pipeline.name);
  }

  /** The recorder and reconciler: write the ledger, publish alerts, announce finished runs. */
  private grantObserver(observer: HandlerFunction, options: { statusIndex: boolean }): void {
    const table = this.ledger.table;
    observer.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:BatchWriteItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:GetItem',
          'dynamodb:Query',
        ],
        resources: [table.tableArn],
      }),
    );
    if (options.statusIndex) {
      observer.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: [`${table.tableArn}/index/${LedgerTable.STATUS_INDEX}`],
        }),
      );
    }
    this.alerts.grantPublish(observer.role);
    observer.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [
          Stack.of(this).formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' }),
        ],
      }),
    );
  }
}

/** `arn:<partition>:states:<region>:<account>:execution:<state machine name>:*` */
/**
 * Lets each observer (the recorder, the reconciler) describe the machine's executions and read their
 * histories: executions only, acknowledged for cdk-nag with `reason` (their names are not known at synth).
 */
export function grantReadExecutions(
  stateMachine: sfn.StateMachine,
  observers: readonly { readonly role: iam.Role }[],
  reason: string,
): void {
  const executions = executionsArn(stateMachine);
  for (const observer of observers) {
    observer.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [executions],
      }),
    );
    acknowledgeWildcardResource(observer.role, executions, reason);
  }
}

export function executionsArn(stateMachine: sfn.StateMachine): string {
  return Stack.of(stateMachine).formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${stateMachine.stateMachineName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * The platform function's entry, beside this module: `lambdas/<name>/index.ts` in the repository, and
 * `dist/lambdas/<name>/index.js` in the published package, which bundles it like any handler.
 */
function lambdaEntry(name: 'dispatcher' | 'recorder' | 'reconciler'): string {
  const here = stackFiles()[0] as string;
  const base = resolve(dirname(here), '..', '..', 'lambdas', name, 'index');
  const entry = [`${base}.ts`, `${base}.js`].find((file) => existsSync(file));
  if (entry === undefined)
    throw new Error(`stepwise-cdk is incomplete: no ${base}.js; reinstall the package`);
  return entry;
}
