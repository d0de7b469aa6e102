import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BATCH_MANAGED_RULE, type BatchJobRun, batchResourceName } from '../../spec/adapters/batch-job.ts';
import type { ServiceBinding } from './service-binding.ts';

/**
 * The `.sync` integration submits the job, then follows it through the managed rule and terminates it
 * if the state is cut short: the calls Step Functions documents. SubmitJob is granted on the one queue
 * and the one job definition (every revision of it when the spec names none); DescribeJobs supports no
 * resource, and TerminateJob acts on a job whose id is known only once it is submitted.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/batch-iam.html
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbatch.html
 */
export const BATCH_JOB_BINDING: ServiceBinding<BatchJobRun> = {
  bind: (run, { scope }) => {
    const stack = Stack.of(scope);
    // A name is this account's and region's; an ARN is taken as given.
    const arn = (resource: string, value: string) =>
      value.startsWith('arn:') ? value : stack.formatArn({ service: 'batch', resource, resourceName: value });
    const definition = batchResourceName(run.definition);
    const definitionArn = definition.revision
      ? arn('job-definition', run.definition)
      : `${arn('job-definition', run.definition)}:*`;
    return {
      statements: [
        new iam.PolicyStatement({
          actions: ['batch:SubmitJob'],
          resources: [arn('job-queue', run.queue), definitionArn],
        }),
        new iam.PolicyStatement({ actions: ['batch:DescribeJobs', 'batch:TerminateJob'], resources: ['*'] }),
        new iam.PolicyStatement({
          actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
          resources: [
            stack.formatArn({ service: 'events', resource: 'rule', resourceName: BATCH_MANAGED_RULE }),
          ],
        }),
      ],
      wildcards: [
        {
          resource: '*',
          reason:
            'batch:DescribeJobs supports no resource-level permissions, and batch:TerminateJob acts on a job whose id is known only once it is submitted; Step Functions documents Resource "*" for both.',
        },
        ...(definition.revision === undefined
          ? [
              {
                resource: definitionArn,
                reason: `The spec names job definition '${definition.name}' without a revision, so Batch runs its latest: the grant covers that one definition's revisions.`,
              },
            ]
          : []),
      ],
    };
  },
};
