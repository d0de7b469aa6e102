import type * as IamSimulate from '@cloud-copilot/iam-simulate';
import type { Simulation } from '@cloud-copilot/iam-simulate';
import { LOCAL_ACCOUNT } from '../template.ts';
import type { AccessModel, Caller, PolicyDocument } from './access-model.ts';
import type { RequiredPermission } from './s3-actions.ts';

/**
 * A call its caller's role may not make, as AWS words the denial: "User: <session ARN> is not authorized
 * to perform: <action> on resource: <ARN> because no identity-based policy allows the <action> action"
 * (or "with an explicit deny in a <type> policy").
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
 */
export class AccessDeniedError extends Error {
  override readonly name = 'AccessDeniedError';
  constructor(
    readonly principal: string,
    readonly action: string,
    readonly resource: string,
    readonly context: string,
    /** S3 quotes the resource ARN in its denials; the other services do not. */
    quoteResource = false,
  ) {
    super(
      `User: ${principal} is not authorized to perform: ${action} on resource: ${quoteResource ? `"${resource}"` : resource} ${context}`,
    );
  }
}

/**
 * The IAM evaluator, loaded on first use. It is an optional peer dependency: @cloud-copilot/iam-simulate
 * is AGPL-3.0-or-later, which an Apache-2.0 library should not install into every user's project
 * unasked. Without it, local calls are not authorized, and the CLI says so on every local command.
 */
let simulator: Promise<typeof IamSimulate | undefined> | undefined;

export function loadIamSimulator(): Promise<typeof IamSimulate | undefined> {
  simulator ??= import('@cloud-copilot/iam-simulate').then(
    (module) => module,
    () => undefined,
  );
  return simulator;
}

/** What a local command says when IAM is not checked, and how to turn the checks on. */
export const IAM_NOT_ENFORCED =
  'IAM is not checked locally: install the evaluator to fail here where AWS would deny a call (npm install --save-dev @cloud-copilot/iam-simulate; it is AGPL-3.0-or-later)';

/** Decisions kept before the cache starts over: far more than one local command makes distinct calls. */
const MAX_CACHED_DECISIONS = 10_000;

/** A request signed with an access key no local caller has. */
export class UnknownAccessKeyError extends Error {
  override readonly name = 'UnknownAccessKeyError';
}

/** The key the local engine's own clients sign with (the developer's, standing in for the account owner). */
export const OWNER_ACCESS_KEY_ID = 'S3RVER';

/** Every call is made over TLS on AWS (the SDK's default); `aws:SecureTransport` is true, as there. */
const TRANSPORT_CONTEXT = { 'aws:SecureTransport': 'true' };

/**
 * Authorizes calls to the local stand-ins against the synthesized IAM, with @cloud-copilot/iam-simulate:
 * the caller's identity policies, the resource policy of the bucket or topic the call names, and for a
 * publish to a KMS-encrypted topic the key's policy and the caller's kms:GenerateDataKey and
 * kms:Decrypt, as SNS checks them (an SSE-KMS bucket's key: see `sseKmsPermissions`). Calls signed
 * with the owner's key are not checked.
 */
export class Authorizer {
  /** Evaluations the simulator ran so far (a repeated question is answered from the cache). */
  evaluations = 0;
  /**
   * Decisions by caller, action and resource. An evaluation depends on nothing else (the policies are
   * fixed for the deployment, and the context keys set here are constants), so a repeat is exact.
   */
  private readonly decisions = new Map<string, Promise<AccessDeniedError | undefined>>();

  constructor(private readonly model: AccessModel) {}

  /**
   * The KMS key of a bucket's default SSE-KMS encryption, when the template defines both.
   * @see sseKmsPermissions
   */
  bucketKey(bucket: string): string | undefined {
    return this.model.bucketKeys.get(bucket);
  }

  /** The caller an access key stands for; undefined for the owner's key. Throws for a key nobody has. */
  callerOf(accessKeyId: string | undefined): Caller | undefined {
    if (accessKeyId === OWNER_ACCESS_KEY_ID) return undefined;
    const caller = accessKeyId === undefined ? undefined : this.model.callers.get(accessKeyId);
    if (!caller)
      throw new UnknownAccessKeyError(
        `The security token included in the request is invalid: no function or state machine in the synthesized app signs with access key '${accessKeyId ?? '(none)'}'`,
      );
    return caller;
  }

  /**
   * Resolves with the first permission the caller lacks, as the denial AWS would send, or undefined
   * when every one is allowed. `quoteResource` is S3's way of writing the ARN.
   */
  async authorize(
    accessKeyId: string | undefined,
    permissions: readonly RequiredPermission[],
    options: { quoteResource?: boolean } = {},
  ): Promise<AccessDeniedError | undefined> {
    const caller = this.callerOf(accessKeyId);
    if (!caller) return undefined;
    const quote = options.quoteResource ?? false;
    for (const permission of this.withImpliedPermissions(permissions)) {
      const key = `${caller.accessKeyId}\n${permission.action}\n${permission.resource}\n${quote}\n${JSON.stringify(permission.context ?? {})}`;
      let decision = this.decisions.get(key);
      if (!decision) {
        if (this.decisions.size >= MAX_CACHED_DECISIONS) this.decisions.clear();
        decision = this.evaluate(caller, permission, quote);
        this.decisions.set(key, decision);
        decision.catch(() => this.decisions.delete(key));
      }
      const denial = await decision;
      if (denial) return denial;
    }
    return undefined;
  }

  /** Publishing to an encrypted topic also uses its key: SNS asks for kms:GenerateDataKey and kms:Decrypt. */
  private withImpliedPermissions(permissions: readonly RequiredPermission[]): RequiredPermission[] {
    return permissions.flatMap((permission) => {
      const key =
        permission.action === 'sns:Publish' ? this.model.topicKeys.get(permission.resource) : undefined;
      if (!key || !this.model.keyPolicies.has(key)) return [permission];
      return [
        permission,
        { action: 'kms:GenerateDataKey', resource: key },
        { action: 'kms:Decrypt', resource: key },
      ];
    });
  }

  private resourcePolicyFor(permission: RequiredPermission): PolicyDocument | undefined {
    const { action, resource } = permission;
    if (action.startsWith('s3:') && resource.startsWith('arn:aws:s3:::')) {
      const bucket = resource.slice('arn:aws:s3:::'.length).split('/')[0] ?? '';
      return this.model.bucketPolicies.get(bucket);
    }
    if (action.startsWith('sns:')) return this.model.topicPolicies.get(resource);
    if (action.startsWith('kms:')) return this.model.keyPolicies.get(resource);
    return undefined;
  }

  private async evaluate(
    caller: Caller,
    permission: RequiredPermission,
    quoteResource: boolean,
  ): Promise<AccessDeniedError | undefined> {
    const iam = await loadIamSimulator();
    if (iam === undefined) return undefined;
    this.evaluations++;
    const role = this.model.roles.get(caller.roleLogicalId);
    const resourcePolicy = this.resourcePolicyFor(permission);
    const simulation: Simulation = {
      request: {
        principal: caller.sessionArn,
        action: permission.action,
        resource: { resource: permission.resource, accountId: LOCAL_ACCOUNT },
        contextVariables: {
          ...TRANSPORT_CONTEXT,
          ...permission.context,
          'aws:PrincipalArn': caller.roleArn,
          'aws:PrincipalAccount': LOCAL_ACCOUNT,
        },
      },
      identityPolicies: (role?.identityPolicies ?? []).map((p) => ({ name: p.name, policy: p.policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
    };
    const result = await iam.runSimulation(simulation, {});
    if (result.resultType === 'error') {
      // The evaluator refuses input it cannot read (an unknown action, a malformed policy): a denial
      // that says so, rather than a pass nobody checked.
      return new AccessDeniedError(
        caller.sessionArn,
        permission.action,
        permission.resource,
        `because the local IAM evaluator could not evaluate the request: ${result.errors.message}`,
        quoteResource,
      );
    }
    if (result.overallResult === 'Allowed') return undefined;
    const analysis = result.resultType === 'single' ? result.result.analysis : result.results[0]?.analysis;
    const reasons = analysis ? iam.getDenialReasons(analysis) : [];
    const explicit = reasons.find((r) => r.denialType === 'Explicit');
    const reason = explicit ?? reasons[0];
    const policyType = reason ? POLICY_TYPE_WORDS[reason.policyType] : 'identity-based';
    const unread = role?.unreadManagedPolicies ?? [];
    const note =
      unread.length > 0
        ? ` (the role also has ${unread.join(', ')}, AWS managed policies the local engine cannot read)`
        : '';
    return new AccessDeniedError(
      caller.sessionArn,
      permission.action,
      permission.resource,
      (explicit
        ? `with an explicit deny in ${policyType === 'identity-based' ? 'an' : 'a'} ${policyType} policy`
        : `because no ${policyType} policy allows the ${permission.action} action`) + note,
      quoteResource,
    );
  }
}

const POLICY_TYPE_WORDS: Record<string, string> = {
  identity: 'identity-based',
  resource: 'resource-based',
  scp: 'service control',
  rcp: 'resource control',
  pb: 'permissions boundary',
  vpce: 'VPC endpoint',
  's3-bpa': 'S3 Block Public Access',
};
