import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type EmrServerlessJobRun, EXECUTION_ROLE_KEY } from '../../spec/adapters/emr-serverless-job.ts';
import { grantBucketAccess } from '../data-access.ts';
import { acknowledgeWildcardResource } from '../nag.ts';
import type { BindContext, Binding, ServiceBinding } from './service-binding.ts';

/**
 * The `.sync` integration starts the job run on the one application, polls it and cancels it if the
 * state is cut short, and watches it through Step Functions' managed EventBridge rule; it passes the
 * job's execution role to EMR Serverless and to nothing else. Without `executionRole`, the job runs as
 * a role created here that may read its entry point and the data buckets the spec names.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/emr-serverless-iam.html
 */
export const EMR_SERVERLESS_JOB_BINDING: ServiceBinding<EmrServerlessJobRun> = {
  bind: (run, context): Binding => {
    const stack = Stack.of(context.scope);
    const application = stack.formatArn({
      service: 'emr-serverless',
      resource: '/applications',
      resourceName: run.application,
    });
    const jobRuns = `${application}/jobruns/*`;
    const roleArn = run.executionRole ?? executionRole(run, context).roleArn;
    return {
      substitutions: { [EXECUTION_ROLE_KEY]: roleArn },
      statements: [
        new iam.PolicyStatement({ actions: ['emr-serverless:StartJobRun'], resources: [application] }),
        new iam.PolicyStatement({
          actions: ['emr-serverless:GetJobRun', 'emr-serverless:CancelJobRun'],
          resources: [jobRuns],
        }),
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'emr-serverless.amazonaws.com' } },
        }),
        new iam.PolicyStatement({
          actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
          resources: [
            stack.formatArn({
              service: 'events',
              resource: 'rule',
              resourceName: 'StepFunctionsGetEventsForEMRServerlessJobRule',
            }),
          ],
        }),
      ],
      wildcards: [
        {
          resource: jobRuns,
          reason:
            "EMR Serverless names a job run when it starts, so polling and cancelling it cannot name it in advance; the wildcard is limited to the task's one application.",
        },
      ],
    };
  },
};

/** The job's role: trusted by EMR Serverless in this account; reads its entry point and its data. */
function executionRole(run: EmrServerlessJobRun, { scope, task, bucket }: BindContext): iam.Role {
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, `EmrJobRole-${task.id}`, {
    description: `stepwise: the EMR Serverless job of task ${task.id}`,
    assumedBy: new iam.ServicePrincipal('emr-serverless.amazonaws.com').withConditions({
      StringEquals: { 'aws:SourceAccount': stack.account },
    }),
  });
  const [entryBucket, ...entryKey] = run.entryPoint.replace(/^s3:\/\//, '').split('/');
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [
        stack.formatArn({
          service: 's3',
          region: '',
          account: '',
          resource: `${entryBucket}/${entryKey.join('/')}`,
        }),
      ],
    }),
  );
  const reads = new Set(run.reads ?? []);
  const writes = new Set(run.writes ?? []);
  for (const name of new Set([...reads, ...writes])) {
    const data = bucket(name);
    grantBucketAccess(role, data, { read: reads.has(name), write: writes.has(name) });
    acknowledgeWildcardResource(
      role,
      data.arnForObjects('*'),
      "A Spark job reads and writes objects whose keys depend on the data, known only at run time; the wildcard is limited to a data bucket the spec declares in the task's reads or writes.",
    );
  }
  return role;
}
