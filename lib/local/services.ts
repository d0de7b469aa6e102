import { mkdirSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadObjectCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { memoizeExpressionParsers } from './dynalite-expressions.ts';
import { startDynalite } from './dynalite-tables.ts';
import { type Authorizer, OWNER_ACCESS_KEY_ID } from './iam/authorizer.ts';
import { serveInProcess } from './iam/proxy.ts';
import type { CreatedObject } from './s3-events.ts';
import { startDynamoDbProxy, startS3Proxy } from './stand-in-proxies.ts';
import { LOCAL_REGION, type LocalTable } from './template.ts';

/** The owner's credentials: the local engine's own clients sign with these, and are not checked. */
export const LOCAL_CREDENTIALS = { accessKeyId: OWNER_ACCESS_KEY_ID, secretAccessKey: 'S3RVER' };

/** SDK clients that sign as one caller (a state machine, for its integrations) and go through the proxies. */
export interface CallerClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
}

/**
 * The embedded stand-ins, listening on loopback, persisted under the state dir. `dynamodbEndpoint` and
 * `s3Endpoint` are what Lambda functions reach: proxies that authorize each call against the caller's
 * role. `dynamodb` and `s3` are the owner's clients, straight to the stores.
 */
export interface LocalServices {
  readonly dynamodbEndpoint: string;
  readonly s3Endpoint: string;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  /** Clients that sign with `accessKeyId`, through the authorizing proxies. */
  clientsAs(accessKeyId: string): CallerClients;
  /** Where each object created through the proxy (by a function or a state machine) is reported. */
  onObjectCreated(listener: (object: CreatedObject) => void): void;
  close(): Promise<void>;
}

export interface ServicesOptions {
  /** Authorizes every call through the proxies; without one, nothing is checked (ledger-only opens). */
  readonly authorizer?: Authorizer;
}

export async function startServices(stateDir: string, options: ServicesOptions = {}): Promise<LocalServices> {
  const dynamoDir = join(stateDir, 'dynamodb');
  const s3Dir = join(stateDir, 's3');
  mkdirSync(dynamoDir, { recursive: true });
  mkdirSync(s3Dir, { recursive: true });

  memoizeExpressionParsers();
  const dynamoServer = startDynalite({
    path: dynamoDir,
    createTableMs: 0,
    updateTableMs: 0,
    deleteTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    dynamoServer.once('error', reject);
    dynamoServer.listen(0, '127.0.0.1', () => resolve());
  });
  const s3Server = new S3rver({ port: 0, address: '127.0.0.1', directory: s3Dir, silent: true });
  const s3Address = (await s3Server.run()) as AddressInfo;

  const dynamoStore = `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}`;
  const s3Store = `http://127.0.0.1:${s3Address.port}`;
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamoHandler = dynamoServer.listeners('request')[0] as RequestListener | undefined;
  if (!dynamoHandler) throw new Error('dynalite started without a request handler');
  // The owner's reads of the ledger go to dynalite's own handler in this process, as the proxy's calls do.
  const dynamodb = new DynamoDBClient({
    ...common,
    endpoint: dynamoStore,
    requestHandler: inProcessRequestHandler(dynamoHandler),
  });
  const s3 = new S3Client({ ...common, endpoint: s3Store, forcePathStyle: true });
  let listener: (object: CreatedObject) => void = () => undefined;
  const s3Proxy = await startS3Proxy(s3Store, {
    authorizer: options.authorizer,
    describe: async (bucket, key) => {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        size: head.ContentLength ?? 0,
        etag: head.ETag ?? '',
        ...(head.VersionId ? { versionId: head.VersionId } : {}),
      };
    },
    onObjectCreated: (object) => listener(object),
  });
  // The proxy hands each call to dynalite's own handler in this process: no second loopback round trip.
  const dynamoProxy = await startDynamoDbProxy(
    { listener: dynamoHandler },
    { authorizer: options.authorizer },
  );
  const callerClients = new Map<string, CallerClients>();
  return {
    dynamodbEndpoint: dynamoProxy.endpoint,
    s3Endpoint: s3Proxy.endpoint,
    dynamodb,
    s3,
    clientsAs(accessKeyId) {
      const existing = callerClients.get(accessKeyId);
      if (existing) return existing;
      const credentials = { accessKeyId, secretAccessKey: 'local' };
      const clients = {
        dynamodb: new DynamoDBClient({ region: LOCAL_REGION, credentials, endpoint: dynamoProxy.endpoint }),
        s3: new S3Client({
          region: LOCAL_REGION,
          credentials,
          endpoint: s3Proxy.endpoint,
          forcePathStyle: true,
        }),
      };
      callerClients.set(accessKeyId, clients);
      return clients;
    },
    onObjectCreated(next) {
      listener = next;
    },
    async close() {
      for (const clients of callerClients.values()) {
        clients.dynamodb.destroy();
        clients.s3.destroy();
      }
      dynamodb.destroy();
      s3.destroy();
      await s3Proxy.close();
      await dynamoProxy.close();
      await s3Server.close();
      await new Promise<void>((resolve) => dynamoServer.close(() => resolve()));
    },
  };
}

/** Creates each table the template defines, unless it exists from an earlier run. */
export async function ensureTables(client: DynamoDBClient, tables: readonly LocalTable[]): Promise<void> {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  for (const table of tables) {
    if (existing.has(table.name)) continue;
    const p = table.properties as {
      KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
      AttributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
      GlobalSecondaryIndexes?: {
        IndexName: string;
        KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
        Projection?: { ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE' };
      }[];
      TimeToLiveSpecification?: { AttributeName?: string; Enabled?: boolean };
    };
    await client.send(
      new CreateTableCommand({
        TableName: table.name,
        KeySchema: p.KeySchema,
        AttributeDefinitions: p.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        ...(p.GlobalSecondaryIndexes
          ? {
              GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map((index) => ({
                IndexName: index.IndexName,
                KeySchema: index.KeySchema,
                Projection: { ProjectionType: index.Projection?.ProjectionType ?? 'ALL' },
              })),
            }
          : {}),
      }),
    );
    await untilActive(client, table.name);
    const ttl = p.TimeToLiveSpecification;
    if (ttl?.Enabled && ttl.AttributeName) {
      await client
        .send(
          new UpdateTimeToLiveCommand({
            TableName: table.name,
            TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
          }),
        )
        .catch(() => undefined); // dynalite does not implement TTL; expiry is a deployed-only concern
    }
  }
}

/** How long a new table may stay CREATING before the command gives up on the local DynamoDB. */
const TABLE_ACTIVE_TIMEOUT_MS = 60_000;

/**
 * Waits until a new table and its indexes are ACTIVE, as a client of DynamoDB must: until then the
 * table answers ResourceNotFoundException. dynalite (createTableMs 0) flips the status on its next
 * timer turn, which a call served in this process, with no socket in between, can come before.
 */
async function untilActive(client: DynamoDBClient, name: string): Promise<void> {
  const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS;
  for (;;) {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: name }));
    const indexes = table?.GlobalSecondaryIndexes ?? [];
    if (table?.TableStatus === 'ACTIVE' && indexes.every((index) => index.IndexStatus === 'ACTIVE')) return;
    if (Date.now() > deadline)
      throw new Error(
        `the local DynamoDB table ${name} is still ${table?.TableStatus ?? 'missing'} after ${TABLE_ACTIVE_TIMEOUT_MS / 1000} s; run the command again, or remove the state dir's dynamodb folder to start the ledger afresh`,
      );
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function ensureBuckets(client: S3Client, names: Iterable<string>): Promise<void> {
  const existing = new Set(
    ((await client.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name),
  );
  for (const name of new Set(names)) {
    if (!existing.has(name)) await client.send(new CreateBucketCommand({ Bucket: name }));
  }
}

/** A request as the SDK hands it to its HTTP handler. */
interface SdkHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
}

/**
 * An SDK request handler that serves each request with an in-process request listener (dynalite's):
 * the same request, signed and serialized by the SDK, and the same answer, without a socket. The
 * engine's own ledger reads (a burst of runs reads every other run's report) are most of its calls.
 */
function inProcessRequestHandler(listener: RequestListener) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
    async handle(request: SdkHttpRequest) {
      const { body } = request;
      const bytes =
        body === undefined
          ? Buffer.alloc(0)
          : typeof body === 'string'
            ? Buffer.from(body)
            : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
      );
      const url = request.path || '/';
      const response = await serveInProcess(
        listener,
        {
          method: request.method,
          url,
          path: url,
          query: new URLSearchParams(),
          headers,
          body: bytes,
        },
        { ...headers, 'content-length': String(bytes.length) },
      );
      return {
        response: {
          statusCode: response.status,
          headers: response.headers,
          body: Readable.from([Buffer.from(response.body)]),
        },
      };
    },
  };
}
