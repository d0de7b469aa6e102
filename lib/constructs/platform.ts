import { fileURLToPath } from 'node:url';
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { stateMachineVariable } from '../../lambdas/dispatcher/index.ts';
import { AlertTopic } from './alert-topic.ts';
import { HandlerFunction } from './handler-function.ts';
import { LedgerTable } from './ledger-table.ts';

const PLATFORM_ID = 'StepwisePlatform';

/**
 * What every pipeline in a stack shares: the ledger table, the alert topic and the dispatcher that
 * every trigger goes through. Created once per stack, by the first `Pipeline` in it.
 */
export class StepwisePlatform extends Construct {
  /** The stack's platform, created on first use. */
  static of(scope: Construct): StepwisePlatform {
    const stack = Stack.of(scope);
    return (
      (stack.node.tryFindChild(PLATFORM_ID) as StepwisePlatform | undefined) ??
      new StepwisePlatform(stack, PLATFORM_ID)
    );
  }

  readonly ledger: LedgerTable;
  readonly alerts: AlertTopic;
  readonly dispatcher: HandlerFunction;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.ledger = new LedgerTable(this, 'Ledger');
    this.alerts = new AlertTopic(this, 'Alerts');
    this.dispatcher = new HandlerFunction(this, 'Dispatcher', {
      entry: fileURLToPath(new URL('../../lambdas/dispatcher/index.ts', import.meta.url)),
      description: 'stepwise dispatcher: dedupes triggers and starts pipeline runs',
      memoryMb: 256,
      timeout: Duration.seconds(30),
      environment: { LEDGER_TABLE: this.ledger.table.tableName },
    });
    this.dispatcher.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [this.ledger.table.tableArn] }),
    );
  }

  /** Lets the dispatcher start runs of this state machine, and tells it where to find it. */
  registerPipeline(name: string, stateMachine: sfn.StateMachine): void {
    this.dispatcher.function.addEnvironment(stateMachineVariable(name), stateMachine.stateMachineArn);
    this.dispatcher.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [stateMachine.stateMachineArn],
      }),
    );
  }
}
