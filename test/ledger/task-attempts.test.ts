import { describe, expect, it } from 'vitest';
import { causeMessage } from '../../lib/ledger/task-attempts.ts';

describe('causeMessage', () => {
  it("reads the message out of a Lambda error's JSON cause", () => {
    const cause = JSON.stringify({
      errorType: 'Error',
      errorMessage: 'amount "x" is not a number',
      trace: [],
    });
    expect(causeMessage(cause)).toBe('amount "x" is not a number');
  });

  it('keeps any other cause as it is', () => {
    expect(causeMessage('gate said no')).toBe('gate said no');
    expect(causeMessage('{"reason":"not a Lambda error"}')).toBe('{"reason":"not a Lambda error"}');
    expect(causeMessage(undefined)).toBeUndefined();
  });
});
