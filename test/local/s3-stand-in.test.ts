// The stand-ins as the functions reach them: through the authorizing proxies, with the real SDK clients,
// each signed as a function of the access stack. Denials come back in each service's own shape; odd
// keys copy as on S3; every object created is reported for its "Object Created" event.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventsServer } from '../../lib/local/events-server.ts';
import { Authorizer } from '../../lib/local/iam/authorizer.ts';
import type { CreatedObject } from '../../lib/local/s3-events.ts';
import { objectCreatedEvent, sendsEventsToEventBridge } from '../../lib/local/s3-events.ts';
import { ensureBuckets, type LocalServices, startServices } from '../../lib/local/services.ts';
import { startSnsServer } from '../../lib/local/sns-server.ts';
import { accessStack } from '../private/access-stack.ts';

const { deployment, ids } = accessStack();
const access = deployment.access ?? (undefined as never);
const authorizer = new Authorizer(access);
const dir = mkdtempSync(join(tmpdir(), 'stepwise-s3-stand-in-'));
let services: LocalServices;
const created: CreatedObject[] = [];
const closers: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  services = await startServices(dir, { authorizer });
  services.onObjectCreated((object) => created.push(object));
  await ensureBuckets(services.s3, ['landing', 'curated', 'sealed']);
  await services.s3.send(
    new PutObjectCommand({ Bucket: 'landing', Key: 'in/a+b&c=d e é.csv', Body: 'x,y\n1,2\n' }),
  );
});

afterAll(async () => {
  for (const close of closers) await close();
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

const as = (functionId: string) => services.clientsAs(functionId);
const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: Error & { $metadata?: { httpStatusCode?: number } }) => error,
  );

describe('S3 through the proxy', () => {
  it('copies a key with + & = space and unicode, where s3rver alone cannot', async () => {
    const source = `landing/${encodeURIComponent('in/a+b&c=d e é.csv').replace(/%2F/g, '/')}`;
    // The owner's client goes straight to s3rver, whose decodeURI keeps %2B %26 %3D encoded.
    const alone = await caught(
      services.s3.send(new CopyObjectCommand({ Bucket: 'curated', Key: 'direct.csv', CopySource: source })),
    );
    expect(alone?.name).toBe('NoSuchKey');
    await as(ids.copier).s3.send(
      new CopyObjectCommand({ Bucket: 'curated', Key: 'q/a+b&c=d e é.csv', CopySource: source }),
    );
    const copy = await services.s3.send(
      new GetObjectCommand({ Bucket: 'curated', Key: 'q/a+b&c=d e é.csv' }),
    );
    expect(await copy.Body?.transformToString()).toBe('x,y\n1,2\n');
  });

  it('fails when the role may not write, with S3 403 AccessDenied naming action, resource and role', async () => {
    const error = await caught(
      as(ids.reader).s3.send(new PutObjectCommand({ Bucket: 'curated', Key: 'out/x.csv', Body: 'x' })),
    );
    expect([error?.name, error?.$metadata?.httpStatusCode]).toEqual(['AccessDenied', 403]);
    expect(error?.message).toMatch(
      /^User: arn:aws:sts::000000000000:assumed-role\/ReaderServiceRole\w+\/Reader\w+ is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::curated\/out\/x.csv" because no identity-based policy allows the s3:PutObject action$/,
    );
  });

  it('reads and writes an SSE-KMS bucket only with the use of its key: GET needs kms:Decrypt, HEAD does not', async () => {
    await as(ids.copier).s3.send(new PutObjectCommand({ Bucket: 'sealed', Key: 'a.csv', Body: 'x' }));
    const read = await as(ids.copier).s3.send(new GetObjectCommand({ Bucket: 'sealed', Key: 'a.csv' }));
    expect(await read.Body?.transformToString()).toBe('x');
    const reader = as(ids.reader).s3;
    await reader.send(new HeadObjectCommand({ Bucket: 'sealed', Key: 'a.csv' }));
    const error = await caught(reader.send(new GetObjectCommand({ Bucket: 'sealed', Key: 'a.csv' })));
    expect([error?.name, error?.$metadata?.httpStatusCode]).toEqual(['AccessDenied', 403]);
    expect(error?.message).toMatch(
      new RegExp(
        `/Reader\\w+ is not authorized to perform: kms:Decrypt on resource: "${ids.sealedKeyArn}" because no identity-based policy allows the kms:Decrypt action$`,
      ),
    );
  });

  it('fails a copy whose source the role may not read, naming the source', async () => {
    const error = await caught(
      as(ids.copier).s3.send(
        new CopyObjectCommand({
          Bucket: 'curated',
          Key: 'again.csv',
          CopySource: 'curated/q/a%2Bb%26c%3Dd%20e%20%C3%A9.csv',
        }),
      ),
    );
    expect(error?.name).toBe('AccessDenied');
    expect(error?.message).toContain('s3:GetObject on resource: "arn:aws:s3:::curated/q/a+b&c=d e é.csv"');
  });

  it('reports every object created: put, copy and completed multipart upload, with size and ETag', async () => {
    created.length = 0;
    const copier = as(ids.copier).s3;
    await copier.send(new PutObjectCommand({ Bucket: 'curated', Key: 'out/put.csv', Body: 'abc' }));
    await copier.send(
      new CopyObjectCommand({
        Bucket: 'curated',
        Key: 'out/copy.csv',
        CopySource: 'landing/in/a%2Bb%26c%3Dd%20e%20%C3%A9.csv',
      }),
    );
    const upload = await copier.send(
      new CreateMultipartUploadCommand({ Bucket: 'curated', Key: 'out/parts.csv' }),
    );
    const part = await copier.send(
      new UploadPartCommand({
        Bucket: 'curated',
        Key: 'out/parts.csv',
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: 'parts',
      }),
    );
    await copier.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'curated',
        Key: 'out/parts.csv',
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(created.map((o) => [o.key, o.reason, o.size])).toEqual([
      ['out/put.csv', 'PutObject', 3],
      ['out/copy.csv', 'CopyObject', 8],
      ['out/parts.csv', 'CompleteMultipartUpload', 5],
    ]);
    expect(created.every((o) => o.etag.length > 0)).toBe(true);
  });

  it("sends events only for buckets with EventBridge notifications on, in S3's event shape", () => {
    expect(sendsEventsToEventBridge(access, 'landing')).toBe(true);
    expect(sendsEventsToEventBridge(access, 'curated')).toBe(false);
    // A bucket the template does not define is imported: a trigger on it needs its events on.
    expect(sendsEventsToEventBridge(access, 'imported')).toBe(true);
    const event = objectCreatedEvent({
      bucket: 'landing',
      key: 'a b+c.csv',
      size: 3,
      etag: '"e1"',
      reason: 'CopyObject',
    });
    expect(event).toMatchObject({
      'detail-type': 'Object Created',
      source: 'aws.s3',
      resources: ['arn:aws:s3:::landing'],
      detail: {
        version: '0',
        bucket: { name: 'landing' },
        object: { key: 'a b+c.csv', size: 3, etag: 'e1', sequencer: expect.stringMatching(/^[0-9A-F]+$/) },
        requester: '000000000000',
        reason: 'CopyObject',
      },
    });
  });
});

describe('the other stand-ins', () => {
  it('fails a DynamoDB write the role lacks with AccessDeniedException', async () => {
    await services.dynamodb.send(
      new CreateTableCommand({
        TableName: ids.table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const client: DynamoDBClient = as(ids.copier).dynamodb;
    const error = await caught(
      client.send(new PutItemCommand({ TableName: ids.table, Item: { pk: { S: 'a' } } })),
    );
    expect(error?.name).toBe('AccessDeniedException');
    expect(error?.message).toContain(
      `dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/${ids.table}`,
    );
  });

  it("checks a state machine's integration calls against the machine's role: a ledger write and a copy it lacks fail", async () => {
    // The access stack's machine may invoke Copier and nothing else (the table exists: the test above).
    const machine = as(ids.machine);
    const write = await caught(
      machine.dynamodb.send(new PutItemCommand({ TableName: ids.table, Item: { pk: { S: 'run' } } })),
    );
    expect(write?.name).toBe('AccessDeniedException');
    expect(write?.message).toMatch(
      new RegExp(
        `^User: arn:aws:sts::000000000000:assumed-role/MachineRole\\w+/${ids.machine} is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/${ids.table} `,
      ),
    );
    const copy = await caught(
      machine.s3.send(
        new CopyObjectCommand({ Bucket: 'curated', Key: 'quarantine/a.csv', CopySource: 'landing/in/a.csv' }),
      ),
    );
    expect([copy?.name, copy?.$metadata?.httpStatusCode]).toEqual(['AccessDenied', 403]);
    expect(copy?.message).toContain(`/${ids.machine} is not authorized to perform: s3:PutObject`);
  });

  it('fails a publish to an encrypted topic without the key with SNS AuthorizationError', async () => {
    const published: unknown[] = [];
    const server = await startSnsServer({ authorizer, onPublish: (p) => void published.push(p) });
    closers.push(() => server.close());
    const client = (key: string) =>
      new SNSClient({
        region: 'us-east-1',
        endpoint: server.endpoint,
        credentials: { accessKeyId: key, secretAccessKey: 'x' },
      });
    await client(ids.publisher).send(new PublishCommand({ TopicArn: ids.topicArn, Message: 'hello' }));
    const error = await caught(
      client(ids.keylessPublisher).send(new PublishCommand({ TopicArn: ids.topicArn, Message: 'no' })),
    );
    expect(error?.name).toBe('AuthorizationErrorException');
    expect(error?.message).toContain(`kms:GenerateDataKey on resource: ${ids.keyArn}`);
    expect(published).toHaveLength(1);
  });

  it('fails PutEvents the role lacks with AccessDeniedException, and sends nothing', async () => {
    const received: unknown[] = [];
    const server = await startEventsServer({ authorizer, onEvent: (event) => void received.push(event) });
    closers.push(() => server.close());
    const client = new EventBridgeClient({
      region: 'us-east-1',
      endpoint: server.endpoint,
      credentials: { accessKeyId: ids.reader, secretAccessKey: 'x' },
    });
    const error = await caught(
      client.send(new PutEventsCommand({ Entries: [{ Source: 'a', DetailType: 'b', Detail: '{}' }] })),
    );
    expect(error?.name).toBe('AccessDeniedException');
    expect(error?.message).toContain(
      'events:PutEvents on resource: arn:aws:events:us-east-1:000000000000:event-bus/default',
    );
    expect(received).toEqual([]);
  });

  it('refuses a request signed with a key no function has', async () => {
    const stranger = new S3Client({
      region: 'us-east-1',
      endpoint: services.s3Endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'Stranger', secretAccessKey: 'x' },
    });
    closers.push(() => stranger.destroy());
    const error = await caught(stranger.send(new GetObjectCommand({ Bucket: 'landing', Key: 'in/x' })));
    expect(error?.name).toBe('InvalidAccessKeyId');
  });
});
