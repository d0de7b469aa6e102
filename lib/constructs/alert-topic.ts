import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/**
 * The SNS topic every pipeline's alerts go to: run failures, quarantines and non-critical task
 * failures. Encrypted with its own KMS key (rotated), and it refuses publishes not made over TLS.
 */
export class AlertTopic extends Construct {
  /**
   * The topic: subscribe to it to receive the alerts. `StepwisePlatform` adds its ARN as the stack
   * output `StepwiseAlertTopic`.
   * @see https://docs.aws.amazon.com/sns/latest/dg/sns-create-subscribe-endpoint-to-topic.html
   */
  readonly topic: sns.Topic;
  /**
   * The customer-managed KMS key the topic is encrypted with, rotated yearly. CloudWatch alarms may
   * use it to publish, which an AWS-managed SNS key would not allow.
   * @see https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html
   */
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: 'stepwise alert topic encryption',
    });
    // CloudWatch alarms publish through the key; an AWS-managed SNS key would not let them.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      masterKey: this.key,
      enforceSSL: true,
      displayName: 'stepwise alerts',
    });
  }

  /**
   * Lets a principal publish: sns:Publish on the topic and use of its key, with no wildcard actions.
   * @see https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
   */
  grantPublish(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [this.key.keyArn],
      }),
    );
  }
}
