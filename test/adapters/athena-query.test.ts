// athenaQuery: the compiled state, the role's grants, the spec checks, and local runs through a
// stand-in (success with the query's .sql file and run parameters, failure after retries, a denied call,
// no stand-in).
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../lib/compile/states.ts';
import { Pipeline } from '../../lib/constructs/pipeline.ts';
import { athenaQuery, definePipeline } from '../../lib/spec/index.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { taskRows } from '../faults/local-faults.ts';
import { aslValidatorErrors } from '../private/asl.ts';
import { deployedDefinition, issuesOf, localServiceRuns, taskState } from './service-runs.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/athena/${name}`, import.meta.url));
const specFile = fixture('pipeline.ts');

function spec(tasks: Record<string, unknown>): PipelineDefinition {
  return definePipeline({ name: 'athena-spec', tasks } as never, { specFile });
}

const QUERY =
  'SELECT count(*) AS changes FROM orders_changes WHERE run_id = ? AND changed_at < from_iso8601_timestamp(?)';

describe('athenaQuery, compiled', () => {
  const pipeline = spec({
    stage: {
      run: athenaQuery({
        file: './query.sql',
        parameters: ['runId', 'logicalTime'],
        database: 'lake',
        output: { bucket: 'results', prefix: 'stage/' },
      }),
    },
  });
  const definition = compilePipeline(pipeline).definition;
  const task = taskState(definition, 'stage');

  it('is one Task state calling athena:startQueryExecution.sync with the .sql file read in, the run parameters quoted, and results under the run id', () => {
    expect(task).toMatchObject({
      Type: 'Task',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
      Resource: 'arn:${Partition}:states:::athena:startQueryExecution.sync',
      Parameters: {
        QueryString: QUERY,
        WorkGroup: 'primary',
        QueryExecutionContext: { Database: 'lake' },
        ResultConfiguration: {
          'OutputLocation.$':
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
            "States.Format('s3://${Adapter_stage_outputBucket}/stage/{}/', $.run.id)",
        },
        'ExecutionParameters.$':
          "States.Array(States.Format('\\'{}\\'', $.run.id), States.Format('\\'{}\\'', $.run.logicalTime))",
      },
      ResultSelector: {
        'queryExecutionId.$': '$.QueryExecution.QueryExecutionId',
        'state.$': '$.QueryExecution.Status.State',
        'outputLocation.$': '$.QueryExecution.ResultConfiguration.OutputLocation',
      },
      ResultPath: '$.results.stage',
      TimeoutSeconds: 3600,
    });
  });

  it("retries Athena's throttling first, then the adapter's policy: 2 attempts, 30 s apart", () => {
    expect(task.Retry).toEqual([
      expect.objectContaining({ MaxAttempts: 0 }),
      {
        ErrorEquals: ['Athena.TooManyRequestsException', 'Athena.ThrottlingException'],
        IntervalSeconds: 10,
        MaxAttempts: 5,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      },
      expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 1, IntervalSeconds: 30 }),
    ]);
  });

  it('passes asl-validator', () => {
    expect(aslValidatorErrors(deployedDefinition(definition))).toEqual([]);
  });
});

describe('athenaQuery, checked by definePipeline', () => {
  it('refuses neither sql nor file, and both, naming the field', () => {
    expect(issuesOf(() => spec({ a: { run: athenaQuery({ output: { bucket: 'r' } }) } }))).toEqual([
      "tasks.a.run.sql: no query: give sql: 'SELECT ...' or file: './sql/stage.sql'",
    ]);
    expect(
      issuesOf(() =>
        spec({ a: { run: athenaQuery({ sql: 'SELECT 1', file: './q.sql', output: { bucket: 'r' } }) } }),
      ),
    ).toEqual(['tasks.a.run.file: both sql and file are given; keep one']);
  });

  it('refuses a query file that does not exist, saying where it looked', () => {
    expect(
      issuesOf(() => spec({ a: { run: athenaQuery({ file: './missing.sql', output: { bucket: 'r' } }) } })),
    ).toEqual([
      expect.stringMatching(
        /^tasks\.a\.run\.file: query file '\.\/missing\.sql' not found \(looked at .*test\/fixtures\/athena\/missing\.sql\); paths are relative to the spec file$/,
      ),
    ]);
  });

  it('refuses a bad workgroup, prefix, database and parameter, every one at once', () => {
    const issues = issuesOf(() =>
      spec({
        a: {
          run: athenaQuery({
            sql: 'SELECT 1',
            workgroup: 'my group',
            database: 'Lake',
            output: { bucket: 'r', prefix: 'no-slash' },
            parameters: ['runid' as never],
          }),
        },
      }),
    );
    expect(issues).toEqual([
      expect.stringMatching(/^tasks\.a\.run\.output\.prefix: is not a key prefix/),
      expect.stringMatching(/^tasks\.a\.run\.workgroup: is not an Athena workgroup name/),
      expect.stringMatching(/^tasks\.a\.run\.database: is not a Glue database name/),
      expect.stringMatching(/^tasks\.a\.run\.parameters\[0\]: /),
    ]);
  });
});

describe('athenaQuery, synthesized', () => {
  const stack = new Stack(new App(), 'Athena', { env: { account: '111122223333', region: 'eu-west-1' } });
  const results = new s3.Bucket(stack, 'Results');
  const lake = new s3.Bucket(stack, 'Lake');
  new Pipeline(stack, 'P', {
    spec: spec({
      stage: {
        run: athenaQuery({
          sql: 'INSERT INTO t SELECT 1',
          database: 'lake',
          tables: ['orders', 't'],
          output: { bucket: 'results' },
          reads: ['lake'],
          writes: ['lake'],
        }),
      },
    }),
    buckets: { results, lake },
  });
  const template = Template.fromStack(stack);
  const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
  );
  const grantOf = (action: string) =>
    statements.filter((s) => ([] as string[]).concat(s.Action).includes(action)).map((s) => s.Resource);
  const arn = (service: string, rest: string) => ({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:eu-west-1:111122223333:${rest}`]],
  });
  const bucketArn = (id: string) => ({ 'Fn::GetAtt': [logicalId(template, id), 'Arn'] });

  it('grants start, poll and stop on the one workgroup, and the one data catalog', () => {
    expect(grantOf('athena:StartQueryExecution')).toEqual([arn('athena', 'workgroup/primary')]);
    expect(grantOf('athena:StopQueryExecution')).toEqual([arn('athena', 'workgroup/primary')]);
    expect(grantOf('athena:GetDataCatalog')).toEqual([arn('athena', 'datacatalog/AwsDataCatalog')]);
  });

  it('grants catalog reads, and with writes catalog writes, on the database and its named tables only', () => {
    const catalog = [
      arn('glue', 'catalog'),
      arn('glue', 'database/lake'),
      arn('glue', 'table/lake/orders'),
      arn('glue', 'table/lake/t'),
    ];
    expect(grantOf('glue:GetTable')).toEqual([catalog]);
    expect(grantOf('glue:CreateTable')).toEqual([catalog]);
    expect(grantOf('glue:DeleteTable')).toEqual([]);
    expect(grantOf('lakeformation:GetDataAccess')).toEqual([]);
  });

  it("writes results only under the output prefix, and reads and writes the lake's objects", () => {
    expect(grantOf('s3:PutObject')).toEqual([
      { 'Fn::Join': ['', [bucketArn('Results'), '/athena-results/*']] },
      { 'Fn::Join': ['', [bucketArn('Lake'), '/*']] },
    ]);
    expect(grantOf('s3:GetBucketLocation')).toEqual([bucketArn('Results'), bucketArn('Lake')]);
    expect(grantOf('s3:GetObject')).toEqual([
      { 'Fn::Join': ['', [bucketArn('Results'), '/athena-results/*']] },
      { 'Fn::Join': ['', [bucketArn('Lake'), '/*']] },
    ]);
  });

  it('fills the output bucket into the definition', () => {
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    expect(machine?.Properties.DefinitionSubstitutions.Adapter_stage_outputBucket).toEqual({
      Ref: logicalId(template, 'Results'),
    });
  });
});

describe('athenaQuery, run locally through its stand-in', () => {
  const local = localServiceRuns('athena-run', fixture, (a) => a.includes('athena:'));

  it('SUCCEEDS, with one attempt of each task in the ledger', () => {
    expect(local.runs.ok.status).toBe('SUCCEEDED');
    expect(taskRows(local.runs.ok)).toEqual([
      ['stage', 'SUCCEEDED', 1],
      ['report', 'SUCCEEDED', 1],
    ]);
  });

  it("gives the stand-in the file's query, the run id and logical time as quoted strings, and results under the run id", () => {
    const request = (local.runs.outputs.stage as { request: Record<string, unknown> }).request;
    expect(request).toEqual({
      QueryString: QUERY,
      WorkGroup: 'primary',
      QueryExecutionContext: { Database: 'lake' },
      ResultConfiguration: {
        OutputLocation: expect.stringMatching(new RegExp(`^s3://[^/]+/stage/${local.runs.ok.runId}/$`)),
      },
      ExecutionParameters: [
        `'${local.runs.ok.runId}'`,
        expect.stringMatching(/^'\d{4}-\d\d-\d\dT[\d:.]+Z'$/),
      ],
    });
  });

  it("hands the task downstream the query's small result", () => {
    expect(local.runs.outputs.report).toEqual({
      got: {
        queryExecutionId: 'q-local-1',
        state: 'SUCCEEDED',
        outputLocation: expect.stringMatching(new RegExp(`/stage/${local.runs.ok.runId}/q-local-1\\.csv$`)),
      },
    });
  });

  it('fails the run at the task after its 2 attempts when the query fails, with the stand-in’s message', () => {
    expect(local.runs.failed.status).toBe('FAILED');
    expect(taskRows(local.runs.failed)).toEqual([['stage', 'FAILED', 2]]);
    expect(local.runs.failed.error).toMatchObject({ task: 'stage', error: 'States.TaskFailed' });
    expect(local.runs.failed.error?.message).toContain('COLUMN_NOT_FOUND: fail');
  });

  it("fails the task with Athena's AccessDeniedException when the role may not start queries", () => {
    expect(local.runs.denied.status).toBe('FAILED');
    expect(local.runs.denied.error?.error).toBe('Athena.AccessDeniedException');
    expect(local.runs.denied.error?.message).toMatch(
      /is not authorized to perform: athena:StartQueryExecution on resource: .*arn:aws:athena:us-east-1:000000000000:workgroup\/primary/,
    );
  });

  it('refuses an Athena task without a stand-in before any run starts, naming the task and the fix', () => {
    expect(local.refused.code).not.toBe(0);
    expect(local.refused.stderr).toContain("task 'stage' runs athena:startQueryExecution.sync");
    expect(local.refused.stderr).toContain(
      "add local: './stand-ins/stage.ts' to its athenaQuery(...) options",
    );
  });
});

function logicalId(template: Template, constructId: string): string {
  const found = Object.keys(template.findResources('AWS::S3::Bucket')).filter((id) =>
    id.startsWith(constructId),
  );
  if (found.length !== 1) throw new Error(`expected one bucket ${constructId}, found ${found.join(', ')}`);
  return found[0] as string;
}
