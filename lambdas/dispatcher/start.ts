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
 * Starts the run's execution, named by its run id. Returns undefined when Step Functions already has an
 * execution of that name that this call cannot join: one that has closed, or one with another input.
 * Any other error is thrown, so the Lambda retries the whole event and the claim recovers it.
 */
export async function startExecution(
  ctx: DispatcherContext,
  stateMachineArn: string,
  run: PendingRun,
): Promise<{ executionArn: string } | undefined> {
  try {
    const started = await ctx.sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: run.runId, input: run.input }),
    );
    return { executionArn: started.executionArn as string };
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists) return undefined;
    throw error;
  }
}
