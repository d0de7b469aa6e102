import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import orders from '../../examples/orders/pipeline.ts';
import { PipelineStack } from '../../lib/constructs/pipeline-stack.ts';
import sales from '../fixtures/sales/pipeline.ts';
import {
  actionsOf,
  logicalIdOf,
  type PolicyStatement,
  removeOutdir,
  resourcesOf,
  roleStatements,
  testApp,
} from '../private/synth.ts';

// Templates only: bundling is skipped here; test/constructs/cfn-validate.test.ts bundles for real.
let outdir: string;
let stack: PipelineStack;
let template: Template;

beforeAll(() => {
  const created = testApp({ bundle: false });
  outdir = created.outdir;
  stack = new PipelineStack(created.app, 'Pipelines', { pipelines: [orders, sales] });
  template = Template.fromStack(stack);
});

afterAll(() => removeOutdir(outdir));

type Resources = Record<string, { Properties: Record<string, unknown> }>;

function stateMachineOf(pipeline: string): { id: string; roleId: string; definition: string } {
  const machines = template.findResources('AWS::StepFunctions::StateMachine') as Resources;
  const fn = stack.pipelines.get(pipeline)?.stateMachine;
  if (!fn) throw new Error(`no pipeline '${pipeline}'`);
  const id = stack.getLogicalId(fn.node.defaultChild as never);
  const props = machines[id]?.Properties as {
    RoleArn: { 'Fn::GetAtt': [string, string] };
    DefinitionString: string;
  };
  return { id, roleId: props.RoleArn['Fn::GetAtt'][0], definition: props.DefinitionString };
}

function functionIdsOf(pipeline: string): string[] {
  return Object.keys(
    template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ STEPWISE_PIPELINE: pipeline }) } },
    }),
  );
}

const dispatcherId = () =>
  logicalIdOf(template, 'AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp('^stepwise dispatcher') },
  });

describe('PipelineStack', () => {
  describe('shared platform', () => {
    it('has one ledger table: keys, PITR, encryption, the byStatus index and a TTL', () => {
      template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: 'byStatus',
            KeySchema: [
              { AttributeName: 'status', KeyType: 'HASH' },
              { AttributeName: 'startedAt', KeyType: 'RANGE' },
            ],
          }),
        ],
        Replicas: [
          Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
        ],
      });
    });

    it('keeps the ledger when the stack is deleted', () => {
      template.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    it('has one alert topic, encrypted with its own rotated KMS key and refusing plain HTTP', () => {
      template.resourceCountIs('AWS::SNS::Topic', 1);
      const keyId = logicalIdOf(template, 'AWS::KMS::Key', { Properties: { EnableKeyRotation: true } });
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('has one dispatcher, which knows every pipeline state machine', () => {
      const dispatcher = dispatcherId();
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^stepwise dispatcher'),
        Environment: {
          Variables: {
            LEDGER_TABLE: { Ref: logicalIdOf(template, 'AWS::DynamoDB::GlobalTable') },
            STATE_MACHINE_ORDERS: { Ref: stateMachineOf('orders').id },
            STATE_MACHINE_SALES: { Ref: stateMachineOf('sales').id },
          },
        },
      });
      expect(dispatcher).toBeTruthy();
    });
  });

  describe('functions', () => {
    it('builds one function per distinct handler file, plus the dispatcher', () => {
      expect(functionIdsOf('orders')).toHaveLength(5);
      expect(functionIdsOf('sales')).toHaveLength(2);
      template.resourceCountIs('AWS::Lambda::Function', 5 + 2 + 1);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'stepwise sales: extract-eu, extract-us',
      });
    });

    it('runs every function on Node.js 24 on ARM64, with its own log group', () => {
      const functions = template.findResources('AWS::Lambda::Function') as Resources;
      for (const fn of Object.values(functions)) {
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
        });
      }
    });

    it('gives each function the longest task timeout and the env the spec sets', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'stepwise orders: ingest',
        Timeout: 900,
        MemorySize: 512,
        Environment: { Variables: { STEPWISE_PIPELINE: 'orders', DATA_BUCKET: 'raw' } },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'stepwise sales: load',
        Timeout: 300,
      });
    });
  });

  describe('state machines', () => {
    it('are STANDARD, log ALL to their own log group, and trace with X-Ray', () => {
      template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
      for (const pipeline of ['orders', 'sales']) {
        const { id } = stateMachineOf(pipeline);
        expect(
          (template.findResources('AWS::StepFunctions::StateMachine') as Resources)[id]?.Properties,
        ).toMatchObject({
          StateMachineType: 'STANDARD',
          TracingConfiguration: { Enabled: true },
          LoggingConfiguration: {
            Level: 'ALL',
            IncludeExecutionData: false,
            Destinations: [
              { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } },
            ],
          },
        });
      }
    });

    it('carry the compiled definition, with what the compiler emits', () => {
      const { definition } = stateMachineOf('orders');
      for (const fragment of [
        '"JitterStrategy":"FULL"',
        '"MaxDelaySeconds":60',
        '"Catch":[',
        '"Type":"Choice"',
        '"Type":"Parallel"',
        '}:states:::dynamodb:getItem"',
        '}:states:::dynamodb:putItem"',
        '}:states:::dynamodb:updateItem"',
        '}:states:::sns:publish"',
        '}:states:::aws-sdk:s3:copyObject"',
        '}:states:::aws-sdk:s3:deleteObject"',
      ]) {
        expect(definition).toContain(fragment);
      }
      expect(JSON.parse(definition)).toEqual(stack.pipelines.get('orders')?.compiled.definition);
    });

    it('fill every placeholder of the definition through DefinitionSubstitutions', () => {
      const machines = template.findResources('AWS::StepFunctions::StateMachine') as Resources;
      for (const machine of Object.values(machines)) {
        const { DefinitionString, DefinitionSubstitutions } = machine.Properties as {
          DefinitionString: string;
          DefinitionSubstitutions: Record<string, unknown>;
        };
        const placeholders = new Set(
          [...DefinitionString.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]),
        );
        expect([...placeholders].sort()).toEqual(Object.keys(DefinitionSubstitutions).sort());
      }
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        DefinitionSubstitutions: {
          Partition: { Ref: 'AWS::Partition' },
          Region: { Ref: 'AWS::Region' },
          LedgerTableName: { Ref: logicalIdOf(template, 'AWS::DynamoDB::GlobalTable') },
          AlertTopicArn: { Ref: logicalIdOf(template, 'AWS::SNS::Topic') },
          Handler_extract: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PipelinesalesHandlerextract'), 'Arn'] },
          Handler_load: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PipelinesalesHandlerload'), 'Arn'] },
        },
      });
    });
  });

  describe('triggers', () => {
    it('schedules runs with EventBridge Scheduler in the spec time zone, through the dispatcher', () => {
      template.resourceCountIs('AWS::Scheduler::Schedule', 2);
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(0 2 * * ? *)',
        ScheduleExpressionTimezone: 'Europe/Berlin',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: { 'Fn::GetAtt': [dispatcherId(), 'Arn'] },
          Input: Match.serializedJson({
            kind: 'schedule',
            pipeline: 'orders',
            time: '<aws.scheduler.scheduled-time>',
            expression: 'cron(0 2 * * ? *)',
          }),
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: Match.anyValue() }),
        },
      });
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(1 hour)',
        ScheduleExpressionTimezone: 'UTC',
      });
    });

    it('lets each schedule role invoke only the dispatcher', () => {
      const schedules = template.findResources('AWS::Scheduler::Schedule') as Resources;
      for (const schedule of Object.values(schedules)) {
        const roleId = (schedule.Properties.Target as { RoleArn: { 'Fn::GetAtt': [string] } }).RoleArn[
          'Fn::GetAtt'
        ][0];
        expect(roleStatements(template, roleId)).toEqual([
          {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: { 'Fn::GetAtt': [dispatcherId(), 'Arn'] },
          },
        ]);
      }
    });

    it('starts runs on S3 Object Created events for the prefix and suffix', () => {
      template.resourceCountIs('AWS::Events::Rule', 1);
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.s3'],
          'detail-type': ['Object Created'],
          detail: { bucket: { name: ['raw'] }, object: { key: [{ wildcard: 'orders/*.csv' }] } },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [dispatcherId(), 'Arn'] },
            InputTransformer: {
              InputPathsMap: { f1: '$' },
              InputTemplate: '{"kind":"s3","pipeline":"orders","event":<f1>}',
            },
          }),
        ],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [dispatcherId(), 'Arn'] },
      });
    });
  });

  describe('least privilege', () => {
    const lambdaStatements = (statements: PolicyStatement[]) =>
      statements.filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:') || a === '*'));

    it('lets each state machine invoke only its own functions, by exact ARN', () => {
      for (const pipeline of ['orders', 'sales']) {
        const statements = roleStatements(template, stateMachineOf(pipeline).roleId);
        const invoke = lambdaStatements(statements);
        expect(invoke.flatMap(actionsOf)).toEqual(invoke.map(() => 'lambda:InvokeFunction'));
        expect(invoke.flatMap(resourcesOf)).toEqual(
          functionIdsOf(pipeline).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })),
        );
      }
    });

    it('never grants a wildcard action, nor a wildcard resource beyond logging and tracing', () => {
      const policies = template.findResources('AWS::IAM::Policy') as Resources;
      for (const policy of Object.values(policies)) {
        const statements = (policy.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement;
        for (const statement of statements) {
          expect(actionsOf(statement).filter((a) => a.endsWith('*'))).toEqual([]);
          if (resourcesOf(statement).includes('*')) {
            expect(actionsOf(statement).every((a) => a.startsWith('logs:') || a.startsWith('xray:'))).toBe(
              true,
            );
          }
        }
      }
    });

    it('lets state machines read back and write the ledger run row (GetItem, PutItem, UpdateItem) on the table ARN only', () => {
      const table = logicalIdOf(template, 'AWS::DynamoDB::GlobalTable');
      for (const pipeline of ['orders', 'sales']) {
        const dynamo = roleStatements(template, stateMachineOf(pipeline).roleId).filter((s) =>
          actionsOf(s).some((a) => a.startsWith('dynamodb:')),
        );
        expect(dynamo).toEqual([
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Resource: { 'Fn::GetAtt': [table, 'Arn'] },
          },
        ]);
      }
    });

    it('lets state machines publish alerts to the topic and use its key, and nothing more on SNS or KMS', () => {
      const topic = logicalIdOf(template, 'AWS::SNS::Topic');
      const key = logicalIdOf(template, 'AWS::KMS::Key');
      const statements = roleStatements(template, stateMachineOf('sales').roleId).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('sns:') || a.startsWith('kms:')),
      );
      expect(statements).toEqual([
        { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: topic } },
        {
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: { 'Fn::GetAtt': [key, 'Arn'] },
        },
      ]);
    });

    it('limits the quarantine move to the trigger prefix and the quarantine prefix', () => {
      const s3 = roleStatements(template, stateMachineOf('orders').roleId).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('s3:')),
      );
      const objects = (path: string) => ({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${path}`]],
      });
      expect(s3).toEqual([
        {
          Effect: 'Allow',
          Action: [
            's3:GetObject',
            's3:GetObjectVersion',
            's3:GetObjectTagging',
            's3:GetObjectVersionTagging',
            's3:DeleteObject',
          ],
          Resource: objects('raw/orders/*'),
        },
        {
          Effect: 'Allow',
          Action: ['s3:PutObject', 's3:PutObjectTagging'],
          Resource: objects('raw/quarantine/*'),
        },
      ]);
      expect(
        roleStatements(template, stateMachineOf('sales').roleId).filter((s) =>
          actionsOf(s).some((a) => a.startsWith('s3:')),
        ),
      ).toEqual([]);
    });

    it('lets the dispatcher start executions of the pipeline state machines only', () => {
      const functions = template.findResources('AWS::Lambda::Function') as Resources;
      const role = functions[dispatcherId()]?.Properties.Role as { 'Fn::GetAtt': [string] } | undefined;
      const roleId = role?.['Fn::GetAtt'][0] ?? 'missing';
      const statements = roleStatements(template, roleId);
      const states = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
      expect(states.flatMap(actionsOf)).toEqual(['states:StartExecution', 'states:StartExecution']);
      expect(states.flatMap(resourcesOf)).toEqual([
        { Ref: stateMachineOf('orders').id },
        { Ref: stateMachineOf('sales').id },
      ]);
      expect(
        statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:'))).flatMap(actionsOf),
      ).toEqual(['dynamodb:PutItem']);
    });
  });

  it('refuses two pipelines with the same name in one stack', () => {
    const { app, outdir: other } = testApp({ bundle: false });
    try {
      expect(
        () => new PipelineStack(app, 'Twice', { pipelines: [sales, sales] }),
      ).toThrowErrorMatchingInlineSnapshot(
        `[Error: two pipelines are named 'sales'; pipeline names must be unique in a stack]`,
      );
    } finally {
      removeOutdir(other);
    }
  });
});
