import { appendFileSync } from 'node:fs';
import { type EventBridgeEvent, type LocalRule, routeEvent } from './event-rules.ts';
import type { InvokeOutcome, LambdaHost } from './lambda-host.ts';
import type { LocalFunction } from './template.ts';

/** Lambda's asynchronous invocation: the first try and two retries, then the dead-letter queue. */
const ASYNC_ATTEMPTS = 3;
/** Lambda waits a minute, then two, between retries; locally a short pause keeps runs quick. */
const RETRY_PAUSE_MS = 50;

/** A delivery that failed every attempt: what a DLQ would hold, and why. */
export interface DeadLetter {
  readonly time: string;
  readonly target: string;
  readonly source: string;
  readonly payload: unknown;
  readonly error: string;
}

export interface FabricOptions {
  readonly rules: readonly LocalRule[];
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly lambdas: LambdaHost;
  /** Where dead letters are appended, one JSON line each. */
  readonly deadLetterFile: string;
  readonly onDeadLetter?: (letter: DeadLetter) => void;
}

/**
 * EventBridge's default bus and Lambda's asynchronous invocation, locally: an event put on the bus
 * reaches every target of every matching rule in the synthesized template, with the input the rule's
 * target builds, and each Lambda target is invoked as EventBridge invokes it (asynchronously, retried,
 * dead-lettered when every attempt fails). Nothing is dropped silently: a failed delivery is written to
 * the dead-letter file and reported. `idle()` waits until no delivery is in flight.
 */
export class LocalEventFabric {
  private readonly inFlight = new Set<Promise<unknown>>();
  readonly deadLetters: DeadLetter[] = [];

  constructor(private readonly options: FabricOptions) {}

  /** Puts an event on the default bus; resolves with each target's outcome once all are delivered. */
  put(event: EventBridgeEvent): Promise<{ target: string; outcome: InvokeOutcome }[]> {
    const deliveries = routeEvent(this.options.rules, event);
    return this.track(
      Promise.all(
        deliveries.map(async (delivery) => {
          if ('error' in delivery) {
            this.deadLetter(delivery.targetArn, event, delivery.error.message, event.source);
            return {
              target: delivery.targetArn,
              outcome: failure('InputTransformError', delivery.error.message),
            };
          }
          const outcome = await this.invokeAsync(delivery.targetArn, delivery.payload, event.source);
          return { target: delivery.targetArn, outcome };
        }),
      ),
    );
  }

  /** Invokes a function the way EventBridge and Scheduler do: retried, then dead-lettered. */
  invokeAsync(arn: string, payload: unknown, source: string): Promise<InvokeOutcome> {
    return this.track(this.deliver(arn, payload, source));
  }

  /** Resolves once nothing is in flight, including deliveries started by deliveries. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Counts a piece of outside work (an execution) as in flight, so `idle()` waits for it too. */
  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  private async deliver(arn: string, payload: unknown, source: string): Promise<InvokeOutcome> {
    const fn = this.options.functions.get(arn);
    if (!fn) {
      const message = `no function ${arn} in the synthesized app`;
      this.deadLetter(arn, payload, message, source);
      return failure('ResourceNotFoundException', message);
    }
    let outcome: InvokeOutcome = failure('Unknown', 'not invoked');
    for (let attempt = 1; attempt <= ASYNC_ATTEMPTS; attempt++) {
      outcome = await this.options.lambdas.invoke(fn, payload);
      if (outcome.ok) return outcome;
      if (attempt < ASYNC_ATTEMPTS) await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS * attempt));
    }
    if (!outcome.ok)
      this.deadLetter(fn.logicalId, payload, `${outcome.errorType}: ${outcome.errorMessage}`, source);
    return outcome;
  }

  private deadLetter(target: string, payload: unknown, error: string, source: string): void {
    const letter: DeadLetter = { time: new Date().toISOString(), target, source, payload, error };
    this.deadLetters.push(letter);
    appendFileSync(this.options.deadLetterFile, `${JSON.stringify(letter)}\n`);
    this.options.onDeadLetter?.(letter);
  }
}

function failure(errorType: string, errorMessage: string): InvokeOutcome {
  return { ok: false, errorType, errorMessage, trace: [] };
}

export type { EventBridgeEvent };
