import { RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Settings of a `DataBucket`. */
export interface DataBucketProps {
  /**
   * What happens to the bucket and its access-log bucket when the stack is deleted, or when they
   * leave it.
   * @default RemovalPolicy.RETAIN - the data outlives the stack
   * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A landing bucket that sends its events to EventBridge, so `s3ObjectCreated` triggers fire. Versioned
 * (a run key pins the exact version), encrypted, TLS only, with server access logs in a second bucket.
 */
export class DataBucket extends Construct {
  /**
   * The data bucket: map a spec's bucket name to it in `buckets`. Versioned, and it sends every event
   * to EventBridge, where `s3ObjectCreated` triggers match "Object Created".
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html
   */
  readonly bucket: s3.Bucket;
  /**
   * The bucket that receives the data bucket's server access logs, under `access/`.
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html
   */
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataBucketProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // aws-cdk-lib's own Bucket does not match its IBucket under exactOptionalPropertyTypes.
      serverAccessLogsBucket: this.accessLogs as unknown as s3.IBucket,
      serverAccessLogsPrefix: 'access/',
      removalPolicy,
    });
    // The eventBridgeEnabled prop adds a custom-resource Lambda; CloudFormation sets this natively.
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
  }
}
