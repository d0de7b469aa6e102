import { StateMachine } from 'aws-local-stepfunctions';
import { TASK_TOKENS } from './task-tokens.ts';

/**
 * aws-local-stepfunctions 3 runs on Node 22; on Node 20 its one gap is Promise.withResolvers.
 */
function polyfillWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: unknown };
  if (P.withResolvers) return;
  P.withResolvers = <T>() => {
    let resolve!: (value: T) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export interface StateEventSink {
  entered(state: string, type: string, input: unknown): void;
  exited(state: string, type: string, output: unknown): void;
  failed(state: string, type: string, error: string, cause: string): void;
  retried(state: string, type: string): void;
}

/** The slice of the library's event logger that we observe. */
interface EventLogger {
  dispatchStateEnteredEvent(name: string, type: string, input: unknown): void;
  dispatchStateExitedEvent(name: string, type: string, input: unknown, output: unknown): void;
  dispatchStateFailedEvent(
    name: string,
    type: string,
    input: unknown,
    error: { name: string; message: string; cause?: unknown },
  ): void;
  dispatchStateRetriedEvent(
    name: string,
    type: string,
    input: unknown,
    retrier: unknown,
    attempt: number,
  ): void;
}

const SINK_KEY = '__stepwiseSink';
const START_KEY = '__stepwiseStartTime';
/**
 * Marks the library's prototype as wrapped. On the prototype rather than in this module: a process can
 * evaluate this module more than once against one copy of the library (test files sharing a process
 * each get fresh copies of stepwise's modules), and wrapping twice would tap every logger twice.
 */
const TAPPED = Symbol.for('stepwise.stateTap');

/**
 * Makes the library observable, synchronously, per execution. The library emits its event log through
 * an async generator, which lags behind execution; and it has no `$$.State` context. Each machine it
 * runs (the root and every Parallel branch) is started through `execute(input, options)`, with the run
 * options, our context included, passed down. We wrap that method once to tap each machine's logger.
 * The library is pinned to an exact version, and the engine tests fail if this stops holding.
 */
export function installStateTap(): void {
  polyfillWithResolvers();
  const proto = StateMachine.prototype as unknown as {
    [TAPPED]?: true;
    execute(
      input: unknown,
      options: { eventLogger: EventLogger; runOptions?: { context?: Record<string, unknown> } },
      cleanup: () => void,
    ): Promise<unknown>;
  };
  if (proto[TAPPED]) return;
  proto[TAPPED] = true;
  const original = proto.execute;
  proto.execute = function (this: unknown, input, options, cleanup) {
    const sink = options.runOptions?.context?.[SINK_KEY] as StateEventSink | undefined;
    if (sink) tapLogger(options.eventLogger, sink);
    const startTime = options.runOptions?.context?.[START_KEY] as string | undefined;
    if (startTime === undefined) return original.call(this, input, options, cleanup);
    // The library stamps `$$.Execution.StartTime` with the first `new Date()` of execute's synchronous
    // start, for the execution and again for every Parallel branch. Step Functions gives one start time
    // for the whole execution, and a redrive keeps it, so the ledger key built from it holds: the first
    // argument-less Date made in that moment is the execution's start, and every later one is real.
    const RealDate = globalThis.Date;
    let pending = true;
    globalThis.Date = class extends RealDate {
      constructor(...args: ConstructorParameters<DateConstructor> | []) {
        if (args.length === 0 && pending) {
          pending = false;
          super(startTime as string);
        } else if (args.length === 0) super();
        else super(...(args as ConstructorParameters<DateConstructor>));
      }
    } as DateConstructor;
    try {
      return original.call(this, input, options, cleanup);
    } finally {
      globalThis.Date = RealDate;
    }
  };
}

function tapLogger(logger: EventLogger, sink: StateEventSink): void {
  const entered = logger.dispatchStateEnteredEvent.bind(logger);
  const exited = logger.dispatchStateExitedEvent.bind(logger);
  const failed = logger.dispatchStateFailedEvent.bind(logger);
  const retried = logger.dispatchStateRetriedEvent.bind(logger);
  logger.dispatchStateEnteredEvent = (name, type, input) => {
    sink.entered(name, type, input);
    entered(name, type, input);
  };
  logger.dispatchStateExitedEvent = (name, type, input, output) => {
    sink.exited(name, type, output);
    exited(name, type, input, output);
  };
  logger.dispatchStateFailedEvent = (name, type, input, error) => {
    sink.failed(name, type, error.name, typeof error.cause === 'string' ? error.cause : error.message);
    failed(name, type, input, error);
  };
  logger.dispatchStateRetriedEvent = (name, type, input, retrier, attempt) => {
    sink.retried(name, type);
    retried(name, type, input, retrier, attempt);
  };
}

/**
 * The `$$` context object for one execution. `$$.State` reads the state whose input is being
 * processed: the library processes a state's input synchronously right after announcing it, so the
 * last state announced is the one asking.
 */
export function executionContext(
  execution: { arn: string; name: string; startTime: string },
  sink: StateEventSink,
): Record<string, unknown> {
  let current = '';
  const retries = new Map<string, number>();
  const entered = new Map<string, string>();
  const tracking: StateEventSink = {
    entered(state, type, input) {
      current = state;
      retries.set(state, 0);
      entered.set(state, new Date().toISOString());
      sink.entered(state, type, input);
    },
    retried(state, type) {
      current = state;
      retries.set(state, (retries.get(state) ?? 0) + 1);
      sink.retried(state, type);
    },
    exited: (state, type, output) => sink.exited(state, type, output),
    failed: (state, type, error, cause) => sink.failed(state, type, error, cause),
  };
  return {
    Execution: { Id: execution.arn, Name: execution.name },
    [START_KEY]: execution.startTime,
    State: {
      get Name() {
        return current;
      },
      get RetryCount() {
        return retries.get(current) ?? 0;
      },
      get EnteredTime() {
        return entered.get(current) ?? new Date().toISOString();
      },
    },
    // A `.waitForTaskToken` state reads `$$.Task.Token` once, as it builds its parameters.
    Task: {
      get Token() {
        return TASK_TOKENS.mint(execution.arn);
      },
    },
    [SINK_KEY]: tracking,
  };
}
