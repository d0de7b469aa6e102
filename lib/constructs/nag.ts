import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for one wildcard resource of a role's default
 * policy. Each wildcard is acknowledged by its exact resource, so a new wildcard still fails the synth.
 */
export function acknowledgeWildcardResource(role: iam.Role, resource: string, reason: string): void {
  const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (!policy) throw new Error(`role ${role.node.path} has no default policy to acknowledge findings on`);
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagResource(role, resource)}]`,
    reason,
  });
}

/** How cdk-nag writes a resource in a finding id: tokens become `<LogicalId.Attr>` or `<AWS::Pseudo>`. */
export function nagResource(scope: Construct, value: string): string {
  const resolved = Stack.of(scope).resolve(value) as unknown;
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const ref = (part as { Ref?: string }).Ref;
    if (ref) return `<${ref}>`;
    const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
    const imported = (part as { 'Fn::ImportValue'?: string })['Fn::ImportValue'];
    if (imported) return imported;
    const join = (part as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    if (join) return join[1].map(render).join(join[0]);
    return JSON.stringify(part);
  };
  return render(resolved);
}
