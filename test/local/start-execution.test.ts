// StartExecution as Step Functions answers it: the same name and input is idempotent while the
// execution is open; a different input, or any start once the execution has closed, is
// ExecutionAlreadyExists. The dispatcher relies on that refusal to tell a finished run from a new one.
import { describe, expect, it } from 'vitest';
import { LocalEngine } from '../../lib/local/engine.ts';
import { LambdaHost } from '../../lib/local/lambda-host.ts';
import type { LocalDeployment } from '../../lib/local/template.ts';

const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Waits';

const deployment: LocalDeployment = {
  stateMachines: [
    {
      logicalId: 'Waits',
      arn: ARN,
      definition: {
        StartAt: 'Wait',
        States: { Wait: { Type: 'Wait', Seconds: 1, Next: 'Done' }, Done: { Type: 'Succeed' } },
      } as never,
    },
  ],
  functions: new Map(),
  tables: [],
  rules: [],
  schedules: [],
  topics: [],
};

async function closed(engine: LocalEngine, executionArn: string): Promise<string> {
  for (;;) {
    const { status } = engine.describeExecution({ executionArn }) as { status: string };
    if (status !== 'RUNNING') return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('StartExecution with a name already used', () => {
  it('is idempotent while open with the same input, and refused with another input or once closed', async () => {
    const engine = new LocalEngine(deployment, new LambdaHost(), { services: {} as never });
    const first = engine.startExecution({ stateMachineArn: ARN, name: 'run-1', input: '{"a":1}' });
    const again = engine.startExecution({ stateMachineArn: ARN, name: 'run-1', input: '{"a":1}' });
    expect(again.executionArn).toBe(first.executionArn);
    expect(() => engine.startExecution({ stateMachineArn: ARN, name: 'run-1', input: '{"a":2}' })).toThrow(
      expect.objectContaining({ name: 'ExecutionAlreadyExists' }),
    );
    expect(await closed(engine, first.executionArn)).toBe('SUCCEEDED');
    expect(() => engine.startExecution({ stateMachineArn: ARN, name: 'run-1', input: '{"a":1}' })).toThrow(
      expect.objectContaining({ name: 'ExecutionAlreadyExists' }),
    );
  });
});
