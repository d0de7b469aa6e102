import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../bin/build-app.ts';
import { UnmappedBucketError } from '../../lib/constructs/data-access.ts';
import { Pipeline } from '../../lib/constructs/pipeline.ts';
import { PipelineStack } from '../../lib/constructs/pipeline-stack.ts';
import { quarantineKeysMatch, watchedQuarantines } from '../../lib/spec/bucket-uses.ts';
import { lambda, s3ObjectCreated } from '../../lib/spec/index.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { CHECK_HANDLER, STEP_HANDLER, testPipeline } from '../private/specs.ts';
import {
  actionsOf,
  removeOutdir,
  roleStatements,
  templateText,
  tempOutdir,
  testApp,
} from '../private/synth.ts';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

const s3Statements = (template: Template, roleId: string) =>
  roleStatements(template, roleId)
    .filter((s) => actionsOf(s).some((a) => a.startsWith('s3:') || a.startsWith('kms:')))
    .map((s) => ({ Action: actionsOf(s), Resource: templateText(s.Resource) }));

/** The role of the one function whose description starts so, and the function's environment. */
function handlerOf(
  template: Template,
  description: string,
): { roleId: string; env: Record<string, unknown> } {
  const found = Object.values(
    template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp(`^${description}`) },
    }) as Resources,
  );
  expect(found).toHaveLength(1);
  const props = (found[0] as Resources[string]).Properties;
  return {
    roleId: (props.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0],
    env: (props.Environment as { Variables: Record<string, unknown> }).Variables,
  };
}

describe('the reference app', () => {
  let outdir: string;
  let template: Template;
  let raw: string;

  beforeAll(() => {
    outdir = tempOutdir();
    const app = buildApp({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = app.node.findChild('Orders') as Stack;
    template = Template.fromStack(stack);
    const buckets = Object.keys(
      template.findResources('AWS::S3::Bucket', {
        Properties: { VersioningConfiguration: Match.anyValue() },
      }),
    );
    expect(buckets).toHaveLength(1);
    raw = buckets[0] as string;
  });

  afterAll(() => removeOutdir(outdir));

  it('lets the handler that reads raw get, head and list that bucket, and nothing else', () => {
    expect(s3Statements(template, handlerOf(template, 'stepwise orders: ingest').roleId)).toEqual([
      { Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `\${${raw}.Arn}/*` },
      { Action: ['s3:ListBucket'], Resource: `\${${raw}.Arn}` },
    ]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['s3:GetObject', 's3:GetObjectVersion'],
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [raw, 'Arn'] }, '/*']] },
          }),
        ]),
      },
      Roles: [{ Ref: handlerOf(template, 'stepwise orders: ingest').roleId }],
    });
  });

  it('lets the handler that writes raw put objects and finish multipart uploads there, and not read', () => {
    expect(s3Statements(template, handlerOf(template, 'stepwise orders: publish').roleId)).toEqual([
      {
        Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: `\${${raw}.Arn}/*`,
      },
    ]);
  });

  it('gives a task that reads and writes both, on the same bucket only', () => {
    expect(s3Statements(template, handlerOf(template, 'stepwise orders: transform').roleId)).toEqual([
      { Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `\${${raw}.Arn}/*` },
      { Action: ['s3:ListBucket'], Resource: `\${${raw}.Arn}` },
      {
        Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: `\${${raw}.Arn}/*`,
      },
    ]);
  });

  it("holds no spec short name as a bucket name: no function's environment holds the literal raw", () => {
    const functions = template.findResources('AWS::Lambda::Function') as Resources;
    const values = Object.values(functions).flatMap((fn) => {
      const env = fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined;
      return Object.values(env?.Variables ?? {}).map(templateText);
    });
    expect(values.length).toBeGreaterThan(5);
    for (const value of values) {
      expect(value).not.toBe('raw');
      expect(value).not.toMatch(/"raw"\s*[,}]/);
    }
    expect(
      JSON.parse(templateText(handlerOf(template, 'stepwise orders: ingest').env.STEPWISE_BUCKETS)),
    ).toEqual({
      raw: `\${${raw}}`,
    });
    const rule = Object.values(
      template.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { source: ['aws.s3'] } },
      }) as Resources,
    );
    expect(rule.map((r) => (r.Properties.EventPattern as { detail: unknown }).detail)).toEqual([
      { bucket: { name: [{ Ref: raw }] }, object: { key: [{ wildcard: 'orders/*.csv' }] } },
    ]);
  });

  it('names the execution log group under /aws/vendedlogs/states/, unique to the stack instance, and keeps it', () => {
    // Retained when the stack goes, so a fixed name would collide with the next stack of that name:
    // the name ends in the UUID of the stack's id, which CloudFormation makes anew for each stack.
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: {
        LogGroupName: {
          'Fn::Join': [
            '',
            [
              '/aws/vendedlogs/states/stepwise-Orders-orders-',
              { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
            ],
          ],
        },
        RetentionInDays: 90,
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    const machines = template.findResources('AWS::StepFunctions::StateMachine') as Resources;
    const logGroups = template.findResources('AWS::Logs::LogGroup') as Resources;
    for (const machine of Object.values(machines)) {
      const destination = (
        machine.Properties.LoggingConfiguration as {
          Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string] } } }[];
        }
      ).Destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0] as string;
      const name = logGroups[destination]?.Properties.LogGroupName as
        | { 'Fn::Join': [string, [string, unknown]] }
        | undefined;
      const [prefix, uuid] = name?.['Fn::Join'][1] ?? [];
      expect(prefix).toMatch(/^\/aws\/vendedlogs\/states\/stepwise-Orders-[a-z-]+-$/);
      expect(uuid).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] });
    }
  });
});

describe('bucket mapping', () => {
  const reader = testPipeline(
    {
      load: { run: lambda(STEP_HANDLER, { reads: ['landing'], writes: ['curated'] }) },
      check: { run: lambda(CHECK_HANDLER, { reads: ['curated'] }), after: ['load'] },
    },
    {
      name: 'curate',
      triggers: [s3ObjectCreated({ bucket: 'landing', prefix: 'in/' })],
      quarantine: { prefix: 'bad/', bucket: 'rejects' },
    },
  );

  function stackWith(build: (stack: Stack) => void): { template: Template; outdir: string } {
    const { app, outdir } = testApp({ bundle: false });
    const stack = new Stack(app, 'Data');
    build(stack);
    return { template: Template.fromStack(stack), outdir };
  }

  it('fails when the spec uses bucket names buckets does not map, listing each with where it is used', () => {
    const { app, outdir } = testApp({ bundle: false });
    const stack = new Stack(app, 'Data');
    const landing = new s3.Bucket(stack, 'Landing');
    try {
      expect(
        () => new Pipeline(stack, 'Curate', { spec: reader, buckets: { landing } }),
      ).toThrowErrorMatchingInlineSnapshot(`
        [UnmappedBucketError: pipeline 'curate' uses bucket names that \`buckets\` does not map to a real bucket:
          'curated', used at tasks.load.run.writes[0], tasks.check.run.reads[0]
          'rejects', used at quarantine.bucket
        Map each one to a bucket (any s3.IBucket): new Pipeline(scope, id, { spec, buckets: { 'curated': curatedBucket, 'rejects': rejectsBucket } }); mapped now: 'landing'. A spec name is never used as a real bucket name.]
      `);
      expect(() => new Pipeline(stack, 'Again', { spec: reader })).toThrow(UnmappedBucketError);
    } finally {
      removeOutdir(outdir);
    }
  });

  it('passes the quarantine bucket’s real name to the definition as QuarantineBucket', () => {
    const { template, outdir } = stackWith((stack) => {
      new Pipeline(stack, 'Curate', {
        spec: reader,
        buckets: {
          landing: new s3.Bucket(stack, 'Landing'),
          curated: new s3.Bucket(stack, 'Curated'),
          rejects: new s3.Bucket(stack, 'Rejects'),
        },
      });
    });
    try {
      const rejects = Object.keys(template.findResources('AWS::S3::Bucket')).find((id) =>
        id.startsWith('Rejects'),
      );
      const machine = Object.values(
        template.findResources('AWS::StepFunctions::StateMachine') as Resources,
      )[0];
      expect(machine?.Properties.DefinitionSubstitutions).toMatchObject({
        QuarantineBucket: { Ref: rejects },
      });
      expect(templateText(machine?.Properties.DefinitionString)).toContain(`\${QuarantineBucket}`);
      expect(templateText(machine?.Properties.DefinitionString)).not.toContain('"rejects"');
    } finally {
      removeOutdir(outdir);
    }
  });

  it('grants a shared handler the union of its tasks, and decrypts with a bucket’s KMS key', () => {
    const shared = testPipeline({
      a: { run: lambda(STEP_HANDLER, { reads: ['landing'] }) },
      b: { run: lambda(STEP_HANDLER, { writes: ['curated'] }), after: ['a'] },
    });
    let keyId = '';
    const { template, outdir } = stackWith((stack) => {
      const key = new kms.Key(stack, 'Key');
      keyId = stack.getLogicalId(key.node.defaultChild as never);
      new Pipeline(stack, 'Shared', {
        spec: shared,
        buckets: {
          landing: new s3.Bucket(stack, 'Landing', { encryptionKey: key }),
          curated: new s3.Bucket(stack, 'Curated'),
        },
      });
    });
    try {
      const fn = handlerOf(template, 'stepwise test: a, b');
      const landing = Object.keys(template.findResources('AWS::S3::Bucket')).find((id) =>
        id.startsWith('Landing'),
      );
      const curated = Object.keys(template.findResources('AWS::S3::Bucket')).find((id) =>
        id.startsWith('Curated'),
      );
      expect(s3Statements(template, fn.roleId)).toEqual([
        { Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `\${${landing}.Arn}/*` },
        { Action: ['s3:ListBucket'], Resource: `\${${landing}.Arn}` },
        { Action: ['kms:Decrypt'], Resource: `\${${keyId}.Arn}` },
        {
          Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          Resource: `\${${curated}.Arn}/*`,
        },
      ]);
      expect(JSON.parse(templateText(fn.env.STEPWISE_BUCKETS))).toEqual({
        landing: `\${${landing}}`,
        curated: `\${${curated}}`,
      });
    } finally {
      removeOutdir(outdir);
    }
  });

  it("returns a task's function for grants of the user's own", () => {
    const { template, outdir } = stackWith((stack) => {
      const pipeline = new Pipeline(stack, 'Curate', {
        spec: reader,
        buckets: {
          landing: new s3.Bucket(stack, 'Landing'),
          curated: new s3.Bucket(stack, 'Curated'),
          rejects: new s3.Bucket(stack, 'Rejects'),
        },
      });
      const table = new dynamodb.TableV2(stack, 'Lookups', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      });
      table.grantReadData(pipeline.taskFunction('check'));
      expect(pipeline.taskFunction('check')).toBe(pipeline.functions.get('check')?.function);
      expect(() => pipeline.taskFunction('chek')).toThrowErrorMatchingInlineSnapshot(
        `[Error: pipeline 'curate' has no task 'chek' (did you mean 'check'?); its tasks are 'load', 'check']`,
      );
    });
    try {
      const statements = roleStatements(template, handlerOf(template, 'stepwise curate: check').roleId);
      expect(statements.flatMap(actionsOf)).toContain('dynamodb:GetItem');
      expect(
        roleStatements(template, handlerOf(template, 'stepwise curate: load').roleId).flatMap(actionsOf),
      ).not.toContain('dynamodb:GetItem');
    } finally {
      removeOutdir(outdir);
    }
  });
});

describe('PipelineStack buckets', () => {
  const spec = testPipeline(
    { load: { run: lambda(STEP_HANDLER, { reads: ['landing'], writes: ['curated'] }) } },
    { name: 'curate', triggers: [s3ObjectCreated({ bucket: 'landing', prefix: 'in/' })] },
  );

  it('creates a DataBucket for each name not given, and imports one given by its real name', () => {
    const { app, outdir } = testApp({ bundle: false });
    try {
      const stack = new PipelineStack(app, 'Curate', {
        pipelines: [spec],
        buckets: { curated: 'acme-curated' },
      });
      const template = Template.fromStack(stack);
      // The landing bucket, and its access-log bucket; nothing for curated.
      template.resourceCountIs('AWS::S3::Bucket', 2);
      template.hasResourceProperties('AWS::S3::Bucket', {
        VersioningConfiguration: { Status: 'Enabled' },
        NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
      });
      const fn = handlerOf(template, 'stepwise curate: load');
      const landing = stack.getLogicalId(stack.buckets.get('landing')?.node.defaultChild as never);
      expect(JSON.parse(templateText(fn.env.STEPWISE_BUCKETS))).toEqual({
        landing: `\${${landing}}`,
        curated: 'acme-curated',
      });
      expect(s3Statements(template, fn.roleId).at(-1)).toEqual({
        Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: `arn:\${AWS::Partition}:s3:::acme-curated/*`,
      });
    } finally {
      removeOutdir(outdir);
    }
  });
});

describe('quarantine loops', () => {
  const everyCsv = (name: string, quarantine: { prefix: string; bucket?: string }) =>
    testPipeline(
      { load: { run: lambda(STEP_HANDLER, { reads: ['raw'] }) } },
      { name, triggers: [s3ObjectCreated({ bucket: 'raw', suffix: '.csv' })], quarantine },
    );

  function synth(pipelines: PipelineDefinition[]): void {
    const { app, outdir } = testApp({ bundle: false });
    try {
      new PipelineStack(app, 'Loops', { pipelines });
      app.synth();
    } finally {
      removeOutdir(outdir);
    }
  }

  it('fails when a pipeline triggered by every .csv quarantines into the same bucket, naming both', () => {
    // The spec alone shows this loop, so definePipeline (and validate) refuses it before any synth.
    expect(() => everyCsv('csv', { prefix: 'quarantine/' })).toThrow(
      /quarantine\.prefix: objects quarantined to 'raw' would start this pipeline again: its trigger triggers\[0\] \(s3ObjectCreated '\*\.csv'\) watches/,
    );
    // Two pipelines on one real bucket: only the synth, which knows the real buckets, sees the loop.
    const watcher = testPipeline(
      { scan: {} },
      {
        name: 'scan',
        triggers: [s3ObjectCreated({ bucket: 'raw', suffix: '.csv' })],
        quarantine: { prefix: 'quarantine/', bucket: 'rejects' },
      },
    );
    const mover = testPipeline(
      { load: {} },
      { name: 'mover', triggers: [s3ObjectCreated({ bucket: 'raw', prefix: 'in/', suffix: '.csv' })] },
    );
    expect(() => synth([mover, watcher])).toThrow(
      /pipeline 'mover': quarantine \(prefix 'quarantine\/'\) moves bad objects to 'quarantine\/in\/\*\.csv' in bucket 'raw', which pipeline 'scan' trigger triggers\[0\] \(s3ObjectCreated '\*\.csv'\) watches/,
    );
  });

  it("fails when the quarantine lands where another pipeline's trigger watches", () => {
    const watcher = testPipeline(
      { scan: {} },
      { name: 'scan', triggers: [s3ObjectCreated({ bucket: 'rejects', prefix: 'bad/' })] },
    );
    const mover = testPipeline(
      { load: {} },
      {
        name: 'mover',
        triggers: [s3ObjectCreated({ bucket: 'raw', prefix: 'in/' })],
        quarantine: { prefix: 'bad/', bucket: 'rejects' },
      },
    );
    expect(() => synth([mover, watcher])).toThrow(/trigger triggers\[0\] \(s3ObjectCreated 'bad\/\*'\)/);
  });

  it('matches the keys a quarantine writes against a trigger’s prefix and suffix', () => {
    const cases = [
      ['quarantine/', { suffix: '.csv' }, { suffix: '.csv' }, true],
      ['quarantine/', { prefix: 'orders/', suffix: '.csv' }, { prefix: 'orders/', suffix: '.csv' }, false],
      ['quarantine/', { prefix: 'orders/' }, { prefix: 'quarantine/' }, true],
      ['q/', {}, { prefix: 'q/orders/' }, true],
      ['q/', { suffix: '.csv' }, { suffix: 'x.csv' }, true],
      ['q/', { suffix: '.csv' }, { suffix: '.json' }, false],
      ['q/', { prefix: 'in/' }, { prefix: 'in/*', suffix: '.csv' }, false],
    ] as const;
    expect(cases.map(([prefix, source, watch]) => quarantineKeysMatch(prefix, source, watch))).toEqual(
      cases.map((c) => c[3]),
    );
  });

  it('finds, from the spec alone, a trigger that watches its own quarantine', () => {
    const elsewhere = everyCsv('csv', { prefix: 'quarantine/', bucket: 'rejects' });
    const looping = { ...elsewhere, quarantine: { prefix: 'quarantine/' } };
    expect(watchedQuarantines(looping)).toEqual([
      {
        path: 'triggers[0]',
        trigger: { kind: 's3ObjectCreated', bucket: 'raw', suffix: '.csv' },
        source: { kind: 's3ObjectCreated', bucket: 'raw', suffix: '.csv' },
      },
    ]);
    expect(watchedQuarantines(elsewhere)).toEqual([]);
  });

  it('accepts a trigger prefix the quarantine keys do not start with, or a quarantine bucket of its own', () => {
    const prefixed = testPipeline(
      { load: {} },
      { name: 'prefixed', triggers: [s3ObjectCreated({ bucket: 'raw', prefix: 'in/', suffix: '.csv' })] },
    );
    expect(() => synth([prefixed])).not.toThrow();
    expect(() => synth([everyCsv('elsewhere', { prefix: 'quarantine/', bucket: 'rejects' })])).not.toThrow();
  });
});
