// The Lambda host runs bundled functions in worker threads: results and errors as Lambda reports them,
// the environment the template gives, logs kept off stdout, and crashes contained.
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaHost, type LambdaHostOptions } from '../../lib/local/lambda-host.ts';
import type { LocalFunction } from '../../lib/local/template.ts';
import { fixture } from './stepwise-cli.ts';

const echo: LocalFunction = {
  logicalId: 'EchoFunction',
  arn: 'arn:aws:lambda:us-east-1:000000000000:function:EchoFunction',
  codeFile: fixture('functions/echo.mjs'),
  handlerExport: 'handler',
  environment: { TABLE: 'Ledger' },
  timeoutSeconds: 60,
};
const other: LocalFunction = {
  ...echo,
  logicalId: 'OtherFunction',
  arn: 'arn:aws:lambda:us-east-1:000000000000:function:OtherFunction',
  codeFile: fixture('functions/other.mjs'),
  handlerExport: 'main',
};

const stall: LocalFunction = {
  ...echo,
  logicalId: 'StallFunction',
  arn: 'arn:aws:lambda:us-east-1:000000000000:function:StallFunction',
  codeFile: fileURLToPath(new URL('./functions/stall.mjs', import.meta.url)),
  timeoutSeconds: 1,
};

/**
 * The stall function under another name: a function of its own, with a worker of its own. Invoked
 * without a sleep, it returns at once; the usual timeout keeps a worker's cold start on a busy machine
 * from failing it.
 */
function stallNamed(name: string): LocalFunction {
  return {
    ...stall,
    logicalId: name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    timeoutSeconds: 60,
  };
}

/** The thread that served an invocation of a stall function. */
async function threadOf(lambdas: LambdaHost, fn: LocalFunction): Promise<number> {
  const outcome = await lambdas.invoke(fn, {});
  if (!outcome.ok) throw new Error(`${fn.logicalId} failed: ${outcome.errorMessage}`);
  return (outcome.result as { threadId: number }).threadId;
}

const hosts: LambdaHost[] = [];
function host(options: LambdaHostOptions = {}): { host: LambdaHost; logs: () => string } {
  const log = new PassThrough();
  const chunks: string[] = [];
  log.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const created = new LambdaHost(() => log, options);
  created.setEnvironment({ AWS_REGION: 'us-east-1', TABLE: 'overridden by the function' });
  hosts.push(created);
  return { host: created, logs: () => chunks.join('') };
}

afterEach(async () => {
  for (const h of hosts.splice(0)) await h.close();
});

describe('LambdaHost', () => {
  it('returns what the handler returns, with the environment the template gives the function', async () => {
    const { host: lambdas } = host();
    expect(await lambdas.invoke(echo, { n: 1 })).toMatchObject({
      ok: true,
      result: { event: { n: 1 }, functionName: 'EchoFunction', table: 'Ledger', region: 'us-east-1' },
    });
  });

  it('reports a thrown error by its name and message, as the Node.js runtime does', async () => {
    const { host: lambdas } = host();
    const outcome = await lambdas.invoke(echo, { fail: 'amount "x" is not a number' });
    expect(outcome).toMatchObject({
      ok: false,
      errorType: 'DataError',
      errorMessage: 'amount "x" is not a number',
    });
    expect(outcome.ok === false && outcome.trace[0]).toBe('DataError: amount "x" is not a number');
  });

  it('sends what a function logs to its log stream, not to stdout', async () => {
    const { host: lambdas, logs } = host();
    const write = process.stdout.write;
    const stray: string[] = [];
    process.stdout.write = ((chunk: string) => stray.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      await lambdas.invoke(echo, { n: 2 });
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.stdout.write = write;
    }
    expect(stray).toEqual([]);
    expect(logs()).toContain('{"level":"info","message":"echo","event":{"n":2}}');
  });

  it('fails the invocation when the function exits, instead of waiting forever, and recovers', async () => {
    const { host: lambdas } = host();
    expect(await lambdas.invoke(echo, { exit: true })).toEqual({
      ok: false,
      errorType: 'Runtime.ExitError',
      errorMessage: "the function's runtime exited with code 3",
      trace: [],
    });
    expect(await lambdas.invoke(echo, { n: 3 })).toMatchObject({ ok: true });
  }, 10_000);

  it("leaves other functions' invocations alone when one function crashes", async () => {
    const { host: lambdas } = host();
    const slow = lambdas.invoke(other, { wait: 200 });
    const crash = lambdas.invoke(echo, { exit: true });
    expect(await crash).toMatchObject({ ok: false, errorType: 'Runtime.ExitError' });
    expect(await slow).toMatchObject({ ok: true, result: { other: true } });
  }, 10_000);

  it("fails an invocation past the function's timeout as Lambda does, and replaces the worker", async () => {
    const { host: lambdas } = host();
    const first = await lambdas.invoke(stall, {});
    expect(first).toMatchObject({ ok: true });
    const timedOut = await lambdas.invoke(stall, { sleep: 60_000 });
    expect(timedOut).toMatchObject({ ok: false, errorType: 'Sandbox.Timedout' });
    expect(timedOut.ok === false && timedOut.errorMessage).toMatch(
      /^RequestId: \S+ Error: Task timed out after 1\.00 seconds$/,
    );
    const after = await lambdas.invoke(stall, {});
    expect(after).toMatchObject({ ok: true });
    // A fresh worker (another thread) serves the next invocation.
    expect((after as { result: { threadId: number } }).result.threadId).not.toBe(
      (first as { result: { threadId: number } }).result.threadId,
    );
    expect(lambdas.inFlight).toBe(0);
  }, 20_000);

  it('times out an endless loop, which never yields to its worker again, and serves the next call', async () => {
    const { host: lambdas } = host();
    expect(await lambdas.invoke(stall, { spin: true })).toMatchObject({
      ok: false,
      errorType: 'Sandbox.Timedout',
    });
    expect(await lambdas.invoke(stall, {})).toMatchObject({ ok: true, result: { done: true } });
  }, 20_000);

  it('fails what is still in flight when the host closes, instead of leaving it pending', async () => {
    const { host: lambdas } = host();
    const slow = lambdas.invoke({ ...stall, timeoutSeconds: 60 }, { sleep: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await lambdas.close();
    expect(await slow).toMatchObject({ ok: false, errorType: 'Runtime.ExitError' });
  }, 20_000);

  it('ends the idle worker of a function invoked once when more such workers wait than the limit, and keeps a reused one', async () => {
    const { host: lambdas } = host({ idleFirstUseWorkers: 1 });
    const [a, b, c, d] = ['A', 'B', 'C', 'D'].map(stallNamed) as [LocalFunction, ...LocalFunction[]];
    const aFirst = await threadOf(lambdas, a);
    await threadOf(lambdas, b as LocalFunction); // a's idle worker is one too many: it ends
    const aSecond = await threadOf(lambdas, a);
    expect(aSecond).not.toBe(aFirst);
    // Invoked twice, a keeps its worker however many first-use workers come and go.
    await threadOf(lambdas, c as LocalFunction);
    await threadOf(lambdas, d as LocalFunction);
    expect(await threadOf(lambdas, a)).toBe(aSecond);
    expect(lambdas.inFlight).toBe(0);
  }, 20_000);

  it('keeps the workers of functions invoked once up to the limit (2 by default)', async () => {
    const { host: lambdas } = host();
    const [a, b] = ['A', 'B'].map(stallNamed) as [LocalFunction, LocalFunction];
    const aFirst = await threadOf(lambdas, a);
    await threadOf(lambdas, b);
    expect(await threadOf(lambdas, a)).toBe(aFirst);
  }, 20_000);

  it('keeps what a function logged when its worker ends right after the invocation', async () => {
    const { host: lambdas, logs } = host({ idleFirstUseWorkers: 0 });
    expect(await lambdas.invoke(echo, { n: 4 })).toMatchObject({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(logs()).toContain('{"level":"info","message":"echo","event":{"n":4}}');
  }, 10_000);
});
