// httpCall: the compiled HTTP Task, the role's grants (the URL and method as conditions), the spec
// checks, and local runs through a stand-in.
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../lib/compile/states.ts';
import { Pipeline } from '../../lib/constructs/pipeline.ts';
import { definePipeline, httpCall } from '../../lib/spec/index.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { taskRows } from '../faults/local-faults.ts';
import { CONNECTION } from '../fixtures/http/pipeline.ts';
import { aslValidatorErrors } from '../private/asl.ts';
import { deployedDefinition, issuesOf, localServiceRuns, taskState } from './service-runs.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/http/${name}`, import.meta.url));
const specFile = fixture('pipeline.ts');

function spec(tasks: Record<string, unknown>): PipelineDefinition {
  return definePipeline({ name: 'http-spec', tasks } as never, { specFile });
}

describe('httpCall, compiled', () => {
  const definition = compilePipeline(
    spec({
      push: {
        run: httpCall({
          url: 'https://crm.example.com/api/v1/sync',
          method: 'POST',
          connection: CONNECTION,
          query: { source: 'stepwise' },
          body: { table: 'orders' },
        }),
      },
    }),
  ).definition;
  const task = taskState(definition, 'push');

  it('is one http:invoke Task with the connection, and the run identity in headers', () => {
    expect(task).toMatchObject({
      Type: 'Task',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
      Resource: 'arn:${Partition}:states:::http:invoke',
      Parameters: {
        ApiEndpoint: 'https://crm.example.com/api/v1/sync',
        Method: 'POST',
        Authentication: { ConnectionArn: CONNECTION },
        Headers: {
          'X-Stepwise-Run-Id.$': '$.run.id',
          'X-Stepwise-Pipeline.$': '$.run.pipeline',
          'X-Stepwise-Logical-Time.$': '$.run.logicalTime',
        },
        QueryParameters: { source: 'stepwise' },
        RequestBody: { table: 'orders' },
      },
      ResultSelector: { 'statusCode.$': '$.StatusCode', 'statusText.$': '$.StatusText' },
      TimeoutSeconds: 300,
    });
  });

  it('retries 429 and the gateway statuses first, then 2 attempts, 10 s apart', () => {
    expect(task.Retry).toEqual([
      expect.objectContaining({ MaxAttempts: 0 }),
      {
        ErrorEquals: [
          'States.Http.StatusCode.429',
          'States.Http.StatusCode.502',
          'States.Http.StatusCode.503',
          'States.Http.StatusCode.504',
        ],
        IntervalSeconds: 2,
        MaxAttempts: 3,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      },
      expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 1, IntervalSeconds: 10 }),
    ]);
  });

  it('selects the response body only when asked', () => {
    const withBody = compilePipeline(
      spec({
        get: { run: httpCall({ url: 'https://a.example/x', connection: CONNECTION, returnBody: true }) },
      }),
    ).definition;
    expect(taskState(withBody, 'get').ResultSelector).toEqual({
      'statusCode.$': '$.StatusCode',
      'statusText.$': '$.StatusText',
      'body.$': '$.ResponseBody',
    });
  });

  it('passes asl-validator', () => {
    expect(aslValidatorErrors(deployedDefinition(definition))).toEqual([]);
  });
});

describe('httpCall, checked by definePipeline', () => {
  it('refuses a plain-http URL, a URL with a query, a bad connection and a refused header, every one at once', () => {
    expect(
      issuesOf(() =>
        spec({
          a: { run: httpCall({ url: 'http://a.example/x', connection: 'crm' }) },
          b: {
            run: httpCall({
              url: 'https://a.example/x?y=1',
              connection: CONNECTION,
              headers: { Authorization: 'Bearer x' },
            }),
          },
        }),
      ),
    ).toEqual([
      "tasks.a.run.url: is not an https:// URL without a query string (give query parameters in 'query'), received 'http://a.example/x'",
      "tasks.a.run.connection: is not an EventBridge connection ARN, like 'arn:aws:events:eu-west-1:123456789012:connection/crm/6b1f...', received 'crm'",
      "tasks.b.run.url: is not an https:// URL without a query string (give query parameters in 'query'), received 'https://a.example/x?y=1'",
      'tasks.b.run.headers.Authorization: is a header Step Functions sets or refuses; put credentials in the connection',
    ]);
  });

  it('refuses a body on a GET', () => {
    expect(
      issuesOf(() =>
        spec({
          a: { run: httpCall({ url: 'https://a.example/x', connection: CONNECTION, body: { x: 1 } }) },
        }),
      ),
    ).toEqual(["tasks.a.run.body: a GET request has no body; use method: 'POST' or drop body"]);
  });
});

describe('httpCall, synthesized', () => {
  const stack = new Stack(new App(), 'Http', { env: { account: '111122223333', region: 'eu-west-1' } });
  new Pipeline(stack, 'P', {
    spec: spec({
      push: {
        run: httpCall({ url: 'https://crm.example.com/api/v1/sync', method: 'POST', connection: CONNECTION }),
      },
    }),
  });
  const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[],
  );
  const find = (action: string) =>
    statements.filter((s) => ([] as unknown[]).concat(s.Action).includes(action));

  it('lets the role call the one URL with the one method', () => {
    expect(find('states:InvokeHTTPEndpoint')).toEqual([
      {
        Effect: 'Allow',
        Action: 'states:InvokeHTTPEndpoint',
        Resource: '*',
        Condition: {
          StringEquals: { 'states:HTTPMethod': 'POST' },
          StringLike: { 'states:HTTPEndpoint': 'https://crm.example.com/api/v1/sync' },
        },
      },
    ]);
  });

  it("reads the one connection's credentials, and only its secret", () => {
    expect(find('events:RetrieveConnectionCredentials').map((s) => s.Resource)).toEqual([CONNECTION]);
    expect(find('secretsmanager:GetSecretValue')).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:events!connection/crm/*',
      },
    ]);
  });
});

describe('httpCall, run locally through its stand-in', () => {
  const local = localServiceRuns('http-run', fixture, (a) =>
    a.includes('events:RetrieveConnectionCredentials'),
  );

  it('SUCCEEDS, with one attempt of each task', () => {
    expect(local.runs.ok.status).toBe('SUCCEEDED');
    expect(taskRows(local.runs.ok)).toEqual([
      ['push', 'SUCCEEDED', 1],
      ['report', 'SUCCEEDED', 1],
    ]);
  });

  it("gives the stand-in the HTTP Task's request with the run's headers, and the task downstream the status and body", () => {
    expect((local.runs.outputs.push as { request: unknown }).request).toEqual({
      ApiEndpoint: 'https://crm.example.com/api/v1/sync',
      Method: 'POST',
      Authentication: { ConnectionArn: CONNECTION },
      Headers: {
        'Content-Type': 'application/json',
        'X-Stepwise-Run-Id': local.runs.ok.runId,
        'X-Stepwise-Pipeline': 'http-push',
        'X-Stepwise-Logical-Time': expect.any(String),
      },
      QueryParameters: { source: 'stepwise' },
      RequestBody: { table: 'orders' },
    });
    expect(local.runs.outputs.report).toEqual({
      got: { statusCode: 202, statusText: 'Accepted', body: '{"accepted":true}' },
    });
  });

  it('fails the run at the task after its 2 attempts when the API fails, with the stand-in’s message', () => {
    expect(local.runs.failed.status).toBe('FAILED');
    expect(taskRows(local.runs.failed)).toEqual([['push', 'FAILED', 2]]);
    expect(local.runs.failed.error).toMatchObject({ task: 'push', error: 'States.TaskFailed' });
    expect(local.runs.failed.error?.message).toContain('500 Internal Server Error');
  });

  it("fails the task with AccessDenied when the role may not read the connection's credentials", () => {
    expect(local.runs.denied.status).toBe('FAILED');
    expect(local.runs.denied.error?.error).toMatch(/AccessDeniedException$/);
    expect(local.runs.denied.error?.message).toContain(
      `is not authorized to perform: events:RetrieveConnectionCredentials`,
    );
  });

  it('refuses an HTTP task without a stand-in before any run starts, naming the task', () => {
    expect(local.refused.code).not.toBe(0);
    expect(local.refused.stderr).toContain("task 'push' runs http:invoke");
    expect(local.refused.stderr).toContain("add local: './stand-ins/push.ts' to its httpCall(...) options");
  });
});
