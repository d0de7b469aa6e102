import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  RedriveExecutionCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { type AwsOptions, awsErrorName, clientConfig, RemoteError, setupProblem, withClient } from './aws.ts';

export interface RemoteRedriveOptions extends AwsOptions {
  /** The failed run's execution ARN, as the ledger records it (`executionArn`). */
  readonly executionArn: string;
  readonly clients?: { readonly sfn?: SFNClient };
}

export interface RedriveResult {
  readonly executionArn: string;
  /** When Step Functions accepted the redrive (ISO 8601). */
  readonly redriveDate: string;
}

/** Step Functions redrives an execution only this long after it stopped. */
const REDRIVABLE_DAYS = 14;

/**
 * Redrives a failed, timed-out or aborted run's execution: Step Functions reruns it from the state
 * that failed, keeping the results of the states that succeeded, under the same execution ARN. The
 * region defaults to the one in the ARN. When Step Functions refuses, the message says why in the
 * run's terms (still running, succeeded, stopped too long ago) and what to do instead.
 * @see https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html
 */
export async function remoteRedrive(options: RemoteRedriveOptions): Promise<RedriveResult> {
  const { executionArn } = options;
  const arnRegion = /^arn:aws[\w-]*:states:([a-z0-9-]+):\d{12}:execution:/.exec(executionArn)?.[1];
  if (arnRegion === undefined)
    throw new RemoteError(
      `'${executionArn}' is not a Step Functions execution ARN; give one like ` +
        `arn:aws:states:eu-west-1:123456789012:execution:Orders:<run id>, the run's executionArn in the ledger`,
    );
  const region = options.region ?? arnRegion;
  return withClient(
    options.clients?.sfn,
    () => new SFNClient(clientConfig({ ...options, region })),
    async (client) => {
      try {
        const result = await client.send(new RedriveExecutionCommand({ executionArn }));
        return { executionArn, redriveDate: (result.redriveDate ?? new Date()).toISOString() };
      } catch (error) {
        throw await redriveError(error, client, executionArn, region);
      }
    },
  );
}

async function redriveError(
  error: unknown,
  client: SFNClient,
  executionArn: string,
  region: string,
): Promise<RemoteError> {
  const problem = setupProblem(error, 'states:RedriveExecution');
  if (problem) return new RemoteError(problem, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  switch (awsErrorName(error)) {
    case 'ExecutionDoesNotExist':
      return new RemoteError(
        `execution ${executionArn} does not exist in ${region}; check the ARN (and --region, if it differs from the ARN's)`,
        { cause: error },
      );
    case 'InvalidArn':
      return new RemoteError(`'${executionArn}' is not a valid execution ARN: ${message}`, { cause: error });
    case 'ExecutionLimitExceeded':
      return new RemoteError(
        `Step Functions is at its limit of open executions in ${region}; wait for some to finish, then redrive ${executionArn} again`,
        { cause: error },
      );
    case 'ExecutionNotRedrivable':
      return new RemoteError(await notRedrivable(client, executionArn, message), { cause: error });
    default:
      return new RemoteError(`redriving ${executionArn} failed: ${message}`, { cause: error });
  }
}

/** Why Step Functions refused, in the run's terms, from DescribeExecution; AWS's words when that fails too. */
async function notRedrivable(client: SFNClient, executionArn: string, awsMessage: string): Promise<string> {
  let execution: DescribeExecutionOutput;
  try {
    execution = await client.send(new DescribeExecutionCommand({ executionArn }));
  } catch {
    return `execution ${executionArn} cannot be redriven: ${awsMessage}`;
  }
  const reason = execution.redriveStatusReason ?? awsMessage;
  const stopped = execution.stopDate;
  switch (execution.status) {
    case 'RUNNING':
    case 'PENDING_REDRIVE':
      return (
        `execution ${executionArn} is still running; only a stopped execution can be redriven: wait for it to ` +
        `end, or stop it (aws stepfunctions stop-execution --execution-arn ${executionArn}), then redrive it`
      );
    case 'SUCCEEDED':
      return `execution ${executionArn} succeeded; there is nothing to redrive`;
  }
  const ageDays = stopped ? (Date.now() - stopped.getTime()) / 86_400_000 : 0;
  if (ageDays > REDRIVABLE_DAYS || /redrivable period/i.test(reason)) {
    return (
      `execution ${executionArn} stopped ${stopped ? `on ${stopped.toISOString()}, ` : ''}more than ` +
      `${REDRIVABLE_DAYS} days ago; Step Functions redrives an execution only within ${REDRIVABLE_DAYS} days ` +
      `of its end: start a new run of the pipeline instead`
    );
  }
  return `execution ${executionArn} (${execution.status ?? 'status unknown'}) cannot be redriven: ${reason}`;
}
