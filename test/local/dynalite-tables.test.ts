// dynalite's table descriptions, kept in memory by lib/local/dynalite-tables.ts: read from LevelDB once,
// replaced by every CreateTable, UpdateTable and DeleteTable, so the local DynamoDB answers as before.
import './cli-env.ts';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type TableDescription,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cacheTableDescriptions } from '../../lib/local/dynalite-tables.ts';
import { type LocalServices, startServices } from '../../lib/local/services.ts';
import { tempStateDir } from './stepwise-cli.ts';

const opened: { services: LocalServices; remove: () => void }[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const { services, remove } of opened.splice(0)) {
    await services.close();
    remove();
  }
});

async function open(): Promise<{ dynamodb: DynamoDBClient }> {
  const state = tempStateDir('dynalite-tables');
  const services = await startServices(state.dir);
  opened.push({ services, remove: state.remove });
  return { dynamodb: services.dynamodb };
}

async function createTable(dynamodb: DynamoDBClient, key: { name: string; type: 'S' | 'N' }) {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: 'Ledger',
      KeySchema: [{ AttributeName: key.name, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: key.name, AttributeType: key.type }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await until(dynamodb, (table) => table?.TableStatus === 'ACTIVE');
}

/** Polls DescribeTable until `done` holds (undefined: the table is gone). */
async function until(dynamodb: DynamoDBClient, done: (table: TableDescription | undefined) => boolean) {
  for (;;) {
    const table = await dynamodb
      .send(new DescribeTableCommand({ TableName: 'Ledger' }))
      .then((d) => d.Table)
      .catch((error: Error) => {
        if (error.name === 'ResourceNotFoundException') return undefined;
        throw error;
      });
    if (done(table)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("dynalite's table descriptions, kept in memory", () => {
  it('reads a table description from LevelDB once, not on every item call', async () => {
    const { dynamodb } = await open();
    await createTable(dynamodb, { name: 'pk', type: 'S' });
    await dynamodb.send(new PutItemCommand({ TableName: 'Ledger', Item: { pk: { S: 'a' } } }));
    const reads = vi.spyOn(ClassicLevel.prototype as unknown as { _get: () => unknown }, '_get');
    for (let i = 0; i < 10; i++)
      expect(
        (await dynamodb.send(new GetItemCommand({ TableName: 'Ledger', Key: { pk: { S: 'a' } } }))).Item,
      ).toEqual({ pk: { S: 'a' } });
    // One read per GetItem, for the item: the description came from memory (dynalite alone reads two).
    expect(reads).toHaveBeenCalledTimes(10);
  });

  it('sees a table deleted and created again with another key as it now is', async () => {
    const { dynamodb } = await open();
    await createTable(dynamodb, { name: 'pk', type: 'S' });
    await dynamodb.send(new PutItemCommand({ TableName: 'Ledger', Item: { pk: { S: 'a' } } }));
    await dynamodb.send(new DeleteTableCommand({ TableName: 'Ledger' }));
    await until(dynamodb, (table) => table === undefined);
    await expect(
      dynamodb.send(new GetItemCommand({ TableName: 'Ledger', Key: { pk: { S: 'a' } } })),
    ).rejects.toThrow(expect.objectContaining({ name: 'ResourceNotFoundException' }));

    await createTable(dynamodb, { name: 'id', type: 'N' });
    await expect(
      dynamodb.send(new PutItemCommand({ TableName: 'Ledger', Item: { pk: { S: 'a' } } })),
    ).rejects.toThrow('Missing the key id in the item');
    await dynamodb.send(new PutItemCommand({ TableName: 'Ledger', Item: { id: { N: '1' } } }));
    expect(
      (await dynamodb.send(new GetItemCommand({ TableName: 'Ledger', Key: { id: { N: '1' } } }))).Item,
    ).toEqual({ id: { N: '1' } });
  });

  it('sees the throughput UpdateTable sets', async () => {
    const { dynamodb } = await open();
    await createTable(dynamodb, { name: 'pk', type: 'S' });
    const provisioned = {
      TableName: 'Ledger',
      BillingMode: 'PROVISIONED' as const,
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    };
    await dynamodb.send(new UpdateTableCommand(provisioned));
    await until(dynamodb, (table) => table?.TableStatus === 'ACTIVE');
    const { Table: table } = await dynamodb.send(new DescribeTableCommand({ TableName: 'Ledger' }));
    expect(table?.BillingModeSummary?.BillingMode).toBe('PROVISIONED');
    expect(table?.ProvisionedThroughput?.ReadCapacityUnits).toBe(5);
    // dynalite's UpdateTable compares with the description it reads: the one just written.
    await expect(dynamodb.send(new UpdateTableCommand(provisioned))).rejects.toThrow(
      'The provisioned throughput for the table will not change',
    );
  });

  it('reads the descriptions from disk when the state dir is opened again', async () => {
    const state = tempStateDir('dynalite-tables');
    try {
      const first = await startServices(state.dir);
      await createTable(first.dynamodb, { name: 'pk', type: 'S' });
      await first.dynamodb.send(new PutItemCommand({ TableName: 'Ledger', Item: { pk: { S: 'a' } } }));
      await first.close();
      const again = await startServices(state.dir);
      try {
        const read = await again.dynamodb.send(
          new GetItemCommand({ TableName: 'Ledger', Key: { pk: { S: 'a' } } }),
        );
        expect(read.Item).toEqual({ pk: { S: 'a' } });
      } finally {
        await again.close();
      }
    } finally {
      state.remove();
    }
  });
});

describe('cacheTableDescriptions, on a stand-in store (a mock of dynalite’s LevelDB sub-store)', () => {
  /** A store whose reads finish when the test says so, holding values as dynalite's JSON encoding would. */
  function storeWithHeldReads() {
    const held: (() => void)[] = [];
    const disk = new Map<string, string>();
    let reads = 0;
    const tableDb = {
      get(key: string, callback: (error: Error | null, value?: unknown) => void) {
        reads++;
        const value = disk.get(key);
        held.push(() => callback(null, value === undefined ? undefined : JSON.parse(value)));
      },
      put(key: string, value: unknown, callback?: (error?: Error | null) => void) {
        disk.set(key, JSON.stringify(value));
        setImmediate(() => callback?.(null));
      },
      del(key: string, callback?: (error?: Error | null) => void) {
        disk.delete(key);
        setImmediate(() => callback?.(null));
      },
    };
    cacheTableDescriptions({ tableDb });
    const get = (key: string) =>
      new Promise<unknown>((resolve, reject) =>
        tableDb.get(key, (error, value) => (error ? reject(error) : resolve(value))),
      );
    const write = (key: string, value: unknown) =>
      new Promise<void>((resolve) => tableDb.put(key, value, () => resolve()));
    return {
      get,
      write,
      del: tableDb.del,
      /** Puts a value in the store behind the cache's back, as an earlier command left it. */
      seed: (key: string, value: unknown) => disk.set(key, JSON.stringify(value)),
      release: () => {
        for (const finish of held.splice(0)) finish();
      },
      reads: () => reads,
    };
  }

  it('answers from memory after the first read, a fresh object each time', async () => {
    const store = storeWithHeldReads();
    await store.write('Ledger', { TableStatus: 'ACTIVE' });
    const first = (await store.get('Ledger')) as { TableStatus: string };
    first.TableStatus = 'CHANGED BY A CALLER';
    expect(await store.get('Ledger')).toEqual({ TableStatus: 'ACTIVE' });
    expect(store.reads()).toBe(0);
  });

  it('does not keep a read that was under way when a write was made', async () => {
    const store = storeWithHeldReads();
    store.seed('Ledger', { TableStatus: 'CREATING' });
    const reading = store.get('Ledger');
    await store.write('Ledger', { TableStatus: 'ACTIVE' });
    store.release(); // the read ends after the write, with what it read before it
    expect(await reading).toEqual({ TableStatus: 'CREATING' });
    expect(await store.get('Ledger')).toEqual({ TableStatus: 'ACTIVE' });
    expect(store.reads()).toBe(1);
  });

  it('reads again after a table is deleted', async () => {
    const store = storeWithHeldReads();
    await store.write('Ledger', { TableStatus: 'ACTIVE' });
    await new Promise<void>((resolve) => store.del('Ledger', () => resolve()));
    const reading = store.get('Ledger');
    store.release();
    expect(await reading).toBeUndefined();
    expect(store.reads()).toBe(1);
  });
});
