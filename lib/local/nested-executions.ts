import { randomUUID } from 'node:crypto';
import { nestedExecutionCalls, START_EXECUTION_SYNC } from '../spec/adapters/nested-pipeline.ts';
import type { IntegrationContext } from './integrations.ts';
import { ApiError } from './sfn-server.ts';

/** The part of the local engine a nested execution needs: it starts the child on the same engine. */
export interface NestedExecutionHost {
  startExecution(request: { stateMachineArn: string; name?: string; input?: string }): {
    executionArn: string;
  };
  execution(arn: string):
    | {
        readonly done: Promise<{
          readonly arn: string;
          readonly stateMachineArn: string;
          readonly name: string;
          readonly input: string;
          readonly startDate: Date;
          readonly stopDate: Date | undefined;
          readonly status: string;
          readonly output: unknown;
          readonly error: string | undefined;
          readonly cause: string | undefined;
        }>;
      }
    | undefined;
}

/** Whether a Task state's Resource starts another state machine of the app and waits for it. */
export function isNestedExecution(resource: string): boolean {
  return resource === `arn:aws:states:::${START_EXECUTION_SYNC}`;
}

/**
 * Serves `states:startExecution.sync:2` natively: both state machines are in the app, so the child
 * runs on the same engine, with its own history, and the state waits for it. Returns what Step
 * Functions returns (DescribeExecution's fields, with Input and Output as JSON); a child that does not
 * succeed fails the state with States.TaskFailed, the child's description (its Error and Cause among
 * it) as the cause. The calls are authorized as the parent state machine's role first, as on AWS.
 */
export async function serveNestedExecution(
  host: NestedExecutionHost,
  ctx: IntegrationContext,
  request: Record<string, unknown>,
): Promise<unknown> {
  const stateMachineArn = String(request.StateMachineArn ?? '');
  const name = typeof request.Name === 'string' ? request.Name : randomUUID();
  await authorizeNestedExecution(ctx, stateMachineArn, name);
  let executionArn: string;
  try {
    ({ executionArn } = host.startExecution({
      stateMachineArn,
      name,
      input: JSON.stringify(request.Input ?? {}),
    }));
  } catch (error) {
    if (error instanceof ApiError) throw named(`StepFunctions.${error.code}Exception`, error.message);
    throw error;
  }
  const child = await (host.execution(executionArn)?.done as NonNullable<
    ReturnType<NestedExecutionHost['execution']>
  >['done']);
  const description = {
    ExecutionArn: child.arn,
    StateMachineArn: child.stateMachineArn,
    Name: child.name,
    Status: child.status,
    StartDate: child.startDate.getTime(),
    ...(child.stopDate ? { StopDate: child.stopDate.getTime() } : {}),
    Input: JSON.parse(child.input) as unknown,
    InputDetails: { Included: true },
  };
  if (child.status === 'SUCCEEDED')
    return { ...description, Output: child.output, OutputDetails: { Included: true } };
  throw named(
    'States.TaskFailed',
    JSON.stringify({ ...description, Error: child.error ?? child.status, Cause: child.cause ?? '' }),
  );
}

async function authorizeNestedExecution(ctx: IntegrationContext, stateMachineArn: string, name: string) {
  if (!ctx.authorizer || !ctx.caller) return;
  const denial = await ctx.authorizer.authorize(ctx.caller, nestedExecutionCalls(stateMachineArn, name));
  if (denial)
    throw named(
      'StepFunctions.AccessDeniedException',
      `${denial.message} (Service: AWSStepFunctions; Status Code: 400; Error Code: AccessDeniedException)`,
    );
}

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * Whether a state runs a pipeline task nested (`pipeline('name')`), whose attempts the engine reports
 * as a task's. Task ids start with a lowercase letter; the states that run the parts of a split
 * pipeline do not, and are not tasks.
 */
export function isNestedTaskState(
  name: string,
  state: { readonly Type: string; readonly Resource?: unknown },
): boolean {
  return state.Type === 'Task' && isNestedExecution(String(state.Resource)) && /^[a-z]/.test(name);
}
