import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { GlueJobRun } from '../../spec/adapters/glue-job.ts';
import type { ServiceBinding } from './service-binding.ts';

/**
 * The `.sync` integration starts the run, then polls it and stops it if the state is cut short: the
 * actions Step Functions documents, on the one job.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/connect-glue.html#glue-iam
 */
export const GLUE_JOB_BINDING: ServiceBinding<GlueJobRun> = {
  bind: (run, { scope }) => ({
    statements: [
      new iam.PolicyStatement({
        actions: ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
        resources: [
          Stack.of(scope).formatArn({ service: 'glue', resource: 'job', resourceName: run.jobName }),
        ],
      }),
    ],
  }),
};
