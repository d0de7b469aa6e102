/** A delay: milliseconds, or a string such as `'500ms'`, `'30s'`, `'5m'` or `'1h'`. */
export type RetryDelay = number | `${number}${'ms' | 's' | 'm' | 'h'}`;

const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * A failure worth trying again, such as a rate limit or a service that is briefly down, with an
 * optional suggested delay (an HTTP `Retry-After`, say).
 *
 * Every failure but `DataError` and the runtime's own contract errors is retried under the task's
 * `retry` policy; this class adds the delay. Step Functions' Retry waits a fixed interval that the
 * handler cannot change, so `defineTask` honours `retryAfter` itself: it waits that long inside the
 * invocation before it fails, then the state's Retry waits its own interval on top. The wait is billed
 * Lambda time and is cut short to fit the function's timeout (it stops 1 s before); for delays of
 * minutes, raise the task's `retry.interval` instead.
 *
 * @example
 * if (response.status === 429) throw new RetryableError('rate limited', { retryAfter: '20s' });
 */
export class RetryableError extends Error {
  /** The suggested delay in milliseconds, when one was given. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options?: { readonly retryAfter?: RetryDelay; readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    // Set by hand: minified bundles mangle class names, and the state machine's Retry matches this.
    this.name = 'RetryableError';
    this.retryAfterMs = options?.retryAfter === undefined ? undefined : delayMs(options.retryAfter);
  }
}

function delayMs(delay: RetryDelay): number {
  const match = typeof delay === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(delay) : null;
  const ms = match ? Number(match[1]) * unitMs[match[2] as keyof typeof unitMs] : delay;
  if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return ms;
  throw new TypeError(
    `RetryableError: retryAfter ${JSON.stringify(delay)} is not a delay; give milliseconds (a number, 0 or more) or a string such as '500ms', '30s', '5m' or '1h'`,
  );
}

/** What the runtime needs of Lambda's context object; other hosts may pass less. */
export interface InvocationContext {
  readonly awsRequestId?: string;
  readonly getRemainingTimeInMillis?: () => number;
}

/** Time kept back from the wait, for the error to reach Lambda before the function times out. */
const marginMs = 1000;

/**
 * How long to wait before failing with `error`: its suggested delay, cut to the invocation's remaining
 * time less the margin; 0 for any other error.
 */
export function retryWaitMs(error: unknown, context: InvocationContext | undefined): number {
  const wanted =
    error instanceof Error && error.name === 'RetryableError'
      ? (error as RetryableError).retryAfterMs
      : undefined;
  if (typeof wanted !== 'number' || wanted <= 0) return 0;
  const remaining = context?.getRemainingTimeInMillis?.();
  return typeof remaining === 'number' ? Math.max(0, Math.min(wanted, remaining - marginMs)) : wanted;
}
