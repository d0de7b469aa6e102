import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { DispatcherContext, PendingRun } from './context.ts';
import type { RunRequest } from './run-key.ts';

/** The state machine's input, as the contract gives it; `expiresAt` is a string because the state machine writes it with `"N.$"`. */
export function executionInput(request: RunRequest, expiresAt: number): string {
  return JSON.stringify({
    run: {
      id: request.runId,
      pipeline: request.pipeline,
      trigger: request.trigger,
      logicalTime: request.logicalTime,
      key: request.runKey,
      expiresAt: String(expiresAt),
    },
  });
}

/** Epoch seconds `retentionDays` after `now`: the DynamoDB TTL of everything the run leaves in the ledger. */
export function expiresAtSeconds(now: Date, retentionDays: number): number {
  return Math.floor(now.getTime() / 1000) + Math.round(retentionDays * 86_400);
}

/**
 * Errors with which Step Functions refuses a start for good: retrying the same request can only be
 * refused again until someone changes the deployment. Anything else (throttling, a service fault, a
 * lost connection, an error unknown here) may pass on a retry.
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html#API_StartExecution_Errors
 */
const PERMANENT_START_ERRORS = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'InvalidArn',
  'InvalidExecutionInput',
  'InvalidName',
  'KmsAccessDeniedException',
  'KmsInvalidStateException',
  'StateMachineDeleting',
  'StateMachineDoesNotExist',
  'ValidationException',
]);

export type StartOutcome =
  | { readonly outcome: 'started'; readonly executionArn: string }
  /** Step Functions has an execution of this name that this call cannot join: it has closed. */
  | { readonly outcome: 'exists' }
  /** Step Functions refuses this start for good; `reason` names its error and message. */
  | { readonly outcome: 'refused'; readonly error: string; readonly reason: string };

/**
 * Starts the run's execution, named by its run id. A start Step Functions refuses for good comes back
 * as `refused`; any other error is thrown, so the Lambda retries the whole event and the claim or the
 * queue item recovers it.
 */
export async function startExecution(
  ctx: DispatcherContext,
  stateMachineArn: string,
  run: PendingRun,
): Promise<StartOutcome> {
  try {
    const started = await ctx.sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: run.runId, input: run.input }),
    );
    return { outcome: 'started', executionArn: started.executionArn as string };
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists) return { outcome: 'exists' };
    const name = error instanceof Error ? error.name : '';
    if (PERMANENT_START_ERRORS.has(name))
      return {
        outcome: 'refused',
        error: name,
        reason: `Step Functions refused to start ${run.runId} on ${stateMachineArn}: ${name}: ${(error as Error).message}`,
      };
    throw error;
  }
}
