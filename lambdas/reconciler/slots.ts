import { DescribeExecutionCommand, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import { drain } from '../dispatcher/admission.ts';
import type { PipelineConfig } from '../dispatcher/config.ts';
import type { DispatcherContext } from '../dispatcher/context.ts';
import { forgetHolder, readSlots, releaseSlot, setUnstarted } from '../dispatcher/slots.ts';

export interface SlotRepair {
  readonly pipeline: string;
  /** Holders whose execution had ended: their "Run Finished" never freed the slot. */
  readonly ended: string[];
  /** Holders with no execution on two passes in a row: a dispatcher stopped between slot and start. */
  readonly neverStarted: string[];
  /** Holders with no execution yet: checked again on the next pass. */
  readonly suspects: string[];
  /** Queued runs the drain after the repair started. */
  readonly started: string[];
}

/** Execution ARNs end in the execution's name, which is the run id. */
export function executionArnOf(stateMachineArn: string, runId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;
}

/**
 * Repairs one pipeline's slots, as the dispatcher's own protocol cannot when an event is lost for good
 * (a "Run Finished" dead-lettered, a dispatcher retried until its event went to the dead-letter queue):
 * a holder whose execution has ended is released, one that has no execution on two passes in a row
 * (minutes apart, far longer than any dispatcher takes from slot to start) is let go without being
 * remembered, so its queue item may start it. Then the queue is drained, whatever was found.
 */
export async function repairSlots(
  ctx: DispatcherContext,
  pipeline: string,
  config: PipelineConfig,
  options: {
    /**
     * No dispatcher can be between a slot and a start now (a local command that holds the state dir's
     * lock): a holder with no execution never started, and is let go on this pass.
     * @default false
     */
    readonly nothingInFlight?: boolean;
  } = {},
): Promise<SlotRepair> {
  const slots = await readSlots(ctx, pipeline);
  const repair: SlotRepair = { pipeline, ended: [], neverStarted: [], suspects: [], started: [] };
  for (const runId of slots.active) {
    const status = await executionStatus(ctx, executionArnOf(config.stateMachineArn, runId));
    if (status === 'RUNNING' || status === 'PENDING_REDRIVE') continue;
    if (status !== undefined) {
      await releaseSlot(ctx, pipeline, runId);
      repair.ended.push(runId);
    } else if (options.nothingInFlight || slots.unstarted.includes(runId)) {
      await forgetHolder(ctx, pipeline, runId);
      repair.neverStarted.push(runId);
    } else repair.suspects.push(runId);
  }
  if (repair.suspects.length > 0 || slots.unstarted.length > 0)
    await setUnstarted(ctx, pipeline, repair.suspects);
  const drained = await drain(ctx, config, pipeline);
  repair.started.push(...drained.started.map((run) => run.runId));
  return repair;
}

async function executionStatus(ctx: DispatcherContext, executionArn: string): Promise<string | undefined> {
  try {
    const execution = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return execution.status ?? 'UNKNOWN';
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return undefined;
    throw error;
  }
}
