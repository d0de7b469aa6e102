import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import orders from '../../examples/orders/pipeline.ts';
import { compilePipeline } from '../../lib/compile/states.ts';
import { Pipeline } from '../../lib/constructs/pipeline.ts';
import { PipelineStack } from '../../lib/constructs/pipeline-stack.ts';
import { afterPipeline, onEvent } from '../../lib/spec/index.ts';
import sales from '../fixtures/sales/pipeline.ts';
import { testPipeline } from '../private/specs.ts';
import {
  actionsOf,
  logicalIdOf,
  type PolicyStatement,
  removeOutdir,
  resourcesOf,
  roleStatements,
  templateText,
  testApp,
} from '../private/synth.ts';

/** Runs once both upstreams succeeded for one logical time; has an SLA and a short retention. */
const report = testPipeline(
  { summarize: {} },
  { name: 'report', triggers: [afterPipeline(['orders', 'sales'])], sla: '30m', retention: '30d' },
);
const exportReady = { source: ['my.exports'], detailType: ['Export Ready'], detail: { table: ['orders'] } };
/** Runs on a custom event. */
const audit = testPipeline({ check: {} }, { name: 'audit', triggers: [onEvent(exportReady)] });
const PIPELINES = ['orders', 'sales', 'report', 'audit'];

// Templates only: bundling is skipped here; test/constructs/cfn-validate.test.ts bundles for real.
// One app for every test below: synthesis is the slow part.
let outdir: string;
let stack: PipelineStack;
let template: Template;
/** A role in the same stack that a test gives each Pipeline grant to; not part of the platform. */
let consumerRoleId: string;

beforeAll(() => {
  const created = testApp({ bundle: false });
  outdir = created.outdir;
  stack = new PipelineStack(created.app, 'Pipelines', { pipelines: [orders, sales, report, audit] });
  const consumer = new iam.Role(stack, 'Consumer', { assumedBy: new iam.AccountRootPrincipal() });
  const pipeline = stack.pipelines.get('sales') as Pipeline;
  pipeline.grantTrigger(consumer);
  pipeline.grantReadLedger(consumer);
  pipeline.grantRedrive(consumer);
  pipeline.grantRead(consumer);
  consumerRoleId = stack.getLogicalId(consumer.node.defaultChild as never);
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

/** The logical id of a platform function, by the start of its description. */
const platformFunctionId = (name: 'dispatcher' | 'recorder' | 'reconciler') =>
  logicalIdOf(template, 'AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp(`^stepwise ${name}`) },
  });
const dispatcherId = () => platformFunctionId('dispatcher');

function roleIdOfFunction(functionId: string): string {
  const functions = template.findResources('AWS::Lambda::Function') as Resources;
  const role = functions[functionId]?.Properties.Role as { 'Fn::GetAtt': [string] } | undefined;
  return role?.['Fn::GetAtt'][0] ?? 'missing';
}

const tableId = () => logicalIdOf(template, 'AWS::DynamoDB::GlobalTable');
/** The bucket PipelineStack created for the specs' name 'raw', none being given. */
const rawBucketId = () => stack.getLogicalId(stack.buckets.get('raw')?.node.defaultChild as never);
const topicRef = () => ({ Ref: logicalIdOf(template, 'AWS::SNS::Topic') });
const queueArn = () => ({ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue'), 'Arn'] });

/** `arn:${AWS::Partition}:states:...:execution:${Machine.Name}:*`, the executions of one state machine. */
const executionsOf = (pipeline: string) =>
  `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:\${${stateMachineOf(pipeline).id}.Name}:*`;

/** Rules by what their pattern matches, with their one target. */
function rulesMatching(pattern: Record<string, unknown>): { id: string; target: Record<string, unknown> }[] {
  const rules = template.findResources('AWS::Events::Rule', {
    Properties: { EventPattern: Match.objectLike(pattern) },
  }) as Resources;
  return Object.entries(rules).map(([id, rule]) => {
    const targets = rule.Properties.Targets as Record<string, unknown>[];
    expect(targets).toHaveLength(1);
    return { id, target: targets[0] as Record<string, unknown> };
  });
}

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

    it("has one dispatcher, which knows every pipeline's state machine, run limit and retention", () => {
      const functions = template.findResources('AWS::Lambda::Function') as Resources;
      const { Variables } = (functions[dispatcherId()] as Resources[string]).Properties.Environment as {
        Variables: Record<string, unknown>;
      };
      const config = Object.fromEntries(
        Object.entries(Variables).map(([name, value]) => [
          name,
          name.startsWith('STEPWISE_PIPELINE_') ? JSON.parse(templateText(value)) : value,
        ]),
      );
      const arn = (pipeline: string) => `\${${stateMachineOf(pipeline).id}}`;
      expect(config).toEqual({
        LEDGER_TABLE: { Ref: tableId() },
        ALERT_TOPIC_ARN: expect.objectContaining({
          Ref: expect.stringMatching(/^StepwisePlatformAlertsTopic/),
        }),
        STEPWISE_PIPELINE_ORDERS: {
          stateMachineArn: arn('orders'),
          maxConcurrentRuns: 5,
          retentionDays: 365,
        },
        STEPWISE_PIPELINE_SALES: { stateMachineArn: arn('sales'), maxConcurrentRuns: 10, retentionDays: 365 },
        STEPWISE_PIPELINE_REPORT: {
          stateMachineArn: arn('report'),
          maxConcurrentRuns: 10,
          retentionDays: 30,
        },
        STEPWISE_PIPELINE_AUDIT: { stateMachineArn: arn('audit'), maxConcurrentRuns: 10, retentionDays: 365 },
      });
    });

    it('has a recorder and a reconciler that know the ledger, the topic and the default bus', () => {
      const observer = {
        LEDGER_TABLE: { Ref: tableId() },
        ALERT_TOPIC_ARN: topicRef(),
        EVENT_BUS_NAME: 'default',
      };
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^stepwise recorder'),
        Environment: { Variables: observer },
        DeadLetterConfig: { TargetArn: queueArn() },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^stepwise reconciler'),
        Environment: { Variables: { ...observer, RECONCILE_AFTER_MINUTES: '10' } },
      });
    });

    it('has one dead-letter queue, encrypted and TLS only, with an alarm on any message', () => {
      template.resourceCountIs('AWS::SQS::Queue', 1);
      template.hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 86_400,
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue'), 'QueueName'] },
          },
        ],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        AlarmActions: [topicRef()],
      });
    });

    it('outputs the ledger table, the dispatcher, the topic and each state machine under fixed keys', () => {
      const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, output.Value]))).toEqual(
        {
          StepwiseLedgerTable: { Ref: tableId() },
          StepwiseDispatcherFunction: { Ref: dispatcherId() },
          StepwiseAlertTopic: topicRef(),
          StepwiseStateMachineOrders: { Ref: stateMachineOf('orders').id },
          StepwiseStateMachineSales: { Ref: stateMachineOf('sales').id },
          StepwiseStateMachineReport: { Ref: stateMachineOf('report').id },
          StepwiseStateMachineAudit: { Ref: stateMachineOf('audit').id },
        },
      );
    });
  });

  describe('the end of a run', () => {
    it('sends every terminal status change of the pipelines to the recorder, retried, with a dead-letter queue', () => {
      const [rule, ...others] = rulesMatching({ source: ['aws.states'] });
      expect(others).toEqual([]);
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: {
            status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
            stateMachineArn: PIPELINES.map((p) => ({ Ref: stateMachineOf(p).id })),
          },
        },
      });
      expect(rule?.target).toMatchObject({
        Arn: { 'Fn::GetAtt': [platformFunctionId('recorder'), 'Arn'] },
        DeadLetterConfig: { Arn: queueArn() },
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 86_400 },
      });
      expect(rule?.target.Input ?? rule?.target.InputTransformer).toBeUndefined();
    });

    it("sends the pipelines' Run Finished events to the dispatcher, which frees the run's slot", () => {
      const [rule, ...others] = rulesMatching({ source: ['stepwise'], detail: { pipeline: PIPELINES } });
      expect(others).toEqual([]);
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['stepwise'],
          'detail-type': ['Run Finished'],
          detail: { pipeline: PIPELINES },
        },
      });
      expect(rule?.target).toMatchObject({
        Arn: { 'Fn::GetAtt': [dispatcherId(), 'Arn'] },
        InputTransformer: { InputPathsMap: { f1: '$' }, InputTemplate: '{"kind":"finished","event":<f1>}' },
        DeadLetterConfig: { Arn: queueArn() },
      });
    });

    it('runs the reconciler every 10 minutes', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(10 minutes)',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [platformFunctionId('reconciler'), 'Arn'] } })],
      });
    });

    it('lets EventBridge invoke the recorder and the dispatcher', () => {
      for (const fn of [platformFunctionId('recorder'), dispatcherId(), platformFunctionId('reconciler')]) {
        template.hasResourceProperties('AWS::Lambda::Permission', {
          Action: 'lambda:InvokeFunction',
          Principal: 'events.amazonaws.com',
          FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
        });
      }
    });
  });

  describe('alarms and dashboards', () => {
    const alarmsOf = (pipeline: string) =>
      Object.values(template.findResources('AWS::CloudWatch::Alarm') as Resources)
        .map((alarm) => alarm.Properties)
        .filter((props) =>
          JSON.stringify(props.Dimensions).match(
            new RegExp(`"Value":("${pipeline}"|\\{"Ref":"${stateMachineOf(pipeline).id}"\\})`),
          ),
        );

    it('gives every pipeline at least three alarms, each alerting the topic and quiet when there are no runs', () => {
      for (const pipeline of PIPELINES) {
        const alarms = alarmsOf(pipeline);
        expect(alarms.length).toBeGreaterThanOrEqual(3);
        for (const alarm of alarms) {
          expect(alarm).toMatchObject({ AlarmActions: [topicRef()], TreatMissingData: 'notBreaching' });
        }
      }
    });

    it('alarms on failed, timed-out, throttled and quarantined runs', () => {
      expect(
        alarmsOf('orders').map((a) => [
          a.Namespace,
          a.MetricName,
          a.Statistic,
          a.ComparisonOperator,
          a.Threshold,
        ]),
      ).toEqual([
        ['AWS/States', 'ExecutionsFailed', 'Sum', 'GreaterThanOrEqualToThreshold', 1],
        ['AWS/States', 'ExecutionsTimedOut', 'Sum', 'GreaterThanOrEqualToThreshold', 1],
        ['AWS/States', 'ExecutionThrottled', 'Sum', 'GreaterThanOrEqualToThreshold', 1],
        ['stepwise', 'RunsQuarantined', 'Sum', 'GreaterThanOrEqualToThreshold', 1],
      ]);
      expect(alarmsOf('orders').at(-1)?.Dimensions).toEqual([{ Name: 'Pipeline', Value: 'orders' }]);
    });

    it('alarms when a run takes longer than the SLA, for pipelines that set one', () => {
      expect(alarmsOf('report').filter((a) => a.MetricName === 'ExecutionTime')).toEqual([
        expect.objectContaining({
          Namespace: 'AWS/States',
          Statistic: 'Maximum',
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 30 * 60_000,
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineOf('report').id } }],
        }),
      ]);
      expect(alarmsOf('orders').filter((a) => a.MetricName === 'ExecutionTime')).toEqual([]);
      expect((stack.pipelines.get('report') as Pipeline).alarms).toHaveLength(5);
    });

    it('gives every pipeline a dashboard: runs by status, duration p50 and p95, retries, quarantines', () => {
      const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard') as Resources);
      expect(dashboards).toHaveLength(PIPELINES.length);
      const body = (pipeline: string) =>
        dashboards
          .map((d) => templateText(d.Properties.DashboardBody))
          .find((text) => text.includes(`"Pipeline","${pipeline}"`)) ?? '';
      const text = body('orders');
      for (const fragment of [
        '"title":"Runs by status"',
        '["AWS/States","ExecutionsSucceeded","StateMachineArn",',
        '["AWS/States","ExecutionsFailed","StateMachineArn",',
        '["AWS/States","ExecutionsTimedOut","StateMachineArn",',
        '["stepwise","RunsQuarantined","Pipeline","orders"',
        '"title":"Run duration"',
        '"stat":"p50"',
        '"stat":"p95"',
        '["stepwise","TaskRetries","Pipeline","orders"',
        '"title":"Quarantined runs"',
        '"title":"Alarms"',
      ]) {
        expect(text).toContain(fragment);
      }
      template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
        DashboardName: { 'Fn::Join': ['', ['Pipelines-orders-', { Ref: 'AWS::Region' }]] },
      });
    });
  });

  describe('metrics and grants', () => {
    const pipeline = () => stack.pipelines.get('sales') as Pipeline;
    const render = (metric: ReturnType<Pipeline['metricFailed']>) => {
      const config = metric.toMetricConfig().metricStat;
      return {
        namespace: config?.namespace,
        metricName: config?.metricName,
        statistic: config?.statistic,
        dimensions: Stack.of(stack).resolve(config?.dimensions),
      };
    };

    it('offers the AWS/States metrics of its state machine, like aws-cdk-lib constructs do', () => {
      const machine = [{ name: 'StateMachineArn', value: { Ref: stateMachineOf('sales').id } }];
      const p = pipeline();
      expect(
        [
          p.metricStarted(),
          p.metricSucceeded(),
          p.metricFailed(),
          p.metricTimedOut(),
          p.metricThrottled(),
        ].map(render),
      ).toEqual(
        [
          'ExecutionsStarted',
          'ExecutionsSucceeded',
          'ExecutionsFailed',
          'ExecutionsTimedOut',
          'ExecutionThrottled',
        ].map((metricName) => ({
          namespace: 'AWS/States',
          metricName,
          statistic: 'Sum',
          dimensions: machine,
        })),
      );
      expect(render(p.metricTime({ statistic: 'p95' }))).toEqual({
        namespace: 'AWS/States',
        metricName: 'ExecutionTime',
        statistic: 'p95',
        dimensions: machine,
      });
    });

    it("offers the recorder's metrics of the pipeline", () => {
      const dimensions = [{ name: 'Pipeline', value: 'sales' }];
      expect(render(pipeline().metricQuarantined())).toEqual({
        namespace: 'stepwise',
        metricName: 'RunsQuarantined',
        statistic: 'Sum',
        dimensions,
      });
      expect(render(pipeline().metricTaskRetries({ statistic: 'Maximum' }))).toEqual({
        namespace: 'stepwise',
        metricName: 'TaskRetries',
        statistic: 'Maximum',
        dimensions,
      });
    });

    it('grants triggering, reading the ledger, redriving and reading the state machine, each scoped', () => {
      // aws-cdk-lib's grantRead derives execution ARNs with Fn::Select; those stay as written.
      const readable = (r: unknown) => (JSON.stringify(r).includes('Fn::Select') ? r : templateText(r));
      const statements = roleStatements(template, consumerRoleId).map((s) => ({
        Action: s.Action,
        Resource: resourcesOf(s).map(readable),
      }));
      const table = `\${${tableId()}.Arn}`;
      expect(statements).toEqual(
        expect.arrayContaining([
          { Action: 'lambda:InvokeFunction', Resource: [`\${${dispatcherId()}.Arn}`] },
          { Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: [table, `${table}/index/byStatus`] },
          { Action: 'states:RedriveExecution', Resource: [executionsOf('sales')] },
          expect.objectContaining({ Action: expect.arrayContaining(['states:DescribeStateMachine']) }),
        ]),
      );
    });
  });

  describe('functions', () => {
    it('builds one function per distinct handler file, plus the dispatcher, recorder and reconciler', () => {
      expect(functionIdsOf('orders')).toHaveLength(5);
      expect(functionIdsOf('sales')).toHaveLength(2);
      expect(functionIdsOf('report')).toHaveLength(1);
      template.resourceCountIs('AWS::Lambda::Function', 5 + 2 + 1 + 1 + 3);
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

    it('gives each function the longest task timeout, and its declared buckets by their real names', () => {
      const functions = template.findResources('AWS::Lambda::Function', {
        Properties: { Description: 'stepwise orders: ingest', Timeout: 900, MemorySize: 512 },
      }) as Resources;
      const [ingest, ...others] = Object.values(functions);
      expect(others).toEqual([]);
      const { Variables } = (ingest as Resources[string]).Properties.Environment as {
        Variables: Record<string, unknown>;
      };
      expect(Object.keys(Variables)).toEqual(['STEPWISE_PIPELINE', 'STEPWISE_BUCKETS']);
      expect(Variables.STEPWISE_PIPELINE).toBe('orders');
      expect(JSON.parse(templateText(Variables.STEPWISE_BUCKETS))).toEqual({ raw: `\${${rawBucketId()}}` });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'stepwise sales: load',
        Timeout: 300,
      });
    });
  });

  describe('state machines', () => {
    it('are STANDARD, log ALL to their own log group, and trace with X-Ray', () => {
      template.resourceCountIs('AWS::StepFunctions::StateMachine', PIPELINES.length);
      for (const pipeline of PIPELINES) {
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
        '}:states:::dynamodb:putItem"',
        '}:states:::dynamodb:updateItem"',
        '}:states:::aws-sdk:s3:copyObject"',
        '}:states:::aws-sdk:s3:deleteObject"',
      ]) {
        expect(definition).toContain(fragment);
      }
      // Alerts are the recorder's.
      expect(definition).not.toContain(':sns:');
      expect(JSON.parse(definition)).toEqual(compilePipeline(orders).definition);
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
          LedgerTableName: { Ref: logicalIdOf(template, 'AWS::DynamoDB::GlobalTable') },
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

    it('sends what a schedule cannot deliver to the dead-letter queue', () => {
      const schedules = template.findResources('AWS::Scheduler::Schedule') as Resources;
      for (const schedule of Object.values(schedules)) {
        expect(schedule.Properties.Target).toMatchObject({ DeadLetterConfig: { Arn: queueArn() } });
      }
    });

    it('lets each schedule role invoke only the dispatcher and send only to the dead-letter queue', () => {
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
          { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queueArn() },
        ]);
      }
    });

    it('starts runs after upstream pipelines succeed, through the dispatcher, which joins them', () => {
      const [rule, ...others] = rulesMatching({
        source: ['stepwise'],
        detail: Match.objectLike({ status: ['SUCCEEDED'] }),
      });
      expect(others).toEqual([]);
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['stepwise'],
          'detail-type': ['Run Finished'],
          detail: { pipeline: ['orders', 'sales'], status: ['SUCCEEDED'] },
        },
      });
      expect(rule?.target).toMatchObject({
        Arn: { 'Fn::GetAtt': [dispatcherId(), 'Arn'] },
        InputTransformer: {
          InputPathsMap: { f1: '$' },
          InputTemplate:
            '{"kind":"pipeline","pipeline":"report","upstreams":["orders","sales"],"event":<f1>}',
        },
        DeadLetterConfig: { Arn: queueArn() },
      });
    });

    it('starts runs on events that match an onEvent pattern, with the pattern as the spec wrote it', () => {
      const [rule, ...others] = rulesMatching({ source: ['my.exports'] });
      expect(others).toEqual([]);
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['my.exports'],
          'detail-type': ['Export Ready'],
          detail: { table: ['orders'] },
        },
      });
      expect(rule?.target).toMatchObject({
        Arn: { 'Fn::GetAtt': [dispatcherId(), 'Arn'] },
        InputTransformer: {
          InputPathsMap: { f1: '$' },
          InputTemplate: '{"kind":"event","pipeline":"audit","event":<f1>}',
        },
        DeadLetterConfig: { Arn: queueArn() },
      });
    });

    it('starts runs on S3 Object Created events for the prefix and suffix', () => {
      expect(rulesMatching({ source: ['aws.s3'] })).toHaveLength(1);
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.s3'],
          'detail-type': ['Object Created'],
          detail: {
            bucket: { name: [{ Ref: rawBucketId() }] },
            object: { key: [{ wildcard: 'orders/*.csv' }] },
          },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [dispatcherId(), 'Arn'] },
            InputTransformer: {
              InputPathsMap: { f1: '$' },
              InputTemplate: '{"kind":"s3","pipeline":"orders","event":<f1>}',
            },
            DeadLetterConfig: { Arn: queueArn() },
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
      for (const pipeline of PIPELINES) {
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
      for (const [id, policy] of Object.entries(policies)) {
        // The test's own consumer role holds aws-cdk-lib's grantRead, which lists state machines on '*'.
        if (JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: consumerRoleId }])) continue;
        expect(id).not.toBe('');
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

    it('lets state machines write the ledger run row (PutItem, UpdateItem) on the table ARN only', () => {
      for (const pipeline of PIPELINES) {
        const dynamo = roleStatements(template, stateMachineOf(pipeline).roleId).filter((s) =>
          actionsOf(s).some((a) => a.startsWith('dynamodb:')),
        );
        expect(dynamo).toEqual([
          {
            Effect: 'Allow',
            Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Resource: { 'Fn::GetAtt': [tableId(), 'Arn'] },
          },
        ]);
      }
    });

    it('gives state machines no SNS or KMS permission: the recorder sends alerts', () => {
      for (const pipeline of PIPELINES) {
        const statements = roleStatements(template, stateMachineOf(pipeline).roleId).filter((s) =>
          actionsOf(s).some((a) => a.startsWith('sns:') || a.startsWith('kms:')),
        );
        expect(statements).toEqual([]);
      }
    });

    it("lets the recorder read its pipelines' executions, write the ledger, alert and announce, and nothing else", () => {
      const statements = roleStatements(template, roleIdOfFunction(platformFunctionId('recorder'))).map(
        (s) => ({
          Action: s.Action,
          Resource: resourcesOf(s).map((r) => templateText(r)),
        }),
      );
      const table = `\${${tableId()}.Arn}`;
      expect(statements).toEqual([
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: [expect.stringMatching(/^\$\{StepwisePlatformRecorderLogs\w+\.Arn\}$/)],
        },
        { Action: 'sqs:SendMessage', Resource: [templateText(queueArn())] },
        {
          Action: [
            'dynamodb:BatchWriteItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:GetItem',
            'dynamodb:Query',
          ],
          Resource: [table],
        },
        { Action: 'sns:Publish', Resource: [templateText(topicRef())] },
        {
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: [`\${${logicalIdOf(template, 'AWS::KMS::Key')}.Arn}`],
        },
        {
          Action: 'events:PutEvents',
          Resource: [`arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/default`],
        },
        ...PIPELINES.map((pipeline) => ({
          Action: ['states:DescribeExecution', 'states:GetExecutionHistory'],
          Resource: [executionsOf(pipeline)],
        })),
      ]);
    });

    it('lets the reconciler do what the recorder does, and query the byStatus index', () => {
      const statements = roleStatements(template, roleIdOfFunction(platformFunctionId('reconciler')));
      const table = `\${${tableId()}.Arn}`;
      expect(
        statements
          .filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))
          .map((s) => ({
            Action: s.Action,
            Resource: resourcesOf(s).map((r) => templateText(r)),
          })),
      ).toEqual([
        {
          Action: [
            'dynamodb:BatchWriteItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:GetItem',
            'dynamodb:Query',
          ],
          Resource: [table],
        },
        { Action: 'dynamodb:Query', Resource: [`${table}/index/byStatus`] },
        // It repairs slots and drains queues as the dispatcher does, so it may start runs too.
        { Action: 'dynamodb:DeleteItem', Resource: [table] },
      ]);
      expect(
        statements
          .filter((s) => actionsOf(s).some((a) => a.startsWith('states:')))
          .flatMap((s) => resourcesOf(s).map((r) => templateText(r))),
      ).toEqual(PIPELINES.flatMap((p) => [`\${${stateMachineOf(p).id}}`, executionsOf(p)]));
    });

    it('limits the quarantine move to the trigger prefix and the quarantine prefix', () => {
      const s3 = roleStatements(template, stateMachineOf('orders').roleId).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('s3:')),
      );
      const objects = (path: string) => ({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: rawBucketId() }, path]],
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
            's3:DeleteObjectVersion',
          ],
          Resource: objects('/orders/*'),
        },
        {
          Effect: 'Allow',
          Action: ['s3:PutObject', 's3:PutObjectTagging'],
          Resource: objects('/quarantine/*'),
        },
      ]);
      expect(
        roleStatements(template, stateMachineOf('sales').roleId).filter((s) =>
          actionsOf(s).some((a) => a.startsWith('s3:')),
        ),
      ).toEqual([]);
    });

    it('lets the dispatcher start executions of the pipeline state machines only, by exact ARN', () => {
      const statements = roleStatements(template, roleIdOfFunction(dispatcherId()));
      const states = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
      expect(states.flatMap(actionsOf)).toEqual(PIPELINES.map(() => 'states:StartExecution'));
      expect(states.flatMap(resourcesOf)).toEqual(PIPELINES.map((p) => ({ Ref: stateMachineOf(p).id })));
      expect(
        statements
          .filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))
          .map((s) => ({ Action: s.Action, Resource: s.Resource })),
      ).toEqual([
        {
          Action: [
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:GetItem',
            'dynamodb:DeleteItem',
            'dynamodb:Query',
          ],
          Resource: { 'Fn::GetAtt': [tableId(), 'Arn'] },
        },
      ]);
    });
  });

  it('splits the status-change rule so each pattern stays under EventBridge’s 2048 characters', () => {
    const { app, outdir: other } = testApp({ bundle: false });
    try {
      const many = Array.from({ length: 13 }, (_, i) => testPipeline({ only: {} }, { name: `p${i}` }));
      const big = Template.fromStack(new PipelineStack(app, 'Many', { pipelines: many }));
      const rules = Object.values(
        big.findResources('AWS::Events::Rule', {
          Properties: { EventPattern: Match.objectLike({ source: ['aws.states'] }) },
        }) as Resources,
      );
      const machines = rules.map(
        (rule) =>
          (rule.Properties.EventPattern as { detail: { stateMachineArn: unknown[] } }).detail.stateMachineArn,
      );
      expect(machines.map((m) => m.length)).toEqual([12, 1]);
      expect(new Set(machines.flat().map((m) => JSON.stringify(m))).size).toBe(13);
    } finally {
      removeOutdir(other);
    }
  });

  it('refuses more pipelines than the dispatcher environment holds, saying to split the stack', () => {
    const { app, outdir: other } = testApp({ bundle: false });
    try {
      const many = Array.from({ length: 15 }, (_, i) => testPipeline({ only: {} }, { name: `p${i}` }));
      expect(() => new PipelineStack(app, 'TooMany', { pipelines: many })).toThrowErrorMatchingInlineSnapshot(
        `[Error: stack TooMany has 15 pipelines; their settings take up to 4291 bytes of the dispatcher's environment, and Lambda allows 4096. Split the pipelines over several stacks (each gets its own ledger, dispatcher and recorder), or shorten their names.]`,
      );
      const fits = Array.from({ length: 14 }, (_, i) => testPipeline({ only: {} }, { name: `p${i}` }));
      expect(() => new PipelineStack(app, 'Fits', { pipelines: fits })).not.toThrow();
    } finally {
      removeOutdir(other);
    }
  });

  it('refuses two pipelines whose state machine outputs would share a key', () => {
    const { app, outdir: other } = testApp({ bundle: false });
    try {
      const stack = new Stack(app, 'Clash');
      new Pipeline(stack, 'First', { spec: testPipeline({ only: {} }, { name: 'load-1b' }) });
      expect(
        () => new Pipeline(stack, 'Second', { spec: testPipeline({ only: {} }, { name: 'load1b' }) }),
      ).toThrowErrorMatchingInlineSnapshot(
        `[Error: pipeline 'load1b' needs the stack output StepwiseStateMachineLoad1b, which Clash/StepwiseStateMachineLoad1b already takes; rename one of the pipelines (names differing only in hyphens before digits map to the same output)]`,
      );
    } finally {
      removeOutdir(other);
    }
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
