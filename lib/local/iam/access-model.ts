import { LOCAL_ACCOUNT, type Template } from '../template.ts';

/** An IAM policy document, as the template holds it once its intrinsics are resolved. */
export type PolicyDocument = { readonly Version?: string; readonly Statement: unknown };

/** Who signs a call to a stand-in: a Lambda function or a state machine, under its role. */
export interface Caller {
  /** The access key id the caller signs with locally: its logical id. */
  readonly accessKeyId: string;
  readonly roleLogicalId: string;
  /** `arn:aws:iam::<account>:role/<name>`. */
  readonly roleArn: string;
  /** `arn:aws:sts::<account>:assumed-role/<name>/<session>`, as AWS names the caller in a denial. */
  readonly sessionArn: string;
}

/** The role's policies as the template attaches them. */
export interface RolePolicies {
  readonly identityPolicies: readonly { readonly name: string; readonly policy: PolicyDocument }[];
  /** AWS managed policy ARNs the role has: their text is not in the template, so nothing here reads them. */
  readonly unreadManagedPolicies: readonly string[];
}

/**
 * Everything the local engine needs to authorize a call the way AWS would: each caller's role and its
 * identity policies, and the resource policies AWS checks besides (bucket, topic and KMS key policies),
 * with the keys of encrypted topics and buckets.
 */
export interface AccessModel {
  /** Callers by the access key id each signs with. */
  readonly callers: ReadonlyMap<string, Caller>;
  /** Policies by role logical id. */
  readonly roles: ReadonlyMap<string, RolePolicies>;
  /** Bucket policies by local bucket name. */
  readonly bucketPolicies: ReadonlyMap<string, PolicyDocument>;
  /** Topic policies by topic ARN. */
  readonly topicPolicies: ReadonlyMap<string, PolicyDocument>;
  /** The KMS key an encrypted topic uses, by topic ARN. */
  readonly topicKeys: ReadonlyMap<string, string>;
  /** Key policies by key ARN. */
  readonly keyPolicies: ReadonlyMap<string, PolicyDocument>;
  /**
   * The KMS key of each bucket whose default encryption is SSE-KMS with a key the template defines, by
   * local bucket name: S3 uses that key as the caller, so the caller needs it too.
   */
  readonly bucketKeys: ReadonlyMap<string, string>;
  /** Buckets the template defines, by local name, and whether each sends its events to EventBridge. */
  readonly buckets: ReadonlyMap<string, { readonly eventBridge: boolean }>;
}

type Resolve = (value: unknown) => unknown;

/**
 * The AWS managed policies whose text the local engine knows, because aws-cdk-lib attaches them to
 * every Lambda role it makes. Any other AWS managed policy is reported as unread in a denial.
 *
 * @see https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html
 */
const KNOWN_MANAGED_POLICIES: Record<string, PolicyDocument> = {
  'service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: '*',
      },
    ],
  },
};

/**
 * Reads the template's IAM: roles with their inline policies, `AWS::IAM::Policy` and
 * `AWS::IAM::ManagedPolicy` resources attached to them, managed policy ARNs, and which role each
 * Lambda function and state machine runs as. Intrinsics resolve to local names through `resolve`.
 */
export function readAccessModel(template: Template, resolve: Resolve): AccessModel {
  const resources = Object.entries(template.Resources);
  const roleOf = (value: unknown): string | undefined => {
    // A role given as { Fn::GetAtt: [Role, Arn] } or { Ref: Role }; a literal ARN is not ours to read.
    const v = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string } | undefined;
    const logicalId = v?.['Fn::GetAtt']?.[0] ?? v?.Ref;
    return logicalId && template.Resources[logicalId]?.Type === 'AWS::IAM::Role' ? logicalId : undefined;
  };
  const roleName = (logicalId: string): string => {
    const name = template.Resources[logicalId]?.Properties?.RoleName;
    return typeof name === 'string' ? name : logicalId;
  };

  const policies = new Map<string, { name: string; policy: PolicyDocument }[]>();
  const managed = new Map<string, string[]>();
  const attach = (role: string, name: string, policy: unknown) => {
    const list = policies.get(role) ?? [];
    list.push({ name, policy: resolve(policy) as PolicyDocument });
    policies.set(role, list);
  };
  const managedPolicyIds = new Map<string, string>();
  for (const [logicalId, resource] of resources) {
    if (resource.Type === 'AWS::IAM::ManagedPolicy') managedPolicyIds.set(logicalId, logicalId);
  }

  for (const [logicalId, resource] of resources) {
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::IAM::Role': {
        for (const inline of (props.Policies ?? []) as { PolicyName?: unknown; PolicyDocument: unknown }[])
          attach(logicalId, String(inline.PolicyName ?? 'inline'), inline.PolicyDocument);
        for (const arn of (props.ManagedPolicyArns ?? []) as unknown[]) {
          const ref = (arn as { Ref?: string }).Ref;
          if (ref && managedPolicyIds.has(ref)) {
            const doc = template.Resources[ref]?.Properties?.PolicyDocument;
            attach(logicalId, ref, doc);
            continue;
          }
          const managedArn = String(resolve(arn));
          const known = KNOWN_MANAGED_POLICIES[managedArn.replace(/^arn:[^:]+:iam::aws:policy\//, '')];
          if (known) {
            attach(logicalId, managedArn, known);
            continue;
          }
          const list = managed.get(logicalId) ?? [];
          list.push(managedArn);
          managed.set(logicalId, list);
        }
        break;
      }
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy': {
        for (const role of (props.Roles ?? []) as unknown[]) {
          const roleId = (role as { Ref?: string }).Ref;
          if (roleId && template.Resources[roleId]?.Type === 'AWS::IAM::Role')
            attach(roleId, String(props.PolicyName ?? logicalId), props.PolicyDocument);
        }
        break;
      }
    }
  }

  const callers = new Map<string, Caller>();
  const addCaller = (accessKeyId: string, role: string | undefined) => {
    if (!role) return;
    const name = roleName(role);
    callers.set(accessKeyId, {
      accessKeyId,
      roleLogicalId: role,
      roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${name}`,
      sessionArn: `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${name}/${accessKeyId}`,
    });
  };
  const bucketPolicies = new Map<string, PolicyDocument>();
  const topicPolicies = new Map<string, PolicyDocument>();
  const topicKeys = new Map<string, string>();
  const keyPolicies = new Map<string, PolicyDocument>();
  const buckets = new Map<string, { eventBridge: boolean }>();
  const bucketKeyIds = new Map<string, string>();
  const eventBridgeByCustomResource = new Set<string>();
  for (const [logicalId, resource] of resources) {
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::Lambda::Function':
        addCaller(logicalId, roleOf(props.Role));
        break;
      case 'AWS::StepFunctions::StateMachine':
        addCaller(logicalId, roleOf(props.RoleArn));
        break;
      case 'AWS::S3::Bucket': {
        const notifications = props.NotificationConfiguration as
          | { EventBridgeConfiguration?: { EventBridgeEnabled?: unknown } }
          | undefined;
        const enabled = notifications?.EventBridgeConfiguration?.EventBridgeEnabled;
        const name = String(resolve({ Ref: logicalId }));
        buckets.set(name, { eventBridge: enabled === true || enabled === 'true' });
        const key = sseKmsKeyOf(props.BucketEncryption);
        if (key !== undefined) bucketKeyIds.set(name, String(resolve(key)));
        break;
      }
      // aws-cdk-lib's `eventBridgeEnabled: true` sets the configuration through a custom resource.
      case 'Custom::S3BucketNotifications': {
        const config = props.NotificationConfiguration as { EventBridgeConfiguration?: unknown } | undefined;
        if (config?.EventBridgeConfiguration !== undefined)
          eventBridgeByCustomResource.add(String(resolve(props.BucketName)));
        break;
      }
      case 'AWS::S3::BucketPolicy':
        bucketPolicies.set(String(resolve(props.Bucket)), resolve(props.PolicyDocument) as PolicyDocument);
        break;
      case 'AWS::SNS::TopicPolicy':
        for (const topic of (props.Topics ?? []) as unknown[])
          topicPolicies.set(String(resolve(topic)), resolve(props.PolicyDocument) as PolicyDocument);
        break;
      case 'AWS::SNS::Topic':
        if (props.KmsMasterKeyId !== undefined)
          topicKeys.set(String(resolve({ Ref: logicalId })), String(resolve(props.KmsMasterKeyId)));
        break;
      case 'AWS::KMS::Key':
        keyPolicies.set(
          String(resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] })),
          resolve(props.KeyPolicy) as PolicyDocument,
        );
        break;
    }
  }
  for (const name of eventBridgeByCustomResource) buckets.set(name, { eventBridge: true });
  // Only a key whose policy the template holds can be evaluated; an AWS managed key (aws/s3) lets any
  // caller in the account use it through S3, and an imported key's policy is not here to read.
  const bucketKeys = new Map([...bucketKeyIds].filter(([, key]) => keyPolicies.has(key)));

  const roles = new Map<string, RolePolicies>();
  for (const [logicalId, resource] of resources) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    roles.set(logicalId, {
      identityPolicies: policies.get(logicalId) ?? [],
      unreadManagedPolicies: managed.get(logicalId) ?? [],
    });
  }
  return { callers, roles, bucketPolicies, topicPolicies, topicKeys, keyPolicies, bucketKeys, buckets };
}

/** The KMS key of a bucket's default SSE-KMS encryption (`aws:kms` or `aws:kms:dsse`), if it names one. */
function sseKmsKeyOf(encryption: unknown): unknown {
  const rules =
    (encryption as { ServerSideEncryptionConfiguration?: unknown[] } | undefined)
      ?.ServerSideEncryptionConfiguration ?? [];
  for (const rule of rules) {
    const byDefault = (
      rule as { ServerSideEncryptionByDefault?: { SSEAlgorithm?: unknown; KMSMasterKeyID?: unknown } }
    ).ServerSideEncryptionByDefault;
    if (
      String(byDefault?.SSEAlgorithm ?? '').startsWith('aws:kms') &&
      byDefault?.KMSMasterKeyID !== undefined
    )
      return byDefault.KMSMasterKeyID;
  }
  return undefined;
}

/** The model of a deployment that has none: no callers, so every function signs as the owner. */
export const NO_ACCESS_MODEL: AccessModel = {
  callers: new Map(),
  roles: new Map(),
  bucketPolicies: new Map(),
  topicPolicies: new Map(),
  topicKeys: new Map(),
  keyPolicies: new Map(),
  bucketKeys: new Map(),
  buckets: new Map(),
};
