// The engine wraps aws-local-stepfunctions' StateMachine.prototype.execute to tap each machine's event
// logger. Test files share a process and each gets fresh copies of stepwise's modules (vitest.config.ts),
// as a program that loads stepwise twice would: the library, loaded once, must still be wrapped once,
// or every state event reaches the engine twice (a Parallel branch's retries then counted [1, 4]
// attempts where there were [1, 2, 3]).
import { StateMachine } from 'aws-local-stepfunctions';
import { expect, it, vi } from 'vitest';

/** The library's `execute`, private in its types. */
const execute = (): unknown => (StateMachine.prototype as unknown as { execute: unknown }).execute;

it("wraps the library's execute once, however often stepwise's module is loaded", async () => {
  const first = await import('../../lib/local/asl-runtime.ts');
  first.installStateTap();
  const wrapped = execute();
  vi.resetModules();
  const second = await import('../../lib/local/asl-runtime.ts');
  expect(second.installStateTap).not.toBe(first.installStateTap); // a fresh copy of the module
  second.installStateTap();
  expect(execute()).toBe(wrapped);
});
