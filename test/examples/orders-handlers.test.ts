import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BUCKETS_VARIABLE } from 'stepwise-cdk/task';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countOrderRows,
  currencyTotals,
  dailyTotals,
  type Order,
  parseOrdersCsv,
  sourceObjects,
} from '../../examples/orders/handlers/orders-csv.ts';

const dataDir = new URL('../../examples/orders/data/', import.meta.url);
const sample = (name: string) => readFile(new URL(name, dataDir), 'utf8');
const header = 'order_id,customer_id,order_date,amount,currency';

function ordersOf(text: string): readonly Order[] {
  const parsed = parseOrdersCsv(text);
  if (!parsed.ok) throw new Error(`expected a valid file, got: ${parsed.reason}`);
  return parsed.orders;
}

function reasonOf(text: string): string {
  const parsed = parseOrdersCsv(text);
  if (parsed.ok) throw new Error('expected the file to fail validation');
  return parsed.reason;
}

describe('orders CSV', () => {
  it('accepts the good sample files', async () => {
    const first = ordersOf(await sample('good/orders-2026-11-01.csv'));
    const second = ordersOf(await sample('good/orders-2026-11-02.csv'));
    expect([first.length, second.length]).toEqual([16, 20]);
    expect(first[0]).toEqual({
      orderId: 'A-100201',
      customerId: 'C-3317',
      orderDate: '2026-11-01',
      amountCents: 4990,
      currency: 'EUR',
    });
  });

  it('totals per day and currency, late orders under their own day', async () => {
    const daily = dailyTotals(ordersOf(await sample('good/orders-2026-11-02.csv')));
    expect(daily).toEqual([
      { day: '2026-11-01', currency: 'EUR', orders: 1, amount: 23.8 },
      { day: '2026-11-01', currency: 'USD', orders: 1, amount: 99 },
      { day: '2026-11-02', currency: 'EUR', orders: 12, amount: 1520.68 },
      { day: '2026-11-02', currency: 'GBP', orders: 3, amount: 240 },
      { day: '2026-11-02', currency: 'USD', orders: 3, amount: 1175.75 },
    ]);
    expect(currencyTotals(daily)).toEqual({ EUR: 1544.48, USD: 1274.75, GBP: 240 });
  });

  it('sums amounts exactly, refunds included', () => {
    const text = `${header}\nA-1,C-1,2026-11-01,0.10,EUR\nA-2,C-1,2026-11-01,0.20,EUR\nA-3,C-2,2026-11-01,-0.05,EUR\n`;
    expect(dailyTotals(ordersOf(text))).toEqual([
      { day: '2026-11-01', currency: 'EUR', orders: 3, amount: 0.25 },
    ]);
  });

  it('accepts CRLF line ends, a byte-order mark, blank lines and quoted fields', () => {
    const text = `\uFEFF${header}\r\n"A-1","C ""1""",2026-11-01,5,EUR\r\n\r\nA-2,C-2,2026-11-01,7.5,USD\r\n`;
    expect(ordersOf(text).map(({ customerId, amountCents }) => [customerId, amountCents])).toEqual([
      ['C "1"', 500],
      ['C-2', 750],
    ]);
  });

  it('counts order rows without the header and blank lines', async () => {
    expect(countOrderRows(await sample('good/orders-2026-11-01.csv'))).toBe(16);
    expect(countOrderRows(`${header}\n\nA-1,C-1,2026-11-01,5,EUR\n\n`)).toBe(1);
    expect(countOrderRows(`${header}\n`)).toBe(0);
    expect(countOrderRows('')).toBe(0);
  });

  it('fails when the header is wrong, naming what it found and what it expects', async () => {
    expect(reasonOf(await sample('bad/wrong-header.csv'))).toMatchInlineSnapshot(
      `"line 1: header is "order_id,customer,date,amount,currency", expected "order_id,customer_id,order_date,amount,currency""`,
    );
  });

  it('fails when an amount is not a number, naming the line and the value', async () => {
    expect(reasonOf(await sample('bad/non-numeric-amount.csv'))).toMatchInlineSnapshot(
      `"line 3: amount "12,5x" is not a number"`,
    );
  });

  it('fails when the file is empty', () => {
    expect(reasonOf('')).toMatchInlineSnapshot(
      `"line 1: the file is empty, expected the header "order_id,customer_id,order_date,amount,currency""`,
    );
  });

  it('fails when an order_id repeats', () => {
    const text = `${header}\nA-1,C-1,2026-11-01,5,EUR\nA-2,C-1,2026-11-01,5,EUR\nA-1,C-2,2026-11-01,6,EUR\n`;
    expect(reasonOf(text)).toMatchInlineSnapshot(`"line 4: order_id "A-1" repeats line 2"`);
  });

  it('fails when a row has a bad currency, date, amount, or field count', () => {
    const text = [
      header,
      'A-1,C-1,2026-11-01,5,euro',
      'A-2,C-1,2026-02-30,5,EUR',
      'A-3,C-1,2026-11-01,5.125,EUR',
      'A-4,C-1,2026-11-01,5',
      'A-5,,2026-11-01,1e3,EUR',
      '"A-6,C-1,2026-11-01,5,EUR',
    ].join('\n');
    const parsed = parseOrdersCsv(text);
    expect(parsed.ok ? [] : parsed.problems).toMatchInlineSnapshot(`
      [
        "line 2: currency "euro" is not a 3-letter code like EUR",
        "line 3: order_date "2026-02-30" is not a date (YYYY-MM-DD)",
        "line 4: amount "5.125" has more than 2 decimals",
        "line 5: expected 5 fields, found 4",
        "line 6: customer_id is empty",
        "line 6: amount "1e3" is not a number",
        "line 7: a quoted field is not closed",
      ]
    `);
  });

  it('fails when there are many problems, naming the first three and counting the rest', () => {
    const rows = ['A-1', 'A-2', 'A-3', 'A-4', 'A-5'].map((id) => `${id},C-1,2026-11-01,x,EUR`);
    expect(reasonOf([header, ...rows].join('\n'))).toMatchInlineSnapshot(
      `"line 2: amount "x" is not a number; line 3: amount "x" is not a number; line 4: amount "x" is not a number; and 2 more"`,
    );
  });

  it('lists the objects of a single-file and of a daily source', () => {
    expect(sourceObjects({ bucket: 'raw', key: 'orders/a.csv', versionId: 'v1', rows: 1, bytes: 9 })).toEqual(
      [{ key: 'orders/a.csv', versionId: 'v1' }],
    );
    expect(
      sourceObjects({
        bucket: 'raw',
        day: '2026-11-01',
        keys: ['orders/a.csv', 'orders/b.csv'],
        rows: 2,
        bytes: 9,
      }),
    ).toEqual([{ key: 'orders/a.csv' }, { key: 'orders/b.csv' }]);
  });
});

// The handlers against a real S3 API (s3rver on loopback), the way the local engine runs them.
interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;
type Handler = (event: unknown) => Promise<unknown>;

/** The deployed bucket the spec's name 'raw' maps to: never named 'raw' itself. */
const REAL_BUCKET = 'orders-raw-1a2b3c';

describe('orders handlers', () => {
  const env = { ...process.env };
  let server: S3rverInstance;
  let directory: string;
  let s3: S3Client;
  let handlers: Record<'ingest' | 'validate' | 'transform' | 'publish' | 'monitor', Handler>;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'orders-s3-'));
    const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;
    server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory,
      configureBuckets: [{ name: REAL_BUCKET }],
    });
    const { port } = await server.run();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      // As Pipeline deploys them: the spec's 'raw' is a bucket with a name of its own.
      [BUCKETS_VARIABLE]: JSON.stringify({ raw: REAL_BUCKET }),
    });
    s3 = new S3Client({});
    // Imported after the environment is set, as Lambda loads a handler module.
    handlers = {
      ingest: (await import('../../examples/orders/handlers/ingest.ts')).handler,
      validate: (await import('../../examples/orders/handlers/validate.ts')).handler,
      transform: (await import('../../examples/orders/handlers/transform.ts')).handler,
      publish: (await import('../../examples/orders/handlers/publish.ts')).handler,
      monitor: (await import('../../examples/orders/handlers/monitor.ts')).handler,
    };
    for (const [key, file] of [
      ['orders/orders-2026-11-01.csv', 'good/orders-2026-11-01.csv'],
      ['orders/orders-2026-11-02.csv', 'good/orders-2026-11-02.csv'],
      ['orders/non-numeric-amount.csv', 'bad/non-numeric-amount.csv'],
      ['orders/empty.csv', undefined],
    ] as const) {
      const body = file === undefined ? '' : await sample(file);
      await s3.send(new PutObjectCommand({ Bucket: REAL_BUCKET, Key: key, Body: body }));
    }
  });

  afterAll(async () => {
    s3?.destroy();
    await server?.close();
    await rm(directory, { recursive: true, force: true });
    process.env = env;
  });

  function event(task: string, trigger: Record<string, unknown>, inputs: Record<string, unknown> = {}) {
    const run = { id: 'run-1', pipeline: 'orders', trigger, logicalTime: '2026-11-02T01:00:00Z' };
    return { run, task, gate: task === 'validate', inputs, params: {}, retryCount: 0 };
  }

  async function runChain(trigger: Record<string, unknown>) {
    const outputs: Record<string, unknown> = {};
    const chain = [
      ['ingest', undefined],
      ['validate', 'ingest'],
      ['transform', 'validate'],
      ['publish', 'transform'],
      ['monitor', 'publish'],
    ] as const;
    for (const [task, upstream] of chain) {
      const inputs = upstream === undefined ? {} : { [upstream]: outputs[upstream] };
      outputs[task] = await handlers[task](event(task, trigger, inputs));
    }
    return outputs;
  }

  async function readJson(key: string): Promise<unknown> {
    const object = await s3.send(new GetObjectCommand({ Bucket: REAL_BUCKET, Key: key }));
    return JSON.parse((await object.Body?.transformToString()) ?? '');
  }

  it('processes the object an S3 trigger names, end to end', async () => {
    const outputs = await runChain({ type: 's3', bucket: REAL_BUCKET, key: 'orders/orders-2026-11-01.csv' });
    const source = { bucket: REAL_BUCKET, key: 'orders/orders-2026-11-01.csv', rows: 16, bytes: 645 };
    expect(outputs).toEqual({
      ingest: source,
      validate: { pass: true, source },
      transform: {
        uri: `s3://${REAL_BUCKET}/processed/orders-2026-11-01.json`,
        days: ['2026-11-01'],
        totals: { EUR: 709.94, GBP: 233.25, USD: 803 },
        rows: 16,
        ingestedRows: 16,
      },
      publish: {
        uri: `s3://${REAL_BUCKET}/published/2026-11-02/summary.json`,
        rows: { ingested: 16, transformed: 16 },
      },
      monitor: { rows: 16, summaryBytes: expect.any(Number) },
    });
    expect(await readJson('processed/orders-2026-11-01.json')).toMatchObject({
      runId: 'run-1',
      source: [`s3://${REAL_BUCKET}/orders/orders-2026-11-01.csv`],
      daily: [
        { day: '2026-11-01', currency: 'EUR', orders: 11, amount: 709.94 },
        { day: '2026-11-01', currency: 'GBP', orders: 2, amount: 233.25 },
        { day: '2026-11-01', currency: 'USD', orders: 3, amount: 803 },
      ],
    });
    expect(await readJson('published/2026-11-02/summary.json')).toEqual({
      pipeline: 'orders',
      runId: 'run-1',
      logicalTime: '2026-11-02T01:00:00Z',
      processed: `s3://${REAL_BUCKET}/processed/orders-2026-11-01.json`,
      days: ['2026-11-01'],
      totals: { EUR: 709.94, GBP: 233.25, USD: 803 },
      orders: 16,
    });
  });

  it('processes every file of the logical day on a schedule trigger', async () => {
    const outputs = await runChain({ type: 'schedule', time: '2026-11-02T01:00:00Z' });
    expect(outputs.ingest).toEqual({
      bucket: REAL_BUCKET,
      day: '2026-11-02',
      keys: ['orders/orders-2026-11-02.csv'],
      rows: 20,
      bytes: expect.any(Number),
    });
    expect(outputs.transform).toMatchObject({
      uri: `s3://${REAL_BUCKET}/processed/daily/2026-11-02.json`,
      days: ['2026-11-01', '2026-11-02'],
      rows: 20,
    });
  });

  it('reports zero files when nothing is named for the logical day', async () => {
    const trigger = { type: 'schedule', time: '2026-12-24T01:00:00Z' };
    const run = { id: 'run-2', pipeline: 'orders', trigger, logicalTime: '2026-12-24T01:00:00Z' };
    const ingest = await handlers.ingest({
      run,
      task: 'ingest',
      gate: false,
      inputs: {},
      params: {},
      retryCount: 0,
    });
    expect(ingest).toEqual({ bucket: REAL_BUCKET, day: '2026-12-24', keys: [], rows: 0, bytes: 0 });
  });

  it('reads the object a manual run names', async () => {
    const trigger = { type: 'manual', input: { key: 'orders/orders-2026-11-02.csv' } };
    await expect(handlers.ingest(event('ingest', trigger))).resolves.toMatchObject({
      bucket: REAL_BUCKET,
      key: 'orders/orders-2026-11-02.csv',
      rows: 20,
    });
  });

  it('fails when a manual run names no object', async () => {
    await expect(
      handlers.ingest(event('ingest', { type: 'manual' })),
    ).rejects.toThrowErrorMatchingInlineSnapshot(
      `[DataError: a manual run needs --input '{"key":"orders/<file>.csv"}' (an object in the raw bucket), received undefined]`,
    );
  });

  it('fails when the triggering file is empty: ingest throws a DataError', async () => {
    const trigger = { type: 's3', bucket: REAL_BUCKET, key: 'orders/empty.csv' };
    await expect(handlers.ingest(event('ingest', trigger))).rejects.toThrowErrorMatchingInlineSnapshot(
      `[DataError: s3://orders-raw-1a2b3c/orders/empty.csv is empty]`,
    );
  });

  it('fails when an amount is not a number: the gate returns pass false with the line', async () => {
    const trigger = { type: 's3', bucket: REAL_BUCKET, key: 'orders/non-numeric-amount.csv' };
    const ingest = await handlers.ingest(event('ingest', trigger));
    await expect(handlers.validate(event('validate', trigger, { ingest }))).resolves.toEqual({
      pass: false,
      reason: 'line 3: amount "12,5x" is not a number',
    });
  });

  it('fails when the row counts disagree: the monitor throws', async () => {
    const publish = {
      uri: `s3://${REAL_BUCKET}/published/2026-11-02/summary.json`,
      rows: { ingested: 16, transformed: 15 },
    };
    await expect(
      handlers.monitor(event('monitor', { type: 'manual' }, { publish })),
    ).rejects.toThrowErrorMatchingInlineSnapshot(
      `[Error: row counts disagree: ingest counted 16, transform aggregated 15]`,
    );
  });
});
