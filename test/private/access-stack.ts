import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { type LocalDeployment, readDeployment, type Template } from '../../lib/local/template.ts';
import { removeOutdir, testApp } from './synth.ts';

/**
 * A stack whose grants the IAM tests control, made through aws-cdk-lib's own grant methods (the paths
 * the constructs use), synthesized without bundling:
 * - `landing` (EventBridge on) and `curated` (EventBridge off, a bucket policy that denies DeleteObject);
 * - `Copier` reads landing and writes curated; `Reader` reads landing and curated and writes nothing;
 * - an encrypted topic: `Publisher` may publish and use its key, `KeylessPublisher` may only publish;
 * - a topic `Notices` refusing plain HTTP (as the alert topic does) whose policy denies `Reader`, which
 *   its role's policy lets publish there, as it does `Publisher`;
 * - `sealed`, encrypted with its own KMS key (SSE-KMS): `Copier` may read and write it, key included,
 *   but the key's policy denies it kms:ReEncryptFrom, which its role's policy allows;
 *   `Reader` may get its objects but not use its key;
 * - a table `Ledger` that `Copier` may read;
 * - a state machine `Machine` whose role may invoke `Copier` only.
 * Function and bucket local names are the logical ids below (functions) and `landing`, `curated`.
 */
export function accessStack(): { deployment: LocalDeployment; template: Template; ids: AccessStackIds } {
  const { app, outdir } = testApp({ bundle: false });
  try {
    const stack = new Stack(app, 'AccessTest');
    const landing = new s3.Bucket(stack, 'Landing', { bucketName: 'landing' });
    (landing.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    const curated = new s3.Bucket(stack, 'Curated', { bucketName: 'curated' });
    curated.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:DeleteObject'],
        resources: [curated.arnForObjects('*')],
      }),
    );
    const code = lambda.Code.fromInline('exports.handler = async () => null;');
    const fn = (id: string) =>
      new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code });
    const copier = fn('Copier');
    landing.grantRead(copier);
    curated.grantPut(copier);
    curated.grantDelete(copier);
    const reader = fn('Reader');
    landing.grantRead(reader);
    curated.grantRead(reader);
    const sealedKey = new kms.Key(stack, 'SealedKey');
    const sealed = new s3.Bucket(stack, 'Sealed', {
      bucketName: 'sealed',
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: sealedKey,
    });
    sealed.grantReadWrite(copier);
    // Its key policy takes back one action the grant gave: key policies are resource policies too.
    sealedKey.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.ArnPrincipal((copier.role as iam.IRole).roleArn)],
        actions: ['kms:ReEncryptFrom'],
        resources: ['*'],
      }),
    );
    reader.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [sealed.arnForObjects('*')] }),
    );
    const key = new kms.Key(stack, 'TopicKey');
    const topic = new sns.Topic(stack, 'Alerts', { masterKey: key });
    const publisher = fn('Publisher');
    topic.grantPublish(publisher);
    key.grantEncryptDecrypt(publisher);
    const notices = new sns.Topic(stack, 'Notices', { enforceSSL: true });
    notices.grantPublish(publisher);
    notices.grantPublish(reader);
    notices.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.ArnPrincipal((reader.role as iam.IRole).roleArn)],
        actions: ['sns:Publish'],
        resources: [notices.topicArn],
      }),
    );
    const keyless = fn('KeylessPublisher');
    keyless.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }),
    );
    const table = new dynamodb.Table(stack, 'Ledger', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });
    table.grantReadData(copier);
    // A state machine that may invoke Copier (its task's own grant) and nothing else.
    const machine = new sfn.StateMachine(stack, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new tasks.LambdaInvoke(stack, 'Copy', { lambdaFunction: copier }),
      ),
    });
    const template = app.synth().getStackByName('AccessTest').template as Template;
    const id = (construct: { node: { defaultChild?: unknown } } | lambda.Function) =>
      stack.getLogicalId((construct as lambda.Function).node.defaultChild as lambda.CfnFunction);
    return {
      deployment: readDeployment(template, outdir),
      template,
      ids: {
        copier: id(copier),
        reader: id(reader),
        publisher: id(publisher),
        keylessPublisher: id(keyless),
        table: stack.getLogicalId(table.node.defaultChild as dynamodb.CfnTable),
        machine: stack.getLogicalId(machine.node.defaultChild as sfn.CfnStateMachine),
        topicArn: `arn:aws:sns:us-east-1:000000000000:${stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic)}`,
        noticesArn: `arn:aws:sns:us-east-1:000000000000:${stack.getLogicalId(notices.node.defaultChild as sns.CfnTopic)}`,
        keyArn: `arn:aws:kms:us-east-1:000000000000:key/${stack.getLogicalId(key.node.defaultChild as kms.CfnKey)}`,
        sealedKeyArn: `arn:aws:kms:us-east-1:000000000000:key/${stack.getLogicalId(sealedKey.node.defaultChild as kms.CfnKey)}`,
      },
    };
  } finally {
    removeOutdir(outdir);
  }
}

export interface AccessStackIds {
  readonly copier: string;
  readonly reader: string;
  readonly publisher: string;
  readonly keylessPublisher: string;
  readonly table: string;
  readonly machine: string;
  readonly topicArn: string;
  /** A topic with a topic policy: TLS only, and a deny of `Reader`. */
  readonly noticesArn: string;
  readonly keyArn: string;
  /** The KMS key of the `sealed` bucket's default encryption. */
  readonly sealedKeyArn: string;
}
