import { Stack, type StackProps } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { bucketNames } from '../spec/bucket-uses.ts';
import type { PipelineDefinition } from '../spec/types.ts';
import type { DataBucketRef } from './data-access.ts';
import { DataBucket } from './data-bucket.ts';
import { Pipeline } from './pipeline.ts';

/** Settings of a `PipelineStack`: aws-cdk-lib's `StackProps`, the pipelines, and their buckets. */
export interface PipelineStackProps extends StackProps {
  /**
   * The pipelines to deploy, as `definePipeline` returns them. They share one ledger, topic and dispatcher.
   * @see README.md, "Deploying"
   */
  readonly pipelines: readonly PipelineDefinition[];
  /**
   * The real bucket behind data-bucket names the specs use (in triggers, `reads`, `writes` and
   * `quarantine.bucket`): any `s3.IBucket`, or the name of an existing bucket, imported by that name.
   *
   * A name the specs use and this leaves out gets a new `DataBucket` in this stack (versioned,
   * encrypted, TLS only, EventBridge on, kept when the stack is deleted), named by CloudFormation;
   * `buckets` on the stack gives it. So `new PipelineStack(app, 'Orders', { pipelines: [orders] })`
   * deploys as is, and a spec name is never taken for a real bucket's name.
   * @default - a new DataBucket for every name the specs use
   * @see README.md, "Deploying"
   */
  readonly buckets?: Readonly<Record<string, DataBucketRef | string>>;
}

/** A stack holding one or more pipelines, the platform they share, and the data buckets not given. */
export class PipelineStack extends Stack {
  /**
   * Each pipeline's construct, by the pipeline's name.
   * @see README.md, "Deploying"
   */
  readonly pipelines: ReadonlyMap<string, Pipeline>;
  /**
   * Every data bucket the pipelines use, by the name the specs use: given or created here.
   * @see README.md, "Deploying"
   */
  readonly buckets: ReadonlyMap<string, DataBucketRef>;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const buckets = new Map<string, DataBucketRef>();
    for (const name of bucketNames(props.pipelines)) {
      const given = props.buckets && Object.hasOwn(props.buckets, name) ? props.buckets[name] : undefined;
      if (typeof given === 'string')
        buckets.set(name, s3.Bucket.fromBucketName(this, `Bucket-${name}`, given));
      else if (given) buckets.set(name, given);
      else buckets.set(name, new DataBucket(this, `Bucket-${name}`).bucket);
    }
    this.buckets = buckets;
    const mapped = Object.fromEntries(buckets);
    const pipelines = new Map<string, Pipeline>();
    for (const spec of props.pipelines) {
      if (pipelines.has(spec.name))
        throw new Error(`two pipelines are named '${spec.name}'; pipeline names must be unique in a stack`);
      pipelines.set(spec.name, new Pipeline(this, `Pipeline-${spec.name}`, { spec, buckets: mapped }));
    }
    this.pipelines = pipelines;
  }
}
