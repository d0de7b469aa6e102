import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { LOCAL_REGION, type LocalTable } from './template.ts';

/** Dummy credentials: s3rver accepts only these, dynalite any; no real AWS endpoint is ever addressed. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** The embedded stand-ins, listening on loopback, persisted under the state dir. */
export interface LocalServices {
  readonly dynamodbEndpoint: string;
  readonly s3Endpoint: string;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  close(): Promise<void>;
}

export async function startServices(stateDir: string): Promise<LocalServices> {
  const dynamoDir = join(stateDir, 'dynamodb');
  const s3Dir = join(stateDir, 's3');
  mkdirSync(dynamoDir, { recursive: true });
  mkdirSync(s3Dir, { recursive: true });

  const dynamoServer = dynalite({ path: dynamoDir, createTableMs: 0, updateTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    dynamoServer.once('error', reject);
    dynamoServer.listen(0, '127.0.0.1', () => resolve());
  });
  const s3Server = new S3rver({ port: 0, address: '127.0.0.1', directory: s3Dir, silent: true });
  const s3Address = (await s3Server.run()) as AddressInfo;

  const dynamodbEndpoint = `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}`;
  const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamodb = new DynamoDBClient({ ...common, endpoint: dynamodbEndpoint });
  const s3 = new S3Client({ ...common, endpoint: s3Endpoint, forcePathStyle: true });
  return {
    dynamodbEndpoint,
    s3Endpoint,
    dynamodb,
    s3,
    async close() {
      dynamodb.destroy();
      s3.destroy();
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

export async function ensureBuckets(client: S3Client, names: Iterable<string>): Promise<void> {
  const existing = new Set(
    ((await client.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name),
  );
  for (const name of new Set(names)) {
    if (!existing.has(name)) await client.send(new CreateBucketCommand({ Bucket: name }));
  }
}
