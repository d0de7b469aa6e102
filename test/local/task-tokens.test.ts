// The local task tokens of `.waitForTaskToken` states: used once, and closed with the execution that
// waits on them, as Step Functions closes the task of an execution that ended.
import { describe, expect, it } from 'vitest';
import { TaskTokens } from '../../lib/local/task-tokens.ts';

const EXECUTION = 'arn:aws:states:us-east-1:000000000000:execution:orders:run-1';
const OTHER = 'arn:aws:states:us-east-1:000000000000:execution:orders:run-2';

describe('local task tokens', () => {
  it('returns the output to the waiting state once; a second send is TaskTimedOut', async () => {
    const tokens = new TaskTokens();
    const token = tokens.mint(EXECUTION);
    const result = tokens.result(token);
    tokens.succeed(token, { done: true });
    expect(await result).toEqual({ done: true });
    expect(() => tokens.succeed(token, {})).toThrow(
      expect.objectContaining({
        name: 'TaskTimedOut',
        message: "Task Timed Out: 'Provided task does not exist anymore'",
      }),
    );
  });

  it('closes the tokens of an execution that ended: a send is TaskTimedOut, none stays open', () => {
    const tokens = new TaskTokens();
    const ended = [tokens.mint(EXECUTION), tokens.mint(EXECUTION)];
    const other = tokens.mint(OTHER);
    expect(tokens.openCount).toBe(3);

    tokens.closeAll(EXECUTION);

    expect(tokens.openCount).toBe(1);
    for (const token of ended)
      expect(() => tokens.succeed(token, {})).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
    expect(() => tokens.succeed(other, {})).not.toThrow();
    expect(tokens.openCount).toBe(0);
  });

  it('fails with InvalidToken for a token it never minted', () => {
    expect(() => new TaskTokens().succeed('local-task-token:nope', {})).toThrow(
      expect.objectContaining({ name: 'InvalidToken' }),
    );
  });
});
