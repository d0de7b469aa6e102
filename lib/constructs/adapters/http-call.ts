import * as iam from 'aws-cdk-lib/aws-iam';
import type { HttpCallRun } from '../../spec/adapters/http-call.ts';
import type { Binding, ServiceBinding } from './service-binding.ts';

/**
 * The HTTP Task calls the one URL with the one method, with the credentials of the one connection,
 * which EventBridge keeps in a Secrets Manager secret named after the connection. As the docs'
 * least-privilege example, but with the secret scoped to this connection's name.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/call-https-apis.html#connect-http-task-permissions
 */
export const HTTP_CALL_BINDING: ServiceBinding<HttpCallRun> = {
  bind: (run): Binding => {
    const [, partition, , region, account, resource = ''] = run.connection.split(':');
    const name = resource.split('/')[1];
    const secret = `arn:${partition}:secretsmanager:${region}:${account}:secret:events!connection/${name}/*`;
    return {
      statements: [
        new iam.PolicyStatement({
          actions: ['states:InvokeHTTPEndpoint'],
          resources: ['*'],
          conditions: {
            StringEquals: { 'states:HTTPMethod': run.method ?? 'GET' },
            StringLike: { 'states:HTTPEndpoint': run.url },
          },
        }),
        new iam.PolicyStatement({
          actions: ['events:RetrieveConnectionCredentials'],
          resources: [run.connection],
        }),
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [secret],
        }),
      ],
      wildcards: [
        {
          resource: secret,
          reason:
            "EventBridge names the connection's secret with a suffix of its own, known only once created; the wildcard is limited to the secrets of this one connection.",
        },
      ],
    };
  },
};
