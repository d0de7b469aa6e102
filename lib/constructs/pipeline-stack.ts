import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { PipelineDefinition } from '../spec/types.ts';
import { type BucketRef, Pipeline } from './pipeline.ts';

export interface PipelineStackProps extends StackProps {
  /** The pipelines to deploy, as `definePipeline` returns them. They share one ledger, topic and dispatcher. */
  readonly pipelines: readonly PipelineDefinition[];
  /** Buckets the specs name, by the name they use. @default - none */
  readonly buckets?: Readonly<Record<string, BucketRef>>;
}

/** A stack holding one or more pipelines and the platform they share. */
export class PipelineStack extends Stack {
  readonly pipelines: ReadonlyMap<string, Pipeline>;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const pipelines = new Map<string, Pipeline>();
    for (const spec of props.pipelines) {
      if (pipelines.has(spec.name))
        throw new Error(`two pipelines are named '${spec.name}'; pipeline names must be unique in a stack`);
      pipelines.set(
        spec.name,
        new Pipeline(this, `Pipeline-${spec.name}`, {
          spec,
          ...(props.buckets ? { buckets: props.buckets } : {}),
        }),
      );
    }
    this.pipelines = pipelines;
  }
}
