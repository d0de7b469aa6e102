// A bundled defineTask handler in the local Lambda host: the host gives it the remaining time, as
// Lambda's context does, so a RetryableError's wait ends before the function's timeout and the attempt
// fails with the RetryableError, not with Sandbox.Timedout.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, expect, it } from 'vitest';
import { LambdaHost } from '../../lib/local/lambda-host.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'stepwise-task-host-'));
const host = new LambdaHost(() => log);
const log = new PassThrough();
const lines: string[] = [];
log.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));

afterAll(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

it("cuts a RetryableError's wait to the local function's timeout, less a second", async () => {
  buildSync({
    bundle: true,
    platform: 'node',
    format: 'esm',
    minify: true,
    alias: { 'stepwise-cdk/task': join(root, 'lambdas', 'task', 'index.ts') },
    stdin: {
      contents: `import { defineTask, RetryableError } from 'stepwise-cdk/task';
export const handler = defineTask(() => { throw new RetryableError('busy', { retryAfter: '5m' }); });`,
      resolveDir: root,
      loader: 'js',
    },
    outfile: join(dir, 'index.mjs'),
    logLevel: 'silent',
  });
  const outcome = await host.invoke(
    {
      logicalId: 'PublishFunction',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:PublishFunction',
      codeFile: join(dir, 'index.mjs'),
      handlerExport: 'handler',
      environment: {},
      timeoutSeconds: 2,
    },
    {
      run: {
        id: 'run-1',
        pipeline: 'orders',
        trigger: { type: 'manual' },
        logicalTime: '2026-11-01T02:00:00Z',
      },
      task: 'publish',
      gate: false,
      inputs: {},
      params: {},
      retryCount: 0,
    },
  );
  expect(outcome).toMatchObject({ ok: false, errorType: 'RetryableError', errorMessage: 'busy' });
  const waiting = lines.map((line) => JSON.parse(line)).find((line) => line.message.startsWith('waiting'));
  expect(waiting.waitMs).toBeGreaterThan(0);
  expect(waiting.waitMs).toBeLessThanOrEqual(1000);
});
