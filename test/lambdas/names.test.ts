import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ledgerKeys, STACK_OUTPUTS, stateMachineOutputKey } from '../../lib/names.ts';

describe('the names the constructs and the Lambdas share', () => {
  it('imports nothing, so a Lambda bundles it without the CDK or the SDK', () => {
    const source = readFileSync(new URL('../../lib/names.ts', import.meta.url), 'utf8');
    expect(source.match(/^\s*(import|export .* from)\b.*$/gm) ?? []).toEqual([]);
  });

  // A deployed ledger holds rows under these keys, and deployed stacks these outputs: changing one
  // strands what is already there.
  it('keeps the key formats of the rows a deployed ledger holds', () => {
    expect({
      run: ledgerKeys.run('orders', '2024-05-01T00:00:00.000Z', 'r1'),
      attempt: ledgerKeys.attempt('r1', 'load', 3),
      claim: ledgerKeys.claim('orders', 'schedule#2024-05-01'),
      slots: ledgerKeys.slots('orders'),
      queued: ledgerKeys.queued('orders', '2024-05-01T00:00:00.000Z', 'r1'),
      join: ledgerKeys.join('orders', '2024-05-01'),
    }).toMatchInlineSnapshot(`
      {
        "attempt": {
          "pk": "RUN#r1",
          "sk": "TASK#load#0003",
        },
        "claim": {
          "pk": "RUNKEY#orders#schedule#2024-05-01",
          "sk": "RUNKEY",
        },
        "join": {
          "pk": "JOIN#orders#2024-05-01",
          "sk": "JOIN",
        },
        "queued": {
          "pk": "QUEUE#orders",
          "sk": "2024-05-01T00:00:00.000Z#r1",
        },
        "run": {
          "pk": "PIPELINE#orders",
          "sk": "RUN#2024-05-01T00:00:00.000Z#r1",
        },
        "slots": {
          "pk": "SLOTS#orders",
          "sk": "SLOTS",
        },
      }
    `);
    expect(ledgerKeys.pipelineOf(ledgerKeys.runsOf('orders-daily'))).toBe('orders-daily');
  });

  it('keeps the output names a deployed stack has', () => {
    expect({
      ...STACK_OUTPUTS,
      stateMachine: stateMachineOutputKey('orders-daily-2'),
    }).toMatchInlineSnapshot(`
      {
        "alertTopic": "StepwiseAlertTopic",
        "dispatcher": "StepwiseDispatcherFunction",
        "stateMachine": "StepwiseStateMachineOrdersDaily2",
        "table": "StepwiseLedgerTable",
      }
    `);
  });
});
