// The synthesized IAM, as the local engine reads and evaluates it: identity policies from aws-cdk-lib's
// own grant methods, a bucket policy's and a topic policy's explicit deny, and an encrypted topic's key.
import { describe, expect, it } from 'vitest';
import {
  dynamodbPermissions,
  eventsPermissions,
  stepFunctionsPermissions,
} from '../../lib/local/iam/api-actions.ts';
import { Authorizer, OWNER_ACCESS_KEY_ID, UnknownAccessKeyError } from '../../lib/local/iam/authorizer.ts';
import { s3Permissions, sseKmsPermissions, UnmappedRequestError } from '../../lib/local/iam/s3-actions.ts';
import { authorizeLambdaInvoke } from '../../lib/local/integrations.ts';
import { accessStack } from '../private/access-stack.ts';

const { deployment, ids } = accessStack();
const access = deployment.access;
if (!access) throw new Error('readDeployment gave no access model');
const authorizer = new Authorizer(access);
const object = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

describe('reading the template', () => {
  it('knows each function by its logical id, under its role as an assumed-role session', () => {
    const copier = access.callers.get(ids.copier);
    expect(copier?.sessionArn).toMatch(
      new RegExp(`^arn:aws:sts::000000000000:assumed-role/${copier?.roleLogicalId}/${ids.copier}$`),
    );
  });

  it('reads bucket policies, the topic key and its key policy, bucket keys, and which buckets send events', () => {
    expect([...access.bucketPolicies.keys()]).toEqual(['curated']);
    expect(access.topicKeys.get(ids.topicArn)).toBe(ids.keyArn);
    expect(access.keyPolicies.has(ids.keyArn)).toBe(true);
    expect(Object.fromEntries(access.buckets)).toEqual({
      landing: { eventBridge: true },
      curated: { eventBridge: false },
      sealed: { eventBridge: false },
    });
    expect(Object.fromEntries(access.bucketKeys)).toEqual({ sealed: ids.sealedKeyArn });
  });
});

describe('identity policies', () => {
  it('allows what a grant gives, on that bucket only', async () => {
    expect(
      await authorizer.authorize(ids.copier, [
        { action: 's3:GetObject', resource: object('landing', 'in/a.csv') },
        { action: 's3:ListBucket', resource: 'arn:aws:s3:::landing' },
        { action: 's3:PutObject', resource: object('curated', 'out/a.csv') },
      ]),
    ).toBeUndefined();
  });

  it('fails when the role has no grant, naming action, resource and role as AWS does', async () => {
    const denial = await authorizer.authorize(
      ids.reader,
      [{ action: 's3:PutObject', resource: object('curated', 'out/a.csv') }],
      { quoteResource: true },
    );
    const role = access.callers.get(ids.reader)?.roleLogicalId;
    expect(denial?.message).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/${role}/${ids.reader} is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::curated/out/a.csv" because no identity-based policy allows the s3:PutObject action`,
    );
  });

  it('reads a table grant, and refuses the write it does not give', async () => {
    const table = `arn:aws:dynamodb:us-east-1:000000000000:table/${ids.table}`;
    expect(
      await authorizer.authorize(ids.copier, [{ action: 'dynamodb:GetItem', resource: table }]),
    ).toBeUndefined();
    const denial = await authorizer.authorize(ids.copier, [{ action: 'dynamodb:PutItem', resource: table }]);
    expect(denial?.message).toContain(
      `dynamodb:PutItem on resource: ${table} because no identity-based policy`,
    );
  });

  it('does not check the owner, and refuses a key no function has', async () => {
    expect(
      await authorizer.authorize(OWNER_ACCESS_KEY_ID, [
        { action: 's3:PutObject', resource: object('x', 'y') },
      ]),
    ).toBeUndefined();
    await expect(authorizer.authorize('Nobody', [])).rejects.toThrow(UnknownAccessKeyError);
  });
});

describe('resource policies', () => {
  it("fails when the bucket policy denies, although the role's policy allows", async () => {
    const denial = await authorizer.authorize(ids.copier, [
      { action: 's3:DeleteObject', resource: object('curated', 'out/a.csv') },
    ]);
    expect(denial?.message).toMatch(/s3:DeleteObject .* with an explicit deny in a resource-based policy$/);
  });

  it("fails when the topic policy denies, although the role's policy allows; TLS-only lets SDK calls by", async () => {
    expect(access.topicPolicies.has(ids.noticesArn)).toBe(true);
    const publish = [{ action: 'sns:Publish', resource: ids.noticesArn }];
    expect(await authorizer.authorize(ids.publisher, publish)).toBeUndefined();
    const denial = await authorizer.authorize(ids.reader, publish);
    expect(denial?.message).toMatch(
      new RegExp(
        `/${ids.reader} is not authorized to perform: sns:Publish on resource: ${ids.noticesArn} with an explicit deny in a resource-based policy$`,
      ),
    );
  });

  it("fails when the key policy denies, although the role's policy allows", async () => {
    const use = (action: string) => [{ action, resource: ids.sealedKeyArn }];
    expect(await authorizer.authorize(ids.copier, use('kms:Decrypt'))).toBeUndefined();
    const denial = await authorizer.authorize(ids.copier, use('kms:ReEncryptFrom'));
    expect(denial?.message).toMatch(
      new RegExp(
        `/${ids.copier} is not authorized to perform: kms:ReEncryptFrom on resource: ${ids.sealedKeyArn} with an explicit deny in a resource-based policy$`,
      ),
    );
  });

  it('publishes to an encrypted topic only with the use of its key', async () => {
    const publish = [{ action: 'sns:Publish', resource: ids.topicArn }];
    expect(await authorizer.authorize(ids.publisher, publish)).toBeUndefined();
    const denial = await authorizer.authorize(ids.keylessPublisher, publish);
    expect(denial?.action).toBe('kms:GenerateDataKey');
    expect(denial?.resource).toBe(ids.keyArn);
  });
});

describe("a state machine's calls", () => {
  const integrations = { services: {} as never, authorizer, caller: ids.machine };
  const arnOf = (id: string) => `arn:aws:lambda:us-east-1:000000000000:function:${id}`;

  it('invokes a function its role may invoke', async () => {
    await expect(authorizeLambdaInvoke(integrations, arnOf(ids.copier))).resolves.toBeUndefined();
  });

  it('fails when its role may not invoke the function, as Lambda.AWSLambdaException with the 403', async () => {
    const error = await authorizeLambdaInvoke(integrations, arnOf(ids.reader)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('Lambda.AWSLambdaException');
    expect((error as Error).message).toMatch(
      new RegExp(
        `^User: arn:aws:sts::000000000000:assumed-role/MachineRole\\w+/${ids.machine} is not authorized to perform: lambda:InvokeFunction on resource: ${arnOf(ids.reader)} because no identity-based policy allows the lambda:InvokeFunction action \\(Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; `,
      ),
    );
  });
});

describe('what each request needs', () => {
  const s3 = (method: string, path: string, query = '', headers: Record<string, string> = {}, body = '') => {
    const [bucket, ...key] = path.split('/');
    return s3Permissions({
      method,
      bucket,
      key: key.length > 0 ? key.join('/') : undefined,
      query: new URLSearchParams(query),
      headers,
      body,
    });
  };

  it('maps S3 REST requests to the actions S3 documents', () => {
    expect(s3('GET', 'b/k', 'x-id=GetObject')).toEqual([
      { action: 's3:GetObject', resource: object('b', 'k') },
    ]);
    expect(s3('HEAD', 'b/k', 'versionId=v1')[0]?.action).toBe('s3:GetObjectVersion');
    expect(s3('GET', 'b', 'list-type=2')).toEqual([{ action: 's3:ListBucket', resource: 'arn:aws:s3:::b' }]);
    expect(s3('HEAD', 'b')[0]?.action).toBe('s3:ListBucket');
    expect(s3('PUT', 'b/k', 'partNumber=1&uploadId=u')[0]?.action).toBe('s3:PutObject');
    expect(s3('POST', 'b/k', 'uploads')[0]?.action).toBe('s3:PutObject');
    expect(s3('DELETE', 'b/k', 'uploadId=u')[0]?.action).toBe('s3:AbortMultipartUpload');
    expect(s3('DELETE', 'b/k', 'versionId=v1')[0]?.action).toBe('s3:DeleteObjectVersion');
  });

  it('needs read access to the source of a copy, decoded as S3 decodes it', () => {
    expect(
      s3('PUT', 'dst/q/a+b', '', { 'x-amz-copy-source': 'src/in/a%2Bb%26c%3Dd%20e.csv?versionId=v9' }),
    ).toEqual([
      { action: 's3:PutObject', resource: object('dst', 'q/a+b') },
      { action: 's3:GetObjectVersion', resource: object('src', 'in/a+b&c=d e.csv') },
    ]);
  });

  it("needs an SSE-KMS bucket's key to read or write content, and not for HEAD, tags or listings", () => {
    const kmsFor = (method: string, path: string, query = '', headers: Record<string, string> = {}) => {
      const [bucket, ...key] = path.split('/');
      return sseKmsPermissions(
        {
          method,
          bucket,
          key: key.length > 0 ? key.join('/') : undefined,
          query: new URLSearchParams(query),
          headers,
          body: '',
        },
        (name) => (name === 'sealed' ? 'arn:key/sealed' : undefined),
      ).map((p) => `${p.action} ${p.resource}`);
    };
    expect({
      get: kmsFor('GET', 'sealed/k'),
      head: kmsFor('HEAD', 'sealed/k'),
      put: kmsFor('PUT', 'sealed/k'),
      uploadPart: kmsFor('PUT', 'sealed/k', 'partNumber=1&uploadId=u'),
      createUpload: kmsFor('POST', 'sealed/k', 'uploads'),
      completeUpload: kmsFor('POST', 'sealed/k', 'uploadId=u'),
      copyOut: kmsFor('PUT', 'plain/k', '', { 'x-amz-copy-source': 'sealed/k' }),
      copyIn: kmsFor('PUT', 'sealed/k', '', { 'x-amz-copy-source': 'plain/k' }),
      tagging: kmsFor('PUT', 'sealed/k', 'tagging'),
      list: kmsFor('GET', 'sealed', 'list-type=2'),
      plain: kmsFor('GET', 'plain/k'),
    }).toEqual({
      get: ['kms:Decrypt arn:key/sealed'],
      head: [],
      put: ['kms:GenerateDataKey arn:key/sealed'],
      uploadPart: ['kms:GenerateDataKey arn:key/sealed'],
      createUpload: ['kms:GenerateDataKey arn:key/sealed'],
      completeUpload: ['kms:Decrypt arn:key/sealed'],
      copyOut: ['kms:Decrypt arn:key/sealed'],
      copyIn: ['kms:GenerateDataKey arn:key/sealed'],
      tagging: [],
      list: [],
      plain: [],
    });
  });

  it('needs DeleteObject on each key a DeleteObjects names', () => {
    const body =
      '<Delete><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key><VersionId>1</VersionId></Object></Delete>';
    expect(s3('POST', 'b', 'delete', {}, body)).toEqual([
      { action: 's3:DeleteObject', resource: object('b', 'a&b') },
      { action: 's3:DeleteObjectVersion', resource: object('b', 'c') },
    ]);
  });

  it('fails when a request names a subresource nothing maps, rather than let it through', () => {
    expect(() => s3('GET', 'b', 'replication')).toThrow(UnmappedRequestError);
  });

  it('maps DynamoDB, EventBridge and Step Functions targets to actions on the resource they name', () => {
    expect(dynamodbPermissions('DynamoDB_20120810.Query', { TableName: 'T', IndexName: 'byStatus' })).toEqual(
      [
        {
          action: 'dynamodb:Query',
          resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/T/index/byStatus',
        },
      ],
    );
    expect(
      dynamodbPermissions('DynamoDB_20120810.BatchWriteItem', { RequestItems: { A: [], B: [] } }),
    ).toHaveLength(2);
    expect(eventsPermissions('AWSEvents.PutEvents', { Entries: [{}, { EventBusName: 'ops' }] })).toEqual([
      { action: 'events:PutEvents', resource: 'arn:aws:events:us-east-1:000000000000:event-bus/default' },
      { action: 'events:PutEvents', resource: 'arn:aws:events:us-east-1:000000000000:event-bus/ops' },
    ]);
    expect(stepFunctionsPermissions('AWSStepFunctions.DescribeExecution', { executionArn: 'arn:x' })).toEqual(
      [{ action: 'states:DescribeExecution', resource: 'arn:x' }],
    );
  });
});
