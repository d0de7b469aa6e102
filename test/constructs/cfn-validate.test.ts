// Synthesizes for real (esbuild bundling, cdk-nag's AwsSolutions pack) and checks every template with
// the offline CloudFormation validator that aws-cdk-lib bundles.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../bin/build-app.ts';
import { PipelineStack } from '../../lib/constructs/pipeline-stack.ts';
import { readDeployment } from '../../lib/local/template.ts';
import { largePipeline } from '../private/large-pipeline.ts';
import {
  loadCloudFormationValidate,
  removeOutdir,
  tempOutdir,
  testApp,
  validateTemplates,
} from '../private/synth.ts';

/** The context `cdk synth` passes the app from cdk.json, so the test synthesizes what the CLI would. */
const cdkJsonContext = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

interface ValidationReport {
  readonly pluginReports: readonly {
    readonly pluginName: string;
    readonly conclusion: 'success' | 'failure';
    readonly violations: readonly { readonly ruleName: string; readonly severity: string }[];
  }[];
}

function templatesOf(assembly: CloudAssembly): Record<string, string> {
  return Object.fromEntries(
    assembly.stacks.map((stack) => [stack.templateFile, readFileSync(stack.templateFullPath, 'utf8')]),
  );
}

/** Plugin findings that fail a synth: errors from any plugin, cdk-nag's included. */
function blockingFindings(assembly: CloudAssembly): string[] {
  const file = join(assembly.directory, 'validation-report.json');
  if (!existsSync(file)) return [];
  const report = JSON.parse(readFileSync(file, 'utf8')) as ValidationReport;
  return report.pluginReports.flatMap((plugin) => [
    ...(plugin.conclusion === 'failure' ? [`${plugin.pluginName}: failure`] : []),
    ...plugin.violations
      .filter((v) => v.severity === 'error' || v.severity === 'fatal')
      .map((v) => `${plugin.pluginName}: ${v.severity} ${v.ruleName}`),
  ]);
}

describe('the reference app, as bin/app.ts synthesizes it', () => {
  let outdir: string;
  let assembly: CloudAssembly;

  beforeAll(() => {
    outdir = tempOutdir();
    assembly = buildApp({ outdir, context: cdkJsonContext }).synth();
  });

  afterAll(() => removeOutdir(outdir));

  it('passes the CloudFormation validator with no errors', () => {
    const templates = templatesOf(assembly);
    expect(Object.keys(templates).sort()).toEqual(['CdcSync.template.json', 'Orders.template.json']);
    const { status, diagnostics } = validateTemplates(templates);
    expect(status).toEqual({ 'CdcSync.template.json': 'OK', 'Orders.template.json': 'OK' });
    expect(diagnostics).toEqual([]);
  });

  it('passes cdk-nag AwsSolutions with no errors', () => {
    expect(blockingFindings(assembly)).toEqual([]);
  });

  it('bundles every function with esbuild, as ESM', () => {
    const manifest = JSON.parse(readFileSync(join(assembly.directory, 'Orders.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const bundles = Object.values(manifest.files)
      .filter((file) => file.source.packaging === 'zip')
      .map((file) => readdirSync(join(assembly.directory, file.source.path)));
    // Five orders handlers, the dispatcher, the recorder and the reconciler.
    expect(bundles).toEqual(Array.from({ length: 8 }, () => ['index.mjs']));
  });
});

describe('the checks themselves', () => {
  it('surfaces a cdk-nag error as a failed synth', () => {
    const { app, outdir } = testApp({ bundle: false });
    try {
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      new sns.Topic(new Stack(app, 'Careless'), 'PlainTopic');
      expect(() => app.synth()).toThrow(/AwsSolutions-SNS3/);
    } finally {
      removeOutdir(outdir);
    }
  });

  it('finds errors in a broken template', () => {
    const broken = JSON.stringify({
      Resources: { Table: { Type: 'AWS::DynamoDB::Table', Properties: { BillingMode: 'SOMETIMES' } } },
    });
    const { diagnostics } = validateTemplates({ 'broken.json': broken });
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(loadCloudFormationValidate().version()).toMatch(/^\d+\.\d+/);
  });
});

describe('a 300-task pipeline', () => {
  let outdir: string;
  let assembly: CloudAssembly;
  let templateText: string;

  beforeAll(() => {
    const created = testApp({ bundle: true, props: { context: cdkJsonContext } });
    outdir = created.outdir;
    Validations.of(created.app).addPlugins(new AwsSolutionsChecks(created.app));
    new PipelineStack(created.app, 'Large', { pipelines: [largePipeline(300)] });
    assembly = created.app.synth();
    templateText = readFileSync(assembly.getStackByName('Large').templateFullPath, 'utf8');
  });

  afterAll(() => removeOutdir(outdir));

  it('stays under CloudFormation’s 500 resources, with resources per handler, not per task', () => {
    const resources = Object.values(
      (JSON.parse(templateText) as { Resources: Record<string, { Type: string }> }).Resources,
    );
    expect(resources.length).toBeLessThan(500);
    // Three handler files, and the dispatcher, recorder and reconciler.
    expect(resources.filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(3 + 3);
  });

  it('names the tasks each function serves within Lambda’s 256-character description', () => {
    const functions = Object.values(
      (
        JSON.parse(templateText) as {
          Resources: Record<string, { Type: string; Properties: { Description?: string } }>;
        }
      ).Resources,
    ).filter((r) => r.Type === 'AWS::Lambda::Function');
    const descriptions = functions.map((f) => f.Properties.Description ?? '');
    expect(descriptions.every((d) => d.length <= 256)).toBe(true);
    expect(descriptions).toContainEqual(
      expect.stringMatching(/^stepwise large: l0-t0, l0-t1, .* and \d+ more$/),
    );
  });

  it('keeps the state machine definition under Step Functions’ 1 MB, shipped from S3', () => {
    const template = JSON.parse(templateText) as {
      Resources: Record<string, { Type: string; Properties: { DefinitionS3Location?: unknown } }>;
    };
    const [machine] = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    // Past 100 KB the definition is an S3 asset (lib/constructs/definition-body.ts), read back here.
    expect(machine?.Properties.DefinitionS3Location).toBeDefined();
    const [local] = readDeployment(JSON.parse(templateText), assembly.directory).stateMachines;
    const definition = JSON.stringify(local?.definition ?? '');
    expect(Buffer.byteLength(definition)).toBeGreaterThan(100_000);
    expect(Buffer.byteLength(definition)).toBeLessThan(1_000_000);
    expect(Buffer.byteLength(templateText)).toBeLessThan(1_000_000);
  });

  it('passes the CloudFormation validator and cdk-nag with no errors', () => {
    const { status, diagnostics } = validateTemplates(templatesOf(assembly));
    expect(status).toEqual({ 'Large.template.json': 'OK' });
    expect(diagnostics).toEqual([]);
    expect(blockingFindings(assembly)).toEqual([]);
  });
});
