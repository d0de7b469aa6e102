import { Aws, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Where Step Functions execution logs go: AWS's advice for state machines that log. */
export const EXECUTION_LOGS_PREFIX = '/aws/vendedlogs/states/';

/**
 * `/aws/vendedlogs/states/stepwise-<stack>-<name>-<stack id>`: the stack id part is the UUID that
 * CloudFormation gives each stack when it creates it.
 *
 * Under `/aws/vendedlogs/`, because Step Functions adds each log group it delivers to to the account's
 * CloudWatch Logs resource policy, which is capped at 5,120 characters, and CloudWatch Logs needs no
 * per-group entry for names under that prefix: many pipelines fit in one account.
 *
 * Unique per stack instance, because the group is retained when its stack is deleted (its runs' logs
 * outlive the stack, as the ledger does): a fixed name would make the next stack of the same name fail
 * to create its group ("already exists"). The stack name and the pipeline's name keep it readable.
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html
 */
export function executionLogGroupName(scope: Construct, name: string): string {
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  return `${EXECUTION_LOGS_PREFIX}stepwise-${Stack.of(scope).stackName}-${name}-${stackUuid}`;
}

/** The retained, 3-month log group of one state machine, named by `executionLogGroupName`. */
export function executionLogGroup(scope: Construct, id: string, name: string): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    logGroupName: executionLogGroupName(scope, name),
    retention: logs.RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
