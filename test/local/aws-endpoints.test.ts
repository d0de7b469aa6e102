// The local EventBridge, SNS and Step Functions stand-ins, driven by the real SDK clients the Lambda
// code uses: what the callbacks receive, what the clients get back, and the errors AWS would send.
import {
  EventBridgeClient,
  ListRulesCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ListTopicsCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventBridgeEvent } from '../../lib/local/event-rules.ts';
import { type LocalEndpoint, type PutContext, startEventsServer } from '../../lib/local/events-server.ts';
import { Authorizer } from '../../lib/local/iam/authorizer.ts';
import { startStepFunctionsServer } from '../../lib/local/sfn-server.ts';
import { type SnsPublication, startSnsServer } from '../../lib/local/sns-server.ts';
import { accessStack } from '../private/access-stack.ts';

const FAKE_CREDENTIALS = { accessKeyId: 'fake', secretAccessKey: 'fake' };

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const closable of open.splice(0).reverse()) await closable.close();
});

function track<T extends LocalEndpoint>(endpoint: T): T {
  open.push(endpoint);
  return endpoint;
}

async function eventBridge(onEvent?: (event: EventBridgeEvent, context: PutContext) => void) {
  const received: { event: EventBridgeEvent; context: PutContext }[] = [];
  const server = track(
    await startEventsServer({
      onEvent: onEvent ?? ((event, context) => void received.push({ event, context })),
    }),
  );
  const client = new EventBridgeClient({
    region: 'us-east-1',
    credentials: FAKE_CREDENTIALS,
    endpoint: server.endpoint,
    maxAttempts: 1,
  });
  open.push({ close: async () => client.destroy() });
  return { client, received };
}

async function sns(
  options: { topicArns?: string[]; onPublish?: (publication: SnsPublication) => void } = {},
) {
  const received: SnsPublication[] = [];
  const server = track(
    await startSnsServer({
      onPublish: options.onPublish ?? ((publication) => void received.push(publication)),
      ...(options.topicArns ? { topicArns: options.topicArns } : {}),
    }),
  );
  const client = new SNSClient({
    region: 'us-east-1',
    credentials: FAKE_CREDENTIALS,
    endpoint: server.endpoint,
    maxAttempts: 1,
  });
  open.push({ close: async () => client.destroy() });
  return { client, received };
}

const runFinished: PutEventsRequestEntry = {
  Source: 'stepwise',
  DetailType: 'Run Finished',
  Detail: JSON.stringify({ pipeline: 'orders', runId: 'r-1', status: 'SUCCEEDED' }),
};

describe('the local EventBridge', () => {
  it('turns each PutEvents entry into a full event and answers with its id', async () => {
    const { client, received } = await eventBridge();
    const response = await client.send(
      new PutEventsCommand({
        Entries: [
          runFinished,
          {
            Source: 'aws.s3',
            DetailType: 'Object Created',
            Detail: '{"bucket":{"name":"raw"},"object":{"key":"orders/a.csv"}}',
            Resources: ['arn:aws:s3:::raw'],
            Time: new Date('2026-11-01T02:00:00.750Z'),
            EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/ops',
          },
        ],
      }),
    );
    expect(response.FailedEntryCount).toBe(0);
    expect(response.Entries?.map((entry) => entry.EventId)).toEqual(received.map(({ event }) => event.id));
    const [finished, created] = received;
    expect(finished?.context).toEqual({ eventBusName: 'default' });
    expect(finished?.event).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'Run Finished',
      source: 'stepwise',
      account: '000000000000',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: 'us-east-1',
      resources: [],
      detail: { pipeline: 'orders', runId: 'r-1', status: 'SUCCEEDED' },
    });
    expect(created?.context).toEqual({ eventBusName: 'ops' });
    expect(created?.event).toMatchObject({
      time: '2026-11-01T02:00:00Z',
      resources: ['arn:aws:s3:::raw'],
      detail: { bucket: { name: 'raw' }, object: { key: 'orders/a.csv' } },
    });
  });

  it('fails only the entry whose Detail is not a JSON object, as AWS does', async () => {
    const { client, received } = await eventBridge();
    const response = await client.send(
      new PutEventsCommand({
        Entries: [
          runFinished,
          { ...runFinished, Detail: '{"runId": "r-2",' },
          { ...runFinished, Detail: '["not", "an", "object"]' },
          { ...runFinished, Source: undefined },
        ],
      }),
    );
    expect(response.FailedEntryCount).toBe(3);
    expect(response.Entries).toEqual([
      { EventId: received[0]?.event.id },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.',
      },
    ]);
    expect(received).toHaveLength(1);
  });

  it('fails an entry the callback refuses, and not the others', async () => {
    const { client } = await eventBridge((event) => {
      if ((event.detail as { runId: string }).runId === 'r-2') throw new Error('queue full');
    });
    const response = await client.send(
      new PutEventsCommand({
        Entries: [runFinished, { ...runFinished, Detail: '{"runId":"r-2"}' }],
      }),
    );
    expect(response.FailedEntryCount).toBe(1);
    expect(response.Entries?.[1]).toEqual({
      ErrorCode: 'InternalFailure',
      ErrorMessage: 'the local event bus could not take the event: queue full',
    });
  });

  it('fails when the request has no entries or more than ten', async () => {
    const { client } = await eventBridge();
    await expect(client.send(new PutEventsCommand({ Entries: [] }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    const eleven = Array.from({ length: 11 }, () => runFinished);
    await expect(client.send(new PutEventsCommand({ Entries: eleven }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Member must have length between 1 and 10'),
    });
  });

  it('fails an operation it does not serve with an AWS-style error', async () => {
    const { client } = await eventBridge();
    await expect(client.send(new ListRulesCommand({}))).rejects.toMatchObject({
      name: 'UnknownOperationException',
      message: 'the local EventBridge stand-in serves only PutEvents; got ListRules',
      $metadata: { httpStatusCode: 400 },
    });
  });
});

describe('the local SNS', () => {
  const topicArn = 'arn:aws:sns:us-east-1:000000000000:StepwiseAlertTopic';

  it('hands each published message to the callback and answers with its MessageId', async () => {
    const { client, received } = await sns();
    const response = await client.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: 'stepwise: orders FAILED',
        Message: 'Run r-1 of orders FAILED in task load: States.TaskFailed\n& <details>',
        MessageAttributes: { pipeline: { DataType: 'String', StringValue: 'orders' } },
      }),
    );
    expect(received).toEqual([
      {
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        topicArn,
        subject: 'stepwise: orders FAILED',
        message: 'Run r-1 of orders FAILED in task load: States.TaskFailed\n& <details>',
        messageId: response.MessageId,
        messageAttributes: { pipeline: 'orders' },
      },
    ]);
  });

  it('records an empty subject when the publisher gives none', async () => {
    const { client, received } = await sns();
    await client.send(new PublishCommand({ TopicArn: topicArn, Message: 'hello' }));
    expect(received[0]).toMatchObject({ subject: '', message: 'hello' });
  });

  it('fails an empty message or a missing topic, as SNS does', async () => {
    const { client, received } = await sns();
    await expect(client.send(new PublishCommand({ TopicArn: topicArn, Message: '' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'Invalid parameter: Empty message',
    });
    await expect(client.send(new PublishCommand({ Message: 'hello' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
    });
    expect(received).toEqual([]);
  });

  it('fails a topic it was not told about with NotFound', async () => {
    const { client } = await sns({ topicArns: [topicArn] });
    const other = 'arn:aws:sns:us-east-1:000000000000:Misspelled';
    await expect(
      client.send(new PublishCommand({ TopicArn: other, Message: 'hello' })),
    ).rejects.toMatchObject({
      name: 'NotFoundException',
      message: `Topic does not exist: ${other}`,
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('fails the call when the callback throws', async () => {
    const { client } = await sns({
      onPublish: () => {
        throw new Error('disk full');
      },
    });
    await expect(
      client.send(new PublishCommand({ TopicArn: topicArn, Message: 'hello' })),
    ).rejects.toMatchObject({
      name: 'InternalErrorException',
      message: 'the local SNS sink could not take the message: disk full',
    });
  });

  it('fails an action it does not serve with an AWS-style XML error', async () => {
    const { client } = await sns();
    await expect(client.send(new ListTopicsCommand({}))).rejects.toMatchObject({
      name: 'InvalidAction',
      message:
        'The action ListTopics is not valid for this web service; the local SNS stand-in serves only Publish.',
      $metadata: { httpStatusCode: 400 },
    });
  });
});

describe('the local Step Functions', () => {
  const machine = 'arn:aws:states:us-east-1:000000000000:stateMachine:orders';

  async function stepFunctions(options: { authorizer?: Authorizer; signedAs?: string } = {}) {
    const started: (string | undefined)[] = [];
    const { endpoint, server } = await startStepFunctionsServer(
      {
        startExecution: ({ stateMachineArn, name }) => {
          started.push(name);
          return {
            executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name ?? 'uuid'}`,
            startDate: 0,
          };
        },
        describeExecution: () => ({}),
      },
      options.authorizer ? { authorizer: options.authorizer } : {},
    );
    open.push({ close: () => new Promise<void>((done) => server.close(() => done())) });
    const client = new SFNClient({
      region: 'us-east-1',
      credentials: options.signedAs
        ? { accessKeyId: options.signedAs, secretAccessKey: 'x' }
        : FAKE_CREDENTIALS,
      endpoint,
      maxAttempts: 1,
    });
    open.push({ close: async () => client.destroy() });
    return { client, started };
  }

  it('fails StartExecution with InvalidName for a name Step Functions refuses, and starts nothing', async () => {
    const { client, started } = await stepFunctions();
    const refused = ['a b', 'orders/2026-11-01', 'key:value', 'x'.repeat(81), 'tab\there', 'a#b', '[a]'];
    for (const name of refused) {
      const error = await client
        .send(new StartExecutionCommand({ stateMachineArn: machine, name, input: '{}' }))
        .catch((e: Error) => e);
      expect([(error as Error).name, (error as Error).message]).toEqual([
        'InvalidName',
        `Invalid Name: '${name}'`,
      ]);
    }
    const accepted = ['s3-orders-2026-11-01.csv-3f2a9c1b0d4e', 'x'.repeat(80), 'café-é'];
    for (const name of accepted)
      await client.send(new StartExecutionCommand({ stateMachineArn: machine, name, input: '{}' }));
    await client.send(new StartExecutionCommand({ stateMachineArn: machine, input: '{}' }));
    expect(started).toEqual([...accepted, undefined]);
  });

  it('fails StartExecution with AccessDeniedException when the role may not start the machine, and starts nothing', async () => {
    const { deployment, ids } = accessStack();
    const authorizer = new Authorizer(deployment.access ?? (undefined as never));
    const { client, started } = await stepFunctions({ authorizer, signedAs: ids.copier });
    const error = await client
      .send(new StartExecutionCommand({ stateMachineArn: machine, name: 'run-1', input: '{}' }))
      .catch((e: Error) => e);
    expect((error as Error).name).toBe('AccessDeniedException');
    expect((error as Error).message).toMatch(
      new RegExp(
        `/${ids.copier} is not authorized to perform: states:StartExecution on resource: ${machine} because no identity-based policy allows`,
      ),
    );
    expect(started).toEqual([]);
  });
});
