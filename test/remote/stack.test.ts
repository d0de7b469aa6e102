import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RemoteError } from '../../lib/remote/aws.ts';
import { pascalName, resolveStack, stateMachineOutputKey } from '../../lib/remote/stack.ts';
import {
  type FakeEndpoint,
  fakeClientConfig,
  startFakeCloudFormation,
  stubDefaultChain,
} from './fake-aws.ts';

const ORDERS_OUTPUTS = {
  StepwiseLedgerTable: 'Orders-StepwisePlatformLedgerTable-1A2B3C',
  StepwiseDispatcherFunction: 'Orders-StepwisePlatformDispatcher-4D5E6F',
  StepwiseAlertTopic: 'arn:aws:sns:eu-west-1:123456789012:Orders-Alerts',
  StepwiseStateMachineOrders: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Orders',
  StepwiseStateMachineOrdersDaily: 'arn:aws:states:eu-west-1:123456789012:stateMachine:OrdersDaily',
  SomethingElse: 'not ours',
};

let cloudformation: FakeEndpoint;
let client: CloudFormationClient;

beforeAll(async () => {
  // the fake CloudFormation: a deployed stack, one from before the outputs existed, and one that failed
  cloudformation = await startFakeCloudFormation({
    Orders: { outputs: ORDERS_OUTPUTS },
    Legacy: { status: 'UPDATE_COMPLETE', outputs: { SomethingElse: 'x' } },
    Broken: { status: 'ROLLBACK_COMPLETE', outputs: {} },
  });
  client = new CloudFormationClient(fakeClientConfig(cloudformation));
});

afterAll(async () => {
  client.destroy();
  await cloudformation.close();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

async function refusal(run: () => Promise<unknown>): Promise<string> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RemoteError);
  return (error as Error).message;
}

describe('resolveStack', () => {
  it('reads the ledger table, dispatcher, alert topic and state machines from the stack outputs', async () => {
    const stack = await resolveStack('Orders', {
      need: ['table', 'dispatcher'],
      clients: { cloudformation: client },
    });
    expect(stack).toEqual({
      stackName: 'Orders',
      region: 'eu-west-1',
      table: ORDERS_OUTPUTS.StepwiseLedgerTable,
      dispatcher: ORDERS_OUTPUTS.StepwiseDispatcherFunction,
      alertTopic: ORDERS_OUTPUTS.StepwiseAlertTopic,
      stateMachines: {
        Orders: ORDERS_OUTPUTS.StepwiseStateMachineOrders,
        OrdersDaily: ORDERS_OUTPUTS.StepwiseStateMachineOrdersDaily,
      },
    });
    // typed: the needed outputs are strings
    const table: string = stack.table;
    expect(table).toBe(ORDERS_OUTPUTS.StepwiseLedgerTable);
    const request = cloudformation.requests.at(-1);
    expect(new URLSearchParams(request?.body).get('Action')).toBe('DescribeStacks');
    expect(new URLSearchParams(request?.body).get('StackName')).toBe('Orders');
  });

  it('checks that a pipeline is deployed in the stack', async () => {
    const stack = await resolveStack('Orders', {
      pipeline: 'orders-daily',
      clients: { cloudformation: client },
    });
    expect(stack.stateMachines[pascalName('orders-daily')]).toBe(
      ORDERS_OUTPUTS.StepwiseStateMachineOrdersDaily,
    );
  });

  it('lets --table and --dispatcher win over the outputs', async () => {
    const stack = await resolveStack('Orders', {
      need: ['table'],
      pipeline: 'orders',
      overrides: { table: 'my-table', dispatcher: undefined },
      clients: { cloudformation: client },
    });
    expect(stack.table).toBe('my-table');
    expect(stack.dispatcher).toBe(ORDERS_OUTPUTS.StepwiseDispatcherFunction);
  });

  it('does not read the stack when the overrides give everything needed', async () => {
    const before = cloudformation.requests.length;
    const stack = await resolveStack('Orders', {
      need: ['table', 'dispatcher'],
      overrides: { table: 'my-table', dispatcher: 'my-dispatcher' },
      region: 'us-east-2',
      clients: { cloudformation: client },
    });
    expect(stack).toEqual({
      stackName: undefined,
      region: 'us-east-2',
      table: 'my-table',
      dispatcher: 'my-dispatcher',
      stateMachines: {},
    });
    expect(cloudformation.requests.length).toBe(before);
  });

  it('finds the stack through the default provider chain: region, credentials and endpoint from the environment', async () => {
    stubDefaultChain(vi.stubEnv, 'CLOUDFORMATION', cloudformation, 'eu-west-1');
    const stack = await resolveStack('Orders', { need: ['dispatcher'] });
    expect(stack.dispatcher).toBe(ORDERS_OUTPUTS.StepwiseDispatcherFunction);
    expect(cloudformation.requests.at(-1)?.headers.authorization).toContain(
      '/eu-west-1/cloudformation/aws4_request',
    );
  });

  it('names output keys from the pipeline name in PascalCase', () => {
    expect(stateMachineOutputKey('orders')).toBe('StepwiseStateMachineOrders');
    expect(stateMachineOutputKey('orders-daily-2')).toBe('StepwiseStateMachineOrdersDaily2');
  });

  it('fails when the stack does not exist, naming the stack, the region and the fix', async () => {
    expect(
      await refusal(() => resolveStack('Ordres', { clients: { cloudformation: client } })),
    ).toMatchInlineSnapshot(
      `"stack 'Ordres' not found in eu-west-1; deploy it with 'cdk deploy Ordres', or name the deployed stack with --stack and its region with --region"`,
    );
  });

  it('fails when a needed output is missing, naming the output, the stack status and the fix', async () => {
    expect(
      await refusal(() => resolveStack('Legacy', { need: ['table'], clients: { cloudformation: client } })),
    ).toMatchInlineSnapshot(
      `"stack 'Legacy' in eu-west-1 (status UPDATE_COMPLETE) has no output StepwiseLedgerTable; deploy the stepwise version that adds it with 'cdk deploy Legacy', or give it with --table"`,
    );
    expect(
      await refusal(() =>
        resolveStack('Broken', { need: ['dispatcher'], clients: { cloudformation: client } }),
      ),
    ).toMatchInlineSnapshot(
      `"stack 'Broken' in eu-west-1 (status ROLLBACK_COMPLETE) has no output StepwiseDispatcherFunction; deploy the stepwise version that adds it with 'cdk deploy Broken', or give it with --dispatcher"`,
    );
  });

  it('fails when the pipeline is not deployed in the stack, listing those that are', async () => {
    expect(
      await refusal(() => resolveStack('Orders', { pipeline: 'ordrs', clients: { cloudformation: client } })),
    ).toMatchInlineSnapshot(
      `"stack 'Orders' in eu-west-1 deploys no pipeline 'ordrs' (no output StepwiseStateMachineOrdrs; it deploys Orders, OrdersDaily); check the pipeline name and --stack, or add the pipeline to the stack and 'cdk deploy Orders'"`,
    );
  });

  it('fails when the credentials may not describe stacks, naming the IAM action', async () => {
    const denied = await startFakeCloudFormation(
      {},
      {
        status: 403,
        code: 'AccessDenied',
        message:
          'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudformation:DescribeStacks',
      },
    );
    const deniedClient = new CloudFormationClient(fakeClientConfig(denied));
    try {
      expect(
        await refusal(() => resolveStack('Orders', { clients: { cloudformation: deniedClient } })),
      ).toMatchInlineSnapshot(
        `"not allowed to call cloudformation:DescribeStacks: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudformation:DescribeStacks; use credentials whose IAM policy allows cloudformation:DescribeStacks"`,
      );
    } finally {
      deniedClient.destroy();
      await denied.close();
    }
  });

  it('fails when there are no credentials, saying how to sign in', async () => {
    const noCredentials = new CloudFormationClient({
      ...fakeClientConfig(cloudformation),
      // what the default chain throws when no provider has credentials
      credentials: async () => {
        throw Object.assign(new Error('Could not load credentials from any providers'), {
          name: 'CredentialsProviderError',
        });
      },
    });
    try {
      expect(
        await refusal(() => resolveStack('Orders', { clients: { cloudformation: noCredentials } })),
      ).toMatchInlineSnapshot(
        `"no AWS credentials found: sign in (aws sso login, or aws configure), or set AWS_PROFILE or --profile"`,
      );
    } finally {
      noCredentials.destroy();
    }
  });
});
