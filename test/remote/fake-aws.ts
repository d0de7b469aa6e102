import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Fakes of the AWS endpoints the `--aws` commands call, for what cannot run here (a deployed stack, a
 * deployed Lambda function, Step Functions). Each is a loopback HTTP server that speaks the service's
 * real wire protocol, so the real SDK clients are what the tests drive: CloudFormation's AWS Query XML,
 * Lambda's REST JSON, Step Functions' AWS JSON 1.0. They serve only the operations stepwise calls.
 */

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface FakeResponse {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body: string;
}

export interface FakeEndpoint {
  readonly endpoint: string;
  /** Every request received, in arrival order. */
  readonly requests: FakeRequest[];
  close(): Promise<void>;
}

/** Dummy credentials for the SDK to sign with; the fakes do not check signatures. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake-secret' };

/** Client settings that reach a fake: its endpoint, a region, dummy credentials, and no retries. */
export function fakeClientConfig(fake: FakeEndpoint, region = 'eu-west-1') {
  return { endpoint: fake.endpoint, region, credentials: FAKE_CREDENTIALS, maxAttempts: 1 };
}

async function startFakeEndpoint(
  handle: (request: FakeRequest) => FakeResponse | Promise<FakeResponse>,
): Promise<FakeEndpoint> {
  const requests: FakeRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const request: FakeRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      try {
        const response = await handle(request);
        res.writeHead(response.status ?? 200, response.headers ?? {});
        res.end(response.body);
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake failed: ${(error as Error).message}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- CloudFormation (AWS Query: form-encoded request, XML response) -----------------------------------

export interface FakeStack {
  readonly status?: string;
  readonly outputs: Readonly<Record<string, string>>;
}

const CFN_NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/** A fake CloudFormation that knows some stacks, answering DescribeStacks. `error` answers every call with it. */
export function startFakeCloudFormation(
  stacks: Readonly<Record<string, FakeStack>>,
  error?: { status: number; code: string; message: string },
): Promise<FakeEndpoint> {
  return startFakeEndpoint((request) => {
    const form = new URLSearchParams(request.body);
    if (error) return cfnError(error.status, error.code, error.message);
    if (form.get('Action') !== 'DescribeStacks')
      return cfnError(
        400,
        'InvalidAction',
        `fake CloudFormation serves DescribeStacks, not ${form.get('Action')}`,
      );
    const name = form.get('StackName') ?? '';
    const stack = stacks[name];
    if (!stack) return cfnError(400, 'ValidationError', `Stack with id ${name} does not exist`);
    const outputs = Object.entries(stack.outputs)
      .map(
        ([key, value]) =>
          `<member><OutputKey>${key}</OutputKey><OutputValue>${xml(value)}</OutputValue></member>`,
      )
      .join('');
    return {
      headers: { 'content-type': 'text/xml' },
      body:
        `<DescribeStacksResponse xmlns="${CFN_NS}"><DescribeStacksResult><Stacks><member>` +
        `<StackName>${xml(name)}</StackName>` +
        `<StackId>arn:aws:cloudformation:eu-west-1:123456789012:stack/${xml(name)}/0b1c2d3e</StackId>` +
        `<CreationTime>2026-01-01T00:00:00.000Z</CreationTime>` +
        `<StackStatus>${stack.status ?? 'CREATE_COMPLETE'}</StackStatus>` +
        `<Outputs>${outputs}</Outputs>` +
        `</member></Stacks></DescribeStacksResult>` +
        `<ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata></DescribeStacksResponse>`,
    };
  });
}

function cfnError(status: number, code: string, message: string): FakeResponse {
  return {
    status,
    headers: { 'content-type': 'text/xml' },
    body:
      `<ErrorResponse xmlns="${CFN_NS}"><Error><Type>Sender</Type><Code>${code}</Code>` +
      `<Message>${xml(message)}</Message></Error><RequestId>fake-request</RequestId></ErrorResponse>`,
  };
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// ---- Lambda (REST JSON: POST /2015-03-31/functions/<name>/invocations) --------------------------------

/** What a fake function does with one event: return a result, throw (a FunctionError), or fail the call. */
export type FakeInvocation =
  | { readonly result: unknown }
  | { readonly functionError: { readonly errorType: string; readonly errorMessage: string } }
  | { readonly serviceError: { readonly status: number; readonly type: string; readonly message: string } };

/** A fake Lambda serving synchronous Invoke of the named functions. */
export function startFakeLambda(
  functions: Readonly<Record<string, (event: unknown) => FakeInvocation | Promise<FakeInvocation>>>,
): Promise<FakeEndpoint> {
  return startFakeEndpoint(async (request) => {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(request.path);
    if (request.method !== 'POST' || !match)
      return lambdaError(404, 'UnknownOperationException', 'Unknown operation');
    const name = decodeURIComponent(match[1] as string);
    const fn = functions[name];
    if (!fn)
      return lambdaError(
        404,
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
      );
    if (request.headers['x-amz-invocation-type'] !== 'RequestResponse')
      return lambdaError(
        400,
        'InvalidParameterValueException',
        'the fake serves RequestResponse invocations only',
      );
    const outcome = await fn(JSON.parse(request.body));
    if ('serviceError' in outcome)
      return lambdaError(
        outcome.serviceError.status,
        outcome.serviceError.type,
        outcome.serviceError.message,
      );
    if ('functionError' in outcome)
      return {
        headers: { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' },
        body: JSON.stringify({ ...outcome.functionError, trace: [] }),
      };
    return {
      headers: { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' },
      body: JSON.stringify(outcome.result),
    };
  });
}

function lambdaError(status: number, type: string, message: string): FakeResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': type },
    body: JSON.stringify({ Type: 'User', message }),
  };
}

// ---- Step Functions (AWS JSON 1.0: X-Amz-Target AWSStepFunctions.<Operation>) -------------------------

export interface FakeExecution {
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly startDate: Date;
  readonly stopDate?: Date;
  /** The reason DescribeExecution gives when the execution cannot be redriven. */
  readonly redriveStatusReason?: string;
}

/**
 * A fake Step Functions answering RedriveExecution and DescribeExecution as AWS does for Standard
 * executions: redrivable only when stopped unsuccessfully within the last 14 days.
 */
export function startFakeStepFunctions(
  executions: Readonly<Record<string, FakeExecution>>,
): Promise<FakeEndpoint> {
  return startFakeEndpoint((request) => {
    const operation = String(request.headers['x-amz-target'] ?? '').replace('AWSStepFunctions.', '');
    const { executionArn } = JSON.parse(request.body) as { executionArn: string };
    if (!/^arn:aws:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(executionArn))
      return sfnError(
        'InvalidArn',
        `Invalid Arn: 'Resource type not valid in this context: ${executionArn}'`,
      );
    const execution = executions[executionArn];
    if (!execution) return sfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    const redrivable = redriveRefusal(execution) === undefined;
    switch (operation) {
      case 'RedriveExecution':
        if (!redrivable)
          return sfnError('ExecutionNotRedrivable', `Execution is not redrivable: ${executionArn}`);
        return sfnJson({ redriveDate: Date.parse('2026-11-01T03:00:00Z') / 1000 });
      case 'DescribeExecution':
        return sfnJson({
          executionArn,
          stateMachineArn: executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, ''),
          name: executionArn.split(':').at(-1),
          status: execution.status,
          startDate: execution.startDate.getTime() / 1000,
          ...(execution.stopDate ? { stopDate: execution.stopDate.getTime() / 1000 } : {}),
          input: '{}',
          redriveCount: 0,
          redriveStatus: redrivable ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
          ...(redrivable ? {} : { redriveStatusReason: redriveRefusal(execution) }),
        });
      default:
        return sfnError('UnknownOperationException', `fake Step Functions does not serve ${operation}`);
    }
  });
}

function redriveRefusal(execution: FakeExecution): string | undefined {
  if (execution.redriveStatusReason) return execution.redriveStatusReason;
  if (execution.status === 'RUNNING') return 'Execution is RUNNING and cannot be redriven';
  if (execution.status === 'SUCCEEDED') return 'Execution is SUCCEEDED and cannot be redriven';
  if (execution.stopDate && Date.now() - execution.stopDate.getTime() > 14 * 86_400_000)
    return 'Execution redrivable period exceeded';
  return undefined;
}

function sfnJson(value: unknown): FakeResponse {
  return { headers: { 'content-type': 'application/x-amz-json-1.0' }, body: JSON.stringify(value) };
}

function sfnError(type: string, message: string): FakeResponse {
  return {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({ __type: `com.amazonaws.swf.service.v2.model#${type}`, message }),
  };
}

/**
 * Points the SDK's default provider chain at a fake through the environment, as a user's shell would:
 * region and dummy credentials from the environment (AWS_PROFILE cleared, since it makes the chain skip
 * them), and the service endpoint from `AWS_ENDPOINT_URL_<SERVICE>`. Undo with `vi.unstubAllEnvs()`.
 */
export function stubDefaultChain(
  stubEnv: (name: string, value: string) => unknown,
  service: string,
  fake: { readonly endpoint: string },
  region: string,
): void {
  stubEnv('AWS_PROFILE', '');
  stubEnv('AWS_REGION', region);
  stubEnv('AWS_ACCESS_KEY_ID', FAKE_CREDENTIALS.accessKeyId);
  stubEnv('AWS_SECRET_ACCESS_KEY', FAKE_CREDENTIALS.secretAccessKey);
  stubEnv('AWS_SESSION_TOKEN', '');
  stubEnv(`AWS_ENDPOINT_URL_${service}`, fake.endpoint);
}
