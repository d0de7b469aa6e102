import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RemoteError } from '../../lib/remote/aws.ts';
import { remoteRedrive } from '../../lib/remote/redrive.ts';
import { type FakeEndpoint, fakeClientConfig, startFakeStepFunctions, stubDefaultChain } from './fake-aws.ts';

const DAY = 86_400_000;
const arn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:Orders:${name}`;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

let stepFunctions: FakeEndpoint;
let client: SFNClient;

beforeAll(async () => {
  // the fake Step Functions: executions in each state a redrive can meet
  stepFunctions = await startFakeStepFunctions({
    [arn('failed')]: { status: 'FAILED', startDate: daysAgo(2), stopDate: daysAgo(2) },
    [arn('running')]: { status: 'RUNNING', startDate: daysAgo(0) },
    [arn('succeeded')]: { status: 'SUCCEEDED', startDate: daysAgo(1), stopDate: daysAgo(1) },
    [arn('old')]: { status: 'TIMED_OUT', startDate: daysAgo(30), stopDate: daysAgo(29) },
    [arn('huge')]: {
      status: 'FAILED',
      startDate: daysAgo(1),
      stopDate: daysAgo(1),
      redriveStatusReason: 'Execution history event limit exceeded.',
    },
  });
  client = new SFNClient(fakeClientConfig(stepFunctions));
});

afterAll(async () => {
  client.destroy();
  await stepFunctions.close();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

async function refusal(executionArn: string): Promise<string> {
  const error = await remoteRedrive({ executionArn, clients: { sfn: client } }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RemoteError);
  return (error as Error).message;
}

describe('remoteRedrive', () => {
  it('redrives a failed execution and says when', async () => {
    expect(await remoteRedrive({ executionArn: arn('failed'), clients: { sfn: client } })).toEqual({
      executionArn: arn('failed'),
      redriveDate: '2026-11-01T03:00:00.000Z',
    });
    const request = stepFunctions.requests.at(-1);
    expect(request?.headers['x-amz-target']).toBe('AWSStepFunctions.RedriveExecution');
    expect(request?.headers['content-type']).toBe('application/x-amz-json-1.0');
    // the SDK adds an idempotency token, so a retried request cannot redrive twice
    expect(JSON.parse(request?.body ?? '{}')).toEqual({
      executionArn: arn('failed'),
      clientToken: expect.any(String),
    });
  });

  it("uses the ARN's region unless --region says otherwise", async () => {
    stubDefaultChain(vi.stubEnv, 'SFN', stepFunctions, 'us-east-1');
    await remoteRedrive({ executionArn: arn('failed') });
    expect(stepFunctions.requests.at(-1)?.headers.authorization).toContain('/eu-west-1/states/aws4_request');
    await remoteRedrive({ executionArn: arn('failed'), region: 'eu-central-1' });
    expect(stepFunctions.requests.at(-1)?.headers.authorization).toContain(
      '/eu-central-1/states/aws4_request',
    );
  });

  it('fails when the execution is still running, saying to wait or stop it', async () => {
    expect(await refusal(arn('running'))).toMatchInlineSnapshot(
      `"execution arn:aws:states:eu-west-1:123456789012:execution:Orders:running is still running; only a stopped execution can be redriven: wait for it to end, or stop it (aws stepfunctions stop-execution --execution-arn arn:aws:states:eu-west-1:123456789012:execution:Orders:running), then redrive it"`,
    );
  });

  it('fails when the execution succeeded', async () => {
    expect(await refusal(arn('succeeded'))).toMatchInlineSnapshot(
      `"execution arn:aws:states:eu-west-1:123456789012:execution:Orders:succeeded succeeded; there is nothing to redrive"`,
    );
  });

  it('fails when the execution stopped more than 14 days ago, saying to start a new run', async () => {
    const message = await refusal(arn('old'));
    expect(message.replace(/on \S+Z, /, 'on <stopDate>, ')).toMatchInlineSnapshot(
      `"execution arn:aws:states:eu-west-1:123456789012:execution:Orders:old stopped on <stopDate>, more than 14 days ago; Step Functions redrives an execution only within 14 days of its end: start a new run of the pipeline instead"`,
    );
  });

  it('fails with the reason Step Functions gives for any other refusal', async () => {
    expect(await refusal(arn('huge'))).toMatchInlineSnapshot(
      `"execution arn:aws:states:eu-west-1:123456789012:execution:Orders:huge (FAILED) cannot be redriven: Execution history event limit exceeded."`,
    );
  });

  it('fails when the execution does not exist, naming the region', async () => {
    expect(await refusal(arn('nope'))).toMatchInlineSnapshot(
      `"execution arn:aws:states:eu-west-1:123456789012:execution:Orders:nope does not exist in eu-west-1; check the ARN (and --region, if it differs from the ARN's)"`,
    );
  });

  it('fails when what was given is not an execution ARN, before calling AWS', async () => {
    const before = stepFunctions.requests.length;
    expect(await refusal('run-1234')).toMatchInlineSnapshot(
      `"'run-1234' is not a Step Functions execution ARN; give one like arn:aws:states:eu-west-1:123456789012:execution:Orders:<run id>, the run's executionArn in the ledger"`,
    );
    expect(stepFunctions.requests.length).toBe(before);
  });
});
