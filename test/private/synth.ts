import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';

/**
 * A CDK app writing to a fresh temporary directory, never to the repository's cdk.out. With
 * `bundle: false` NodejsFunction skips esbuild, for tests that only read templates.
 */
export function testApp(options: { bundle: boolean; props?: AppProps }): { app: App; outdir: string } {
  const outdir = tempOutdir();
  const context = { ...options.props?.context, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) };
  return { app: new App({ ...options.props, outdir, context }), outdir };
}

/** A fresh directory for a cloud assembly. */
export function tempOutdir(): string {
  return mkdtempSync(join(tmpdir(), 'stepwise-synth-'));
}

export function removeOutdir(outdir: string): void {
  rmSync(outdir, { recursive: true, force: true });
}

export interface PolicyStatement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every statement of the policies attached to a role, by the role's logical id. */
export function roleStatements(template: Template, roleLogicalId: string): PolicyStatement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleLogicalId }] },
  });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: PolicyStatement[] } } }).Properties
        .PolicyDocument.Statement,
  );
}

export function actionsOf(statement: PolicyStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOf(statement: PolicyStatement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** The logical id of the one resource of a type whose properties match. */
export function logicalIdOf(template: Template, type: string, props: Record<string, unknown> = {}): string {
  const found = Object.keys(template.findResources(type, props));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as string;
}

export interface ValidationDiagnostic {
  readonly ruleId: string;
  readonly severity: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
  readonly message: string;
  readonly entity?: { readonly logicalId?: string };
}

interface CloudFormationValidate {
  readonly CompositeEngine: new () => {
    validateTemplate(template: unknown): { status: string; diagnostics: ValidationDiagnostic[] };
    free(): void;
  };
  readonly TemplateContent: new (content: string, name?: string) => unknown;
  readonly version: () => string;
}

/**
 * The offline CloudFormation validator that aws-cdk-lib bundles. It is not a dependency of this
 * package, so it is reached through aws-cdk-lib's own resolution.
 */
export function loadCloudFormationValidate(): CloudFormationValidate {
  const requireFromCdk = createRequire(createRequire(import.meta.url).resolve('aws-cdk-lib'));
  return requireFromCdk('@aws/cloudformation-validate') as CloudFormationValidate;
}

/** Validates templates and returns their diagnostics of at least the given severity. */
export function validateTemplates(
  templates: Readonly<Record<string, string>>,
  severities: readonly ValidationDiagnostic['severity'][] = ['ERROR', 'FATAL'],
): { status: Record<string, string>; diagnostics: string[] } {
  const cfn = loadCloudFormationValidate();
  const engine = new cfn.CompositeEngine();
  const status: Record<string, string> = {};
  const diagnostics: string[] = [];
  try {
    for (const [name, body] of Object.entries(templates)) {
      const report = engine.validateTemplate(new cfn.TemplateContent(body, name));
      status[name] = report.status;
      for (const d of report.diagnostics) {
        if (severities.includes(d.severity)) {
          diagnostics.push(`${name} ${d.severity} ${d.ruleId} ${d.entity?.logicalId ?? ''}: ${d.message}`);
        }
      }
    }
  } finally {
    engine.free();
  }
  return { status, diagnostics };
}

/**
 * A template value as text, with references written `${LogicalId}` and `${LogicalId.Attr}`: reads
 * an `Fn::Join` such as an ARN or a JSON environment value built around tokens.
 */
export function templateText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const ref = (value as { Ref?: string }).Ref;
  if (ref !== undefined) return `\${${ref}}`;
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (getAtt) return `\${${getAtt[0]}.${getAtt[1]}}`;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(templateText).join(join[0]);
  throw new Error(`cannot read ${JSON.stringify(value)} as text`);
}
