import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { handlerSubstitution, SUBSTITUTIONS } from '../compile/integrations.ts';
import { type CompiledPipeline, compilePipeline } from '../compile/states.ts';
import type { PipelineDefinition } from '../spec/types.ts';
import { HandlerFunction } from './handler-function.ts';
import { StepwisePlatform } from './platform.ts';
import { addTrigger } from './triggers.ts';

/** A bucket the spec names by a short name, such as 'raw'. Any `s3.IBucket` fits. */
export interface BucketRef {
  readonly bucketName: string;
}

export interface PipelineProps {
  /** The pipeline, as `definePipeline` returns it. */
  readonly spec: PipelineDefinition;
  /**
   * Buckets the spec names, by the name it uses. A bucket given here is used by its real name; others
   * are taken to be existing buckets with exactly the name in the spec.
   * @default - none
   */
  readonly buckets?: Readonly<Record<string, BucketRef>>;
}

/**
 * One pipeline: its compiled Standard state machine, one Lambda function per distinct handler file, and
 * its triggers. Shares the stack's ledger, alert topic and dispatcher with every other pipeline.
 */
export class Pipeline extends Construct {
  readonly spec: PipelineDefinition;
  readonly compiled: CompiledPipeline;
  readonly stateMachine: sfn.StateMachine;
  readonly functions: ReadonlyMap<string, HandlerFunction>;
  private readonly s3Resources: string[] = [];

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    this.spec = props.spec;
    this.compiled = compilePipeline(props.spec);
    const platform = StepwisePlatform.of(this);

    const functions = new Map<string, HandlerFunction>();
    for (const handler of this.compiled.handlers) {
      functions.set(
        handler.name,
        new HandlerFunction(this, `Handler-${handler.name}`, {
          entry: handler.entry,
          environment: { STEPWISE_PIPELINE: props.spec.name, ...handler.env },
          memoryMb: handler.memoryMb,
          timeout: Duration.seconds(handler.timeoutSeconds),
          description: handlerDescription(props.spec.name, handler.tasks),
        }),
      );
    }
    this.functions = functions;

    const substitutions: Record<string, string> = {
      [SUBSTITUTIONS.partition]: Aws.PARTITION,
      [SUBSTITUTIONS.region]: Aws.REGION,
      [SUBSTITUTIONS.ledgerTable]: platform.ledger.table.tableName,
      [SUBSTITUTIONS.alertTopic]: platform.alerts.topic.topicArn,
    };
    for (const [name, fn] of functions) substitutions[handlerSubstitution(name)] = fn.functionArn;

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(this.compiled.definition)),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'ExecutionLogs', { retention: logs.RetentionDays.THREE_MONTHS }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
      comment: props.spec.description ?? `stepwise pipeline ${props.spec.name}`,
    });
    this.grantStateMachine(platform, props.buckets ?? {});
    this.acknowledgeStateMachineWildcards();
    platform.registerPipeline(props.spec.name, this.stateMachine);

    for (const [index, trigger] of props.spec.triggers.entries()) {
      const bound = trigger.kind === 's3ObjectCreated' ? props.buckets?.[trigger.bucket] : undefined;
      const resolved = bound ? { ...trigger, bucket: bound.bucketName } : trigger;
      addTrigger(
        this,
        `Trigger${index}-${trigger.kind}`,
        props.spec.name,
        resolved,
        platform.dispatcher.function,
      );
    }
  }

  private acknowledgeStateMachineWildcards(): void {
    const policy = this.stateMachine.role.node.tryFindChild('DefaultPolicy') as iam.Policy;
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords and the CloudWatch Logs vended-delivery actions that CDK grants for execution logging do not support resource-level permissions, so AWS requires Resource "*".',
    });
    for (const resource of this.s3Resources) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason:
          'The quarantine move copies and deletes the object that triggered the run, whose key is known only at run time; the wildcard is limited to the trigger prefix and the quarantine prefix of the named bucket.',
      });
    }
  }

  /** Least privilege: invoke its own functions, write the ledger, publish alerts, move bad objects. */
  private grantStateMachine(platform: StepwisePlatform, buckets: Readonly<Record<string, BucketRef>>): void {
    const role = this.stateMachine;
    for (const fn of this.functions.values()) fn.grantInvoke(role);
    role.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [platform.ledger.table.tableArn],
      }),
    );
    platform.alerts.grantPublish(role);
    const { prefix, bucket: quarantineBucket } = this.spec.quarantine;
    for (const trigger of this.spec.triggers) {
      if (trigger.kind !== 's3ObjectCreated') continue;
      const source = buckets[trigger.bucket]?.bucketName ?? trigger.bucket;
      const target = quarantineBucket ? (buckets[quarantineBucket]?.bucketName ?? quarantineBucket) : source;
      const sourceObjects = `arn:${Aws.PARTITION}:s3:::${source}/${trigger.prefix ?? ''}*`;
      const targetObjects = `arn:${Aws.PARTITION}:s3:::${target}/${prefix}*`;
      this.s3Resources.push(nagResource(this, sourceObjects), nagResource(this, targetObjects));
      role.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [
            's3:GetObject',
            's3:GetObjectVersion',
            's3:GetObjectTagging',
            's3:GetObjectVersionTagging',
            's3:DeleteObject',
          ],
          resources: [sourceObjects],
        }),
      );
      role.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:PutObject', 's3:PutObjectTagging'],
          resources: [targetObjects],
        }),
      );
    }
  }
}

const LAMBDA_DESCRIPTION_MAX = 256;

/** Names the tasks a function serves; Lambda caps a description at 256 characters, so a long list is cut. */
function handlerDescription(pipeline: string, tasks: readonly string[]): string {
  const head = `stepwise ${pipeline}: `;
  for (let shown = tasks.length; shown > 0; shown--) {
    const rest = tasks.length - shown;
    const text = `${head}${tasks.slice(0, shown).join(', ')}${rest > 0 ? ` and ${rest} more` : ''}`;
    if (text.length <= LAMBDA_DESCRIPTION_MAX) return text;
  }
  return `${head}${tasks.length} tasks`.slice(0, LAMBDA_DESCRIPTION_MAX);
}

/** How cdk-nag writes a resource in a finding id: tokens become `<LogicalId.Attr>` or `<AWS::Pseudo>`. */
function nagResource(scope: Construct, value: string): string {
  const resolved = Stack.of(scope).resolve(value) as unknown;
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const ref = (part as { Ref?: string }).Ref;
    if (ref) return `<${ref}>`;
    const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
    const imported = (part as { 'Fn::ImportValue'?: string })['Fn::ImportValue'];
    if (imported) return imported;
    const join = (part as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    if (join) return join[1].map(render).join(join[0]);
    return JSON.stringify(part);
  };
  return render(resolved);
}
