import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AttributeValue,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import dynalite from 'dynalite';
import { ensureTables } from '../../lib/local/services.ts';
import { LEDGER_TABLE_PROPERTIES } from './ledger-table.ts';

/**
 * Stand-ins for the recorder's integration tests. DynamoDB is real (dynalite, through the real SDK);
 * what cannot run here is faked, and named so: Step Functions (DescribeExecution and
 * GetExecutionHistory over AWS JSON 1.0), SNS (Publish over the query protocol), EventBridge
 * (PutEvents over AWS JSON 1.1), and a throttling proxy in front of dynalite.
 */
export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:stepwise-alerts`;
export const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:OrdersStateMachine`;
export const executionArn = (name: string) =>
  `arn:aws:states:${REGION}:${ACCOUNT}:execution:OrdersStateMachine:${name}`;

type Reply = { status: number; body: string; contentType: string };
type Handler = (target: string, body: string, req: IncomingMessage) => Reply | Promise<Reply>;

async function listen(handler: Handler): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      try {
        const reply = await handler(target, Buffer.concat(chunks).toString('utf8'), req);
        res.writeHead(reply.status, { 'content-type': reply.contentType });
        res.end(reply.body);
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

const json = (status: number, body: unknown, version = '1.0'): Reply => ({
  status,
  body: JSON.stringify(body),
  contentType: `application/x-amz-json-${version}`,
});

// ---------------------------------------------------------------------------------------------------
// DynamoDB: dynalite, behind a fake proxy that can answer ProvisionedThroughputExceededException.

export interface FakeLedger {
  /** The proxy's endpoint: what the code under test uses. */
  readonly endpoint: string;
  /** A client straight to dynalite, for setting up and reading back rows. */
  readonly client: DynamoDBClient;
  createTable(name: string): Promise<void>;
  /** The next `count` requests of `operation` (e.g. 'BatchWriteItem'), or of any ('*'), are throttled. */
  throttle(count: number, operation?: string): void;
  /** How many requests the proxy throttled so far. */
  readonly throttled: number;
  /** The operation of every request through the proxy, in order. */
  readonly operations: string[];
  close(): Promise<void>;
}

export async function startFakeLedger(): Promise<FakeLedger> {
  const dynamo = dynalite({ createTableMs: 0, updateTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
  const dynamoPort = (dynamo.address() as AddressInfo).port;
  const budget = new Map<string, number>();
  let throttled = 0;
  const operations: string[] = [];
  /** Spends one throttle meant for this operation, or for any; false when none is left. */
  const spend = (operation: string) => {
    for (const which of [operation, '*']) {
      const left = budget.get(which) ?? 0;
      if (left > 0) {
        budget.set(which, left - 1);
        return true;
      }
    }
    return false;
  };
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      operations.push(operation);
      if (spend(operation)) {
        throttled++;
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
            message: 'The level of configured provisioned throughput for the table was exceeded.',
          }),
        );
        return;
      }
      const forward = request(
        { host: '127.0.0.1', port: dynamoPort, method: req.method, path: req.url, headers: req.headers },
        (upstream) => {
          res.writeHead(upstream.statusCode ?? 500, upstream.headers);
          upstream.pipe(res);
        },
      );
      forward.on('error', (error) => res.destroy(error));
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const client = new DynamoDBClient({
    region: REGION,
    endpoint: `http://127.0.0.1:${dynamoPort}`,
    credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' },
  });
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    client,
    async createTable(name) {
      // The shape the LedgerTable construct synthesizes.
      await ensureTables(client, [
        {
          name,
          properties: LEDGER_TABLE_PROPERTIES,
        },
      ]);
    },
    throttle(count, operation = '*') {
      budget.set(operation, (budget.get(operation) ?? 0) + count);
    },
    get throttled() {
      return throttled;
    },
    operations,
    async close() {
      client.destroy();
      await close(proxy);
      await close(dynamo);
    },
  };
}

/** Every item of a table, sorted by key: a snapshot to compare before and after. */
export async function scanTable(
  client: DynamoDBClient,
  table: string,
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const key = (item: Record<string, AttributeValue>) => `${item.pk?.S}\u0000${item.sk?.S}`;
  return items.sort((a, b) => key(a).localeCompare(key(b)));
}

/** A run row as the state machine's `Record run start` writes it, with what later states add. */
export async function putRunRow(
  client: DynamoDBClient,
  table: string,
  row: {
    pipeline: string;
    runId: string;
    startedAt: string;
    status?: string;
    extra?: Record<string, AttributeValue>;
  },
): Promise<{ pk: string; sk: string }> {
  const key = { pk: `PIPELINE#${row.pipeline}`, sk: `RUN#${row.startedAt}#${row.runId}` };
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        pk: { S: key.pk },
        sk: { S: key.sk },
        kind: { S: 'run' },
        pipeline: { S: row.pipeline },
        runId: { S: row.runId },
        status: { S: row.status ?? 'RUNNING' },
        startedAt: { S: row.startedAt },
        logicalTime: { S: row.startedAt },
        runKey: { S: `manual:${row.runId}` },
        trigger: { S: '{"type":"manual"}' },
        executionArn: { S: executionArn(row.runId) },
        expiresAt: { N: '1798000000' },
        ...row.extra,
      },
    }),
  );
  return key;
}

// ---------------------------------------------------------------------------------------------------
// Step Functions: a fake serving DescribeExecution and GetExecutionHistory.

export interface FakeExecution {
  readonly name: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly input: unknown;
  readonly error?: string;
  readonly cause?: string;
  readonly redriveCount?: number;
  readonly events: readonly HistoryEvent[];
}

export interface FakeStepFunctions {
  readonly endpoint: string;
  put(execution: FakeExecution): string;
  /** The largest page GetExecutionHistory returns, whatever maxResults asks: AWS may return fewer. */
  pageLimit: number;
  /** The next `count` requests (of `operation`, if given) fail with ThrottlingException. */
  throttle(count: number, operation?: string): void;
  /** How many requests were throttled so far. */
  readonly throttled: number;
  /** Every request, in order: the operation and its JSON body. */
  readonly requests: { operation: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

/** AWS JSON 1.0 sends timestamps as epoch seconds. */
const seconds = (date: Date | undefined) => (date === undefined ? undefined : date.getTime() / 1000);

export async function startFakeStepFunctions(): Promise<FakeStepFunctions> {
  const executions = new Map<string, FakeExecution>();
  const requests: FakeStepFunctions['requests'] = [];
  let throttles = 0;
  let throttledOperation: string | undefined;
  const fake = {
    pageLimit: Number.POSITIVE_INFINITY,
    throttled: 0,
  };
  const { endpoint, server } = await listen((target, text) => {
    const operation = target.replace(/^AWSStepFunctions\./, '');
    const body = JSON.parse(text || '{}') as Record<string, unknown>;
    requests.push({ operation, body });
    if (throttles > 0 && (throttledOperation === undefined || throttledOperation === operation)) {
      throttles--;
      fake.throttled++;
      return json(400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
    }
    const arn = String(body.executionArn);
    const execution = executions.get(arn);
    if (!execution)
      return json(400, { __type: 'ExecutionDoesNotExist', message: `Execution Does Not Exist: '${arn}'` });
    if (operation === 'DescribeExecution')
      return json(200, {
        executionArn: arn,
        stateMachineArn: STATE_MACHINE_ARN,
        name: execution.name,
        status: execution.status,
        startDate: seconds(execution.startDate),
        stopDate: seconds(execution.stopDate),
        input: JSON.stringify(execution.input),
        ...(execution.error !== undefined ? { error: execution.error } : {}),
        ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
        ...(execution.redriveCount !== undefined ? { redriveCount: execution.redriveCount } : {}),
      });
    if (operation === 'GetExecutionHistory') {
      const asked = Number(body.maxResults ?? 0) || 100;
      const size = Math.min(asked, fake.pageLimit);
      const offset =
        body.nextToken === undefined ? 0 : Number(Buffer.from(String(body.nextToken), 'base64url'));
      const page = execution.events.slice(offset, offset + size);
      const next = offset + size < execution.events.length ? offset + size : undefined;
      return json(200, {
        events: page.map((e) => ({ ...e, timestamp: seconds(e.timestamp) })),
        ...(next !== undefined ? { nextToken: Buffer.from(String(next)).toString('base64url') } : {}),
      });
    }
    return json(400, {
      __type: 'UnknownOperationException',
      message: `the fake does not serve ${operation}`,
    });
  });
  return Object.assign(fake, {
    endpoint,
    requests,
    put(execution: FakeExecution) {
      const arn = executionArn(execution.name);
      executions.set(arn, execution);
      return arn;
    },
    throttle(count: number, operation?: string) {
      throttles = count;
      throttledOperation = operation;
    },
    close: () => close(server),
  });
}

// ---------------------------------------------------------------------------------------------------
// SNS and EventBridge: fakes that keep what they were sent.

export interface Published {
  readonly TopicArn: string | null;
  readonly Subject: string | null;
  readonly Message: string | null;
}

export interface FakeSns {
  readonly endpoint: string;
  readonly published: Published[];
  /** The next `count` Publish calls fail with NotFound (the topic is gone), which no client retries. */
  refuse(count: number): void;
  close(): Promise<void>;
}

/** SNS speaks the query protocol: a form-encoded request, an XML response. */
export async function startFakeSns(): Promise<FakeSns> {
  const published: Published[] = [];
  let refusals = 0;
  const { endpoint, server } = await listen((_target, text) => {
    const form = new URLSearchParams(text);
    if (form.get('Action') !== 'Publish')
      return { status: 400, body: '<ErrorResponse/>', contentType: 'text/xml' };
    if (refusals > 0) {
      refusals--;
      return {
        status: 404,
        contentType: 'text/xml',
        body: '<ErrorResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error><RequestId>refused</RequestId></ErrorResponse>',
      };
    }
    published.push({
      TopicArn: form.get('TopicArn'),
      Subject: form.get('Subject'),
      Message: form.get('Message'),
    });
    const id = `message-${published.length}`;
    return {
      status: 200,
      contentType: 'text/xml',
      body: `<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${id}</MessageId></PublishResult><ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></PublishResponse>`,
    };
  });
  return {
    endpoint,
    published,
    refuse(count) {
      refusals = count;
    },
    close: () => close(server),
  };
}

export interface PutEntry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: string;
  readonly EventBusName?: string;
  readonly Resources?: string[];
}

export interface FakeEventBridge {
  readonly endpoint: string;
  /** Entries EventBridge accepted. */
  readonly entries: PutEntry[];
  /** The next `count` entries are refused (FailedEntryCount), as PutEvents does under an internal error. */
  refuse(count: number): void;
  close(): Promise<void>;
}

export async function startFakeEventBridge(): Promise<FakeEventBridge> {
  const entries: PutEntry[] = [];
  let refusals = 0;
  const { endpoint, server } = await listen((target, text) => {
    if (target !== 'AWSEvents.PutEvents')
      return json(400, { __type: 'UnknownOperationException', message: target }, '1.1');
    const body = JSON.parse(text) as { Entries: PutEntry[] };
    let failed = 0;
    const results = body.Entries.map((entry) => {
      if (refusals > 0) {
        refusals--;
        failed++;
        return { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' };
      }
      entries.push(entry);
      return { EventId: `event-${entries.length}` };
    });
    return json(200, { FailedEntryCount: failed, Entries: results }, '1.1');
  });
  return {
    endpoint,
    entries,
    refuse(count) {
      refusals = count;
    },
    close: () => close(server),
  };
}
