import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { scheduledTimeText } from '../spec/schedule-slots.ts';
import {
  type AwsOptions,
  awsErrorName,
  clientConfig,
  clientRegion,
  RemoteError,
  setupProblem,
  withClient,
} from './aws.ts';

/** What the dispatcher answered for one schedule event (its `DispatchResult.status`). */
export type DispatchStatus =
  | 'STARTED'
  | 'QUEUED'
  | 'DEDUPLICATED'
  | 'DROPPED'
  | 'WAITING'
  | 'RELEASED'
  /** Step Functions refused the start for good; the dispatcher recorded the run FAILED, with `reason`. */
  | 'FAILED';

/** A slot's outcome: the dispatcher's answer, or FAILED when the dispatcher could not be invoked or threw. */
export type BackfillSlotStatus = DispatchStatus | 'FAILED';

const DISPATCH_STATUSES: readonly string[] = [
  'STARTED',
  'QUEUED',
  'DEDUPLICATED',
  'DROPPED',
  'WAITING',
  'RELEASED',
  'FAILED',
];

export interface RemoteBackfillSlotResult {
  /** The slot as sent, in `<aws.scheduler.scheduled-time>` form: `2026-11-01T01:00:00Z`. */
  readonly slot: string;
  readonly status: BackfillSlotStatus;
  /** The run the dispatcher started, queued or found a duplicate of. */
  readonly runId?: string;
  readonly executionArn?: string;
  /** Why the dispatcher dropped the slot, or why it failed. */
  readonly reason?: string;
}

/** Reported once per slot, as each finishes (in completion order, not slot order). */
export interface BackfillProgress extends RemoteBackfillSlotResult {
  /** Slots finished so far, this one included. */
  readonly done: number;
  readonly total: number;
}

export interface BackfillSummary {
  readonly pipeline: string;
  readonly total: number;
  /** How many slots ended in each status. */
  readonly counts: Readonly<Partial<Record<BackfillSlotStatus, number>>>;
  /** Every slot that was sent, in slot order. */
  readonly results: readonly RemoteBackfillSlotResult[];
  /**
   * Slots to send again: those the dispatcher could not be asked about (its invocation failed or
   * threw) and those never sent because the backfill stopped. Sending a slot again is safe: its run key
   * is the slot, so a run that did start is DEDUPLICATED.
   */
  readonly retry: readonly string[];
  /**
   * Slots whose run Step Functions refused to start for good (access denied, input too large, no such
   * state machine): the dispatcher recorded each FAILED with the reason and alerted. Sending one again
   * comes back DEDUPLICATED against that FAILED run, so they are not in `retry`.
   */
  readonly refused: readonly RemoteBackfillSlotResult[];
  /** Why the backfill stopped before sending every slot; absent when every slot was sent. */
  readonly stopped?: string;
}

export interface RemoteBackfillOptions extends AwsOptions {
  /** The deployed dispatcher's function name or ARN (the stack output `StepwiseDispatcherFunction`). */
  readonly dispatcher: string;
  readonly pipeline: string;
  /** The schedule slots, as `scheduleSlots` gives them; sent in this order. */
  readonly slots: readonly Date[];
  /** The schedule expression, passed through to the dispatcher as the schedule target does. */
  readonly expression?: string;
  /** At most this many invocations in flight at once. */
  readonly concurrency: number;
  readonly onProgress?: (progress: BackfillProgress) => void;
  /** Stops sending new slots (those in flight finish); the rest are listed in `retry`. */
  readonly signal?: AbortSignal;
  readonly clients?: { readonly lambda?: LambdaClient };
}

/**
 * Sends the deployed dispatcher one schedule event per slot, exactly as EventBridge Scheduler would
 * have sent it (`{ kind: 'schedule', pipeline, time, expression }`, synchronously), at most
 * `concurrency` at once. A slot that fails is reported and the rest go on. The backfill stops early
 * only for errors no other slot could escape: the function does not exist, the credentials are missing,
 * expired or not allowed to invoke it.
 */
export async function remoteBackfill(options: RemoteBackfillOptions): Promise<BackfillSummary> {
  const { concurrency, slots } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RemoteError(`concurrency must be a whole number of at least 1, got ${concurrency}`);
  return withClient(
    options.clients?.lambda,
    () => new LambdaClient(clientConfig(options)),
    async (client) => {
      const region = await clientRegion(client);
      const results: (RemoteBackfillSlotResult | undefined)[] = new Array(slots.length);
      let next = 0;
      let done = 0;
      let stopped: string | undefined;
      const worker = async () => {
        while (next < slots.length && stopped === undefined) {
          if (options.signal?.aborted) {
            stopped = 'interrupted';
            break;
          }
          const index = next++;
          const outcome = await sendSlot(client, options, slots[index] as Date, region);
          if (outcome.stop !== undefined) stopped ??= outcome.stop;
          results[index] = outcome.result;
          done++;
          options.onProgress?.({ ...outcome.result, done, total: slots.length });
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, slots.length) }, worker));
      const sent = results.filter((r): r is RemoteBackfillSlotResult => r !== undefined);
      const counts: Partial<Record<BackfillSlotStatus, number>> = {};
      for (const r of sent) counts[r.status] = (counts[r.status] ?? 0) + 1;
      // The dispatcher names the run it refused; a slot it was never asked about has no run.
      const refusedByDispatcher = (r: RemoteBackfillSlotResult) =>
        r.status === 'FAILED' && r.runId !== undefined;
      const retry = slots
        .map((slot, i) => ({ slot: scheduledTimeText(slot), result: results[i] }))
        .filter(
          ({ result }) =>
            result === undefined || (result.status === 'FAILED' && !refusedByDispatcher(result)),
        )
        .map(({ slot }) => slot);
      return {
        pipeline: options.pipeline,
        total: slots.length,
        counts,
        results: sent,
        retry,
        refused: sent.filter(refusedByDispatcher),
        ...(stopped === undefined ? {} : { stopped }),
      };
    },
  );
}

interface SlotOutcome {
  readonly result: RemoteBackfillSlotResult;
  /** Set when the error would fail every other slot too. */
  readonly stop?: string;
}

async function sendSlot(
  client: LambdaClient,
  options: RemoteBackfillOptions,
  slotDate: Date,
  region: string | undefined,
): Promise<SlotOutcome> {
  const slot = scheduledTimeText(slotDate);
  const event = {
    kind: 'schedule',
    pipeline: options.pipeline,
    time: slot,
    ...(options.expression === undefined ? {} : { expression: options.expression }),
  };
  try {
    const response = await client.send(
      new InvokeCommand({
        FunctionName: options.dispatcher,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(event)),
      }),
    );
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    if (response.FunctionError)
      return {
        result: { slot, status: 'FAILED', reason: `the dispatcher threw: ${functionErrorMessage(text)}` },
      };
    return { result: dispatchResult(slot, text) };
  } catch (error) {
    const stop = fatalProblem(error, options.dispatcher, region);
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      result: { slot, status: 'FAILED', reason: stop ?? `invoking the dispatcher failed: ${message}` },
      ...(stop ? { stop } : {}),
    };
  }
}

function dispatchResult(slot: string, text: string): RemoteBackfillSlotResult {
  let value: { status?: unknown; runId?: unknown; executionArn?: unknown; reason?: unknown } | undefined;
  try {
    value = JSON.parse(text);
  } catch {
    // reported below, with the text
  }
  if (value === null || typeof value !== 'object' || !DISPATCH_STATUSES.includes(String(value.status))) {
    return {
      slot,
      status: 'FAILED',
      reason: `the dispatcher answered without a dispatch status: ${text.slice(0, 200)}; is --dispatcher the stepwise dispatcher?`,
    };
  }
  return {
    slot,
    status: value.status as DispatchStatus,
    ...(typeof value.runId === 'string' ? { runId: value.runId } : {}),
    ...(typeof value.executionArn === 'string' ? { executionArn: value.executionArn } : {}),
    ...(typeof value.reason === 'string' ? { reason: value.reason } : {}),
  };
}

/** Lambda's error payload is `{ errorType, errorMessage, trace }`. */
function functionErrorMessage(text: string): string {
  try {
    const error = JSON.parse(text) as { errorType?: string; errorMessage?: string };
    if (error.errorMessage !== undefined) return `${error.errorType ?? 'Error'}: ${error.errorMessage}`;
  } catch {
    // not JSON: show the text
  }
  return text.slice(0, 500);
}

/** The problem with the setup, when an error would fail every slot alike. */
function fatalProblem(error: unknown, dispatcher: string, region: string | undefined): string | undefined {
  const setup = setupProblem(error, 'lambda:InvokeFunction');
  if (setup) return setup;
  if (awsErrorName(error) === 'ResourceNotFoundException')
    return (
      `dispatcher function '${dispatcher}' not found in ${region ?? 'the default region'}; ` +
      `check --dispatcher, or let --stack find it (and --region name the stack's region)`
    );
  return undefined;
}
