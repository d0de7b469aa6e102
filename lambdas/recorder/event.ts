import * as z from 'zod/mini';

/**
 * The event EventBridge delivers for a Standard execution's status change. Only what the recorder
 * uses is checked: everything else it reads from the execution itself, which is the source of truth
 * (the event may be late, or redelivered).
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html
 */
export const statusChangeEvent = z.object({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    executionArn: z.string().check(
      z.regex(/^arn:[\w-]+:states:[\w-]+:\d+:execution:/, {
        error: (issue) =>
          `expected an execution ARN, like arn:aws:states:us-east-1:123456789012:execution:orders:run-1, received ${JSON.stringify(issue.input)}`,
      }),
    ),
    /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED today; any other is ignored, not refused. */
    status: z.string(),
  }),
});

export type StatusChangeEvent = z.infer<typeof statusChangeEvent>;
