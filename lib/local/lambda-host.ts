import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LocalFunction } from './template.ts';

/** What a Lambda function returned: its result, or the error the Node.js runtime would report. */
export type InvokeOutcome =
  | { readonly ok: true; readonly result: unknown }
  | {
      readonly ok: false;
      readonly errorType: string;
      readonly errorMessage: string;
      readonly trace: readonly string[];
    };

// Runs in the worker: loads the bundled module once, then serves invocations. The worker has its own
// process.env, so each function sees exactly the environment its template gives it.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const loaded = import(workerData.codeUrl).then((m) => {
  const handler = m[workerData.handlerExport];
  if (typeof handler !== 'function') throw new Error('the bundle exports no function named ' + workerData.handlerExport);
  return handler;
});
parentPort.on('message', async ({ id, event }) => {
  const deadline = Date.now() + workerData.timeoutMs;
  try {
    const handler = await loaded;
    const result = await handler(event, { functionName: workerData.functionName, awsRequestId: id, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) });
    parentPort.postMessage({ id, ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    parentPort.postMessage({ id, ok: false, errorType: e.name || 'Error', errorMessage: e.message, trace: String(e.stack || '').split('\\n') });
  }
});
`;

export interface LambdaHostOptions {
  /**
   * How many idle workers of functions invoked only once so far stay warm; past it, the worker idle
   * longest is ended, as Lambda reclaims an idle execution environment, and that function's next
   * invocation starts cold. A worker holds ~30 MB (a Node.js environment and the function's bundle,
   * the AWS SDK included), and a pipeline calls most of its functions once a run. A function invoked a
   * second time keeps its worker for the life of the host, so one called again and again (a backfill's
   * dispatcher, a retried task) starts cold at most twice.
   * @default 2
   * @see https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
   */
  readonly idleFirstUseWorkers?: number;
}

/**
 * Runs bundled Lambda assets, one worker thread per function, started on its first invocation. A
 * function invoked more than once keeps its worker for the life of the host; one invoked once may lose
 * it when idle (see `idleFirstUseWorkers`).
 * Results and errors cross the thread boundary as JSON, as they cross Lambda's. What a function logs
 * (Lambda would send it to CloudWatch) goes to `log`, never to stdout, which `--json` keeps for its object.
 *
 * Each invocation gets the function's own timeout, as Lambda gives it: past it the invocation fails
 * with `Sandbox.Timedout` and "Task timed out after N.00 seconds", and its worker is retired (it gets no
 * new invocation and is terminated once its other invocations are over), so an endless loop or a
 * forgotten timer never holds the command open.
 */
export class LambdaHost {
  private readonly workers = new Map<string, Worker>();
  /** Invocations in flight, with the worker each runs on. */
  private readonly pending = new Map<string, PendingInvocation>();
  /** Workers that timed out an invocation, waiting for their other invocations to end. */
  private readonly retired = new Set<Worker>();
  /** How many times each function (by ARN) has been invoked on this host. */
  private readonly invocations = new Map<string, number>();
  /** Idle workers of functions invoked once, by ARN, the one idle longest first. */
  private readonly idleFirstUse = new Map<Worker, string>();
  private readonly idleFirstUseLimit: number;
  /** Terminations of reclaimed workers under way, for `close` to wait on. */
  private readonly ending = new Set<Promise<number>>();
  private nextId = 0;

  /** Where a function's output goes; by default every function logs to this process's stderr. */
  constructor(
    private readonly logFor: (fn: LocalFunction) => NodeJS.WritableStream = () => process.stderr,
    options: LambdaHostOptions = {},
  ) {
    this.idleFirstUseLimit = options.idleFirstUseWorkers ?? 2;
  }

  private baseEnv: Readonly<Record<string, string>> = {};
  private envOf: (fn: LocalFunction) => Readonly<Record<string, string>> = () => ({});

  /**
   * The environment every function gets under its own: region, credentials and stand-in endpoints;
   * `perFunction` adds what differs by function (the credentials of its role, as Lambda sets them).
   */
  setEnvironment(
    env: Readonly<Record<string, string>>,
    perFunction: (fn: LocalFunction) => Readonly<Record<string, string>> = () => ({}),
  ): void {
    this.baseEnv = env;
    this.envOf = perFunction;
  }

  async invoke(fn: LocalFunction, event: unknown): Promise<InvokeOutcome> {
    this.invocations.set(fn.arn, (this.invocations.get(fn.arn) ?? 0) + 1);
    const worker = this.workerFor(fn);
    this.idleFirstUse.delete(worker);
    const id = `local-${++this.nextId}`;
    return new Promise<InvokeOutcome>((resolve) => {
      const timer = setTimeout(() => this.timedOut(id, fn), fn.timeoutSeconds * 1000);
      this.pending.set(id, { worker, timer, resolve });
      worker.postMessage({ id, event });
    });
  }

  /** Invocations in flight, for a command that reports what it is still waiting for. */
  get inFlight(): number {
    return this.pending.size;
  }

  async close(): Promise<void> {
    const workers = [...this.workers.values(), ...this.retired];
    this.workers.clear();
    this.retired.clear();
    this.idleFirstUse.clear();
    for (const [id, call] of this.pending) {
      this.pending.delete(id);
      clearTimeout(call.timer);
      call.resolve(failure('Runtime.ExitError', 'the local Lambda host closed before the function returned'));
    }
    await Promise.all([...workers.map((w) => w.terminate()), ...this.ending]);
  }

  /** Lambda's timeout: the invocation fails, and the worker that ran it takes no more work. */
  private timedOut(id: string, fn: LocalFunction): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    call.resolve(
      failure(
        'Sandbox.Timedout',
        `RequestId: ${id} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
      ),
    );
    if (this.workers.get(fn.arn) === call.worker) this.workers.delete(fn.arn);
    this.retired.add(call.worker);
    this.terminateIfIdle(call.worker);
  }

  private terminateIfIdle(worker: Worker): void {
    if (!this.retired.has(worker) || this.busy(worker)) return;
    this.retired.delete(worker);
    void worker.terminate();
  }

  private busy(worker: Worker): boolean {
    for (const call of this.pending.values()) if (call.worker === worker) return true;
    return false;
  }

  /**
   * An invocation on `worker` ended. If the function has been invoked only once and its worker is now
   * idle, the worker joins the idle first-use ones, and the one idle longest beyond the limit is ended.
   */
  private reclaimIfIdle(worker: Worker, fn: LocalFunction): void {
    if (this.workers.get(fn.arn) !== worker || this.invocations.get(fn.arn) !== 1 || this.busy(worker))
      return;
    this.idleFirstUse.set(worker, fn.arn);
    for (const [idle, arn] of this.idleFirstUse) {
      if (this.idleFirstUse.size <= this.idleFirstUseLimit) break;
      this.idleFirstUse.delete(idle);
      this.workers.delete(arn);
      const ended = idle.terminate();
      this.ending.add(ended);
      void ended.finally(() => this.ending.delete(ended));
    }
  }

  private workerFor(fn: LocalFunction): Worker {
    const existing = this.workers.get(fn.arn);
    if (existing) return existing;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        codeUrl: pathToFileURL(fn.codeFile).href,
        handlerExport: fn.handlerExport,
        functionName: fn.logicalId,
        timeoutMs: fn.timeoutSeconds * 1000,
      },
      env: {
        ...this.baseEnv,
        ...this.envOf(fn),
        ...fn.environment,
        AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
        AWS_LAMBDA_FUNCTION_TIMEOUT: String(fn.timeoutSeconds),
      },
      stdout: true,
      stderr: true,
    });
    // Written chunk by chunk rather than piped: a pipe per worker would stack listeners on one stream.
    const log = this.logFor(fn);
    worker.stdout.on('data', (chunk: Buffer) => log.write(chunk));
    worker.stderr.on('data', (chunk: Buffer) => log.write(chunk));
    worker.on('message', (message: { id: string } & InvokeOutcome) => {
      const call = this.pending.get(message.id);
      if (!call) return; // it timed out already
      this.pending.delete(message.id);
      clearTimeout(call.timer);
      call.resolve(message);
      this.terminateIfIdle(worker);
      this.reclaimIfIdle(worker, fn);
    });
    // A crash, or a handler that exits, fails every invocation in flight on this worker (and only
    // there), as a Lambda runtime crash would; the next invocation starts a fresh worker.
    const crashed = (errorMessage: string) => {
      for (const [id, call] of this.pending) {
        if (call.worker !== worker) continue;
        this.pending.delete(id);
        clearTimeout(call.timer);
        call.resolve(failure('Runtime.ExitError', errorMessage));
      }
      if (this.workers.get(fn.arn) === worker) this.workers.delete(fn.arn);
      this.retired.delete(worker);
      this.idleFirstUse.delete(worker);
    };
    worker.on('error', (error) => crashed(error.message));
    worker.on('exit', (code) => crashed(`the function's runtime exited with code ${code}`));
    worker.unref();
    this.workers.set(fn.arn, worker);
    return worker;
  }
}

interface PendingInvocation {
  readonly worker: Worker;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (outcome: InvokeOutcome) => void;
}

function failure(errorType: string, errorMessage: string): InvokeOutcome {
  return { ok: false, errorType, errorMessage, trace: [] };
}
