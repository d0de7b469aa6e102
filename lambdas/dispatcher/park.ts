import { ConditionalCheckFailedException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';
import { markFailed } from './claim.ts';
import type { DispatcherContext, PendingRun } from './context.ts';
import { dequeue } from './queue.ts';
import { closedRunItem } from './run-row.ts';
import { releaseSlot } from './slots.ts';
import { countMetric, log } from './telemetry.ts';

/**
 * Sets aside a run Step Functions refuses to start for good, so it neither holds a slot nor blocks the
 * head of the queue: its run row says FAILED with the refusal (so `stepwise runs` lists it), an alert
 * goes out, its claim ends FAILED, its slot is given back and it leaves the queue. In that order: a
 * crash at any step is retried from the top, and a step done twice changes nothing but a second alert
 * (at least once, never silently). Once the claim is FAILED, no dispatcher starts the run again.
 */
export async function parkRun(
  ctx: DispatcherContext,
  run: PendingRun,
  refusal: { readonly error: string; readonly reason: string },
): Promise<void> {
  await putFailedRunRow(ctx, run, refusal);
  await sendAlert(ctx, run, refusal);
  countMetric('UnstartableRuns', run.pipeline);
  log('error', 'run cannot start: set aside, its run recorded FAILED', {
    pipeline: run.pipeline,
    runId: run.runId,
    runKey: run.runKey,
    error: refusal.error,
    reason: refusal.reason,
  });
  // Another dispatcher's start of the same run went through after all: its slot is in use.
  if (!(await markFailed(ctx, run, refusal.reason))) return;
  // What follows is redone by whoever next meets the FAILED claim (a redelivery, a drain): setAside.
  await releaseSlot(ctx, run.pipeline, run.runId);
  await dequeue(ctx, run);
}

/** What the execution input says about the run; the dispatcher wrote it at claim time. */
function runFromInput(input: string): { trigger?: unknown; logicalTime?: string; expiresAt?: string } {
  try {
    const parsed = JSON.parse(input) as {
      run?: { trigger?: unknown; logicalTime?: string; expiresAt?: string };
    };
    return parsed.run ?? {};
  } catch {
    return {};
  }
}

async function putFailedRunRow(
  ctx: DispatcherContext,
  run: PendingRun,
  refusal: { readonly error: string; readonly reason: string },
): Promise<void> {
  const { trigger, logicalTime, expiresAt } = runFromInput(run.input);
  const item = closedRunItem(
    {
      pipeline: run.pipeline,
      runId: run.runId,
      status: 'FAILED',
      startedAt: run.claimedAt,
      endedAt: ctx.now().toISOString(),
      runKey: run.runKey,
      trigger,
      ...(typeof logicalTime === 'string' ? { logicalTime } : {}),
      ...(typeof expiresAt === 'string' && /^\d+$/.test(expiresAt) ? { expiresAt: Number(expiresAt) } : {}),
    },
    { error: { S: refusal.error }, errorCause: { S: refusal.reason.slice(0, 32_000) } },
  );
  try {
    await ctx.dynamodb.send(
      new PutItemCommand({
        TableName: ctx.table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

async function sendAlert(
  ctx: DispatcherContext,
  run: PendingRun,
  refusal: { readonly error: string; readonly reason: string },
): Promise<void> {
  const subject = `stepwise: ${run.pipeline} run FAILED: could not start (${refusal.error})`.slice(0, 99);
  const message = [
    `Pipeline:  ${run.pipeline}`,
    `Run:       ${run.runId}`,
    `Run key:   ${run.runKey}`,
    `Status:    FAILED before it started; the run is set aside and the queue goes on without it`,
    `Error:     ${refusal.reason}`,
    '',
    'Fix the cause (the state machine, the dispatcher role, the input size), then send the input again',
    '(a new upload, or `stepwise run`): this trigger itself is not retried.',
  ].join('\n');
  if (!ctx.alerts) {
    log('error', 'alert not sent: the dispatcher has no ALERT_TOPIC_ARN', { subject, message });
    return;
  }
  await ctx.alerts.sns.send(
    new PublishCommand({ TopicArn: ctx.alerts.topicArn, Subject: subject, Message: message }),
  );
}
