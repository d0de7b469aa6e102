import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StateMachineDefinition } from '../compile/asl.ts';
import { STAND_INS_METADATA } from '../names.ts';
import { type LocalRule, readRules } from './event-rules.ts';
import { type AccessModel, readAccessModel } from './iam/access-model.ts';
import { type LocalSchedule, readSchedules } from './schedules.ts';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> };
export interface Template {
  Resources: Record<string, Resource>;
}

/** A Lambda function as the template deploys it: its bundled code and its environment. */
export interface LocalFunction {
  readonly logicalId: string;
  readonly arn: string;
  /** Absolute path of the bundled module. */
  readonly codeFile: string;
  readonly handlerExport: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
}

export interface LocalStateMachine {
  readonly logicalId: string;
  readonly arn: string;
  readonly definition: StateMachineDefinition;
  /**
   * The local stand-ins of its service tasks, by task: handlers run in the service's place.
   * @default - none
   */
  readonly standIns?: ReadonlyMap<string, LocalFunction>;
}

export interface LocalTable {
  readonly name: string;
  readonly properties: Record<string, unknown>;
}

/** What the local engine needs from a synthesized stack, with every intrinsic resolved to a local value. */
export interface LocalDeployment {
  readonly stateMachines: readonly LocalStateMachine[];
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly tables: readonly LocalTable[];
  /** EventBridge rules with an event pattern: triggers, the recorder's and the dispatcher's. */
  readonly rules: readonly LocalRule[];
  /** EventBridge Scheduler schedules: what backfill replays. */
  readonly schedules: readonly LocalSchedule[];
  /** SNS topic ARNs. */
  readonly topics: readonly string[];
  /**
   * Who may call what: the template's roles, policies and resource policies (see `lib/local/iam`).
   * @default - none: a deployment built by hand has no roles, and nothing is checked
   */
  readonly access?: AccessModel;
}

/**
 * Reads a synthesized template the way CloudFormation would deploy it, but with local names: a table
 * is named by its logical id, a function's ARN ends in its logical id, and so on.
 */
export function readDeployment(template: Template, assemblyDir: string): LocalDeployment {
  const resolve = resolver(template);
  const functions = new Map<string, LocalFunction>();
  const stateMachines: LocalStateMachine[] = [];
  const tables: LocalTable[] = [];
  const topics: string[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type === 'AWS::SNS::Topic') topics.push(String(resolve({ Ref: logicalId })));
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::Lambda::Function': {
        const assetPath = resource.Metadata?.['aws:asset:path'];
        if (typeof assetPath !== 'string') continue; // inline custom-resource code is not ours to run
        const [file, exportName] = String(props.Handler ?? 'index.handler').split('.');
        const variables =
          (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
        const fn: LocalFunction = {
          logicalId,
          arn: functionArn(logicalId),
          codeFile: join(assemblyDir, assetPath, `${file}.mjs`),
          handlerExport: exportName ?? 'handler',
          environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(resolve(v))])),
          timeoutSeconds: Number(props.Timeout ?? 3),
        };
        functions.set(fn.arn, fn);
        break;
      }
      case 'AWS::StepFunctions::StateMachine': {
        const substitutions = (props.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
        let text =
          props.DefinitionS3Location === undefined
            ? String(resolve(props.DefinitionString))
            : readDefinitionAsset(logicalId, resource, resolve, assemblyDir);
        for (const [key, value] of Object.entries(substitutions))
          text = text.split(`\${${key}}`).join(String(resolve(value)));
        stateMachines.push({
          logicalId,
          arn: stateMachineArn(logicalId),
          definition: JSON.parse(text),
          standIns: readStandIns(logicalId, resource.Metadata?.[STAND_INS_METADATA]),
        });
        break;
      }
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::DynamoDB::Table':
        tables.push({ name: logicalId, properties: props });
        break;
    }
  }
  return {
    stateMachines,
    functions,
    tables,
    rules: readRules(template, resolve).rules,
    schedules: readSchedules(template, resolve),
    topics,
    access: readAccessModel(template, resolve),
  };
}

/**
 * A definition shipped as an S3 asset (`DefinitionS3Location`, see lib/constructs/definition-body.ts),
 * read from the asset's file in the cloud assembly: the one the resource's `aws:asset:path` metadata
 * names, or else the file the assembly's asset manifests publish to its S3 key.
 */
function readDefinitionAsset(
  logicalId: string,
  resource: Resource,
  resolve: (value: unknown) => unknown,
  assemblyDir: string,
): string {
  const assetPath = resource.Metadata?.['aws:asset:path'];
  if (typeof assetPath === 'string') return readFileSync(join(assemblyDir, assetPath), 'utf8');
  const key = String(
    resolve((resource.Properties?.DefinitionS3Location as { Key?: unknown } | undefined)?.Key),
  );
  const source = assetSourceByObjectKey(assemblyDir, key);
  if (source === undefined)
    throw new Error(
      `state machine ${logicalId}: its definition is in S3 (key '${key}'), but no asset manifest (*.assets.json) in ${assemblyDir} publishes that key, and the resource has no aws:asset:path metadata; synthesize with the context 'aws:cdk:enable-asset-metadata': true, or read the whole cloud assembly the template came from`,
    );
  return readFileSync(join(assemblyDir, source), 'utf8');
}

interface AssetManifest {
  readonly files?: Record<
    string,
    {
      readonly source: { readonly path?: string };
      readonly destinations: Record<string, { readonly objectKey: string }>;
    }
  >;
}

/** The assembly-relative path of the file asset that the assembly's manifests publish to `objectKey`. */
function assetSourceByObjectKey(assemblyDir: string, objectKey: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(assemblyDir).filter((name) => name.endsWith('.assets.json'));
  } catch {
    return undefined;
  }
  for (const name of names) {
    const manifest = JSON.parse(readFileSync(join(assemblyDir, name), 'utf8')) as AssetManifest;
    for (const file of Object.values(manifest.files ?? {})) {
      if (file.source.path === undefined) continue;
      if (Object.values(file.destinations).some((d) => d.objectKey === objectKey)) return file.source.path;
    }
  }
  return undefined;
}

export function readTemplate(assemblyDir: string, templateFile: string): Template {
  return JSON.parse(readFileSync(join(assemblyDir, templateFile), 'utf8')) as Template;
}

/**
 * A stand-in is hosted as a function of its own, named after its state machine and task. It stands in
 * for the service, not for a role of the app: its calls are not checked, as the service's own are not.
 */
function readStandIns(machine: string, metadata: unknown): ReadonlyMap<string, LocalFunction> {
  const standIns = new Map<string, LocalFunction>();
  if (typeof metadata !== 'object' || metadata === null) return standIns;
  for (const [task, dir] of Object.entries(metadata)) {
    const logicalId = `${machine}StandIn-${task}`;
    standIns.set(task, {
      logicalId,
      arn: functionArn(logicalId),
      codeFile: join(String(dir), 'index.mjs'), // the bundler's BUNDLE_FILE (not imported: it loads esbuild)
      handlerExport: 'handler',
      environment: {},
      // The Task state's own TimeoutSeconds bounds it, as it bounds the service.
      timeoutSeconds: STAND_IN_TIMEOUT_SECONDS,
    });
  }
  return standIns;
}

/**
 * The state's own TimeoutSeconds stops a stand-in first; this only bounds the host's timer, which
 * Node.js caps at about 24.8 days.
 */
const STAND_IN_TIMEOUT_SECONDS = 20 * 24 * 3600;

export function functionArn(logicalId: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
}

export function stateMachineArn(logicalId: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${logicalId}`;
}

/**
 * A bucket's local name: its `BucketName`, or else its logical id in lower case (S3 names are lower
 * case), as CloudFormation would generate a name from the logical id.
 */
export function localBucketName(logicalId: string, properties: Record<string, unknown> | undefined): string {
  const name = properties?.BucketName;
  return typeof name === 'string' ? name : logicalId.toLowerCase().slice(0, 63);
}

export function resolver(template: Template): (value: unknown) => unknown {
  const refOf = (logicalId: string): string => {
    const resource = template.Resources[logicalId];
    switch (resource?.Type) {
      case 'AWS::S3::Bucket':
        return localBucketName(logicalId, resource.Properties);
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${logicalId}`;
      case 'AWS::StepFunctions::StateMachine':
        return stateMachineArn(logicalId);
      case 'AWS::ECS::TaskDefinition': {
        // Ref is the task definition's ARN, with the revision CloudFormation registered.
        const family = resource.Properties?.Family;
        return `arn:aws:ecs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:task-definition/${typeof family === 'string' ? family : logicalId}:1`;
      }
      case undefined:
        throw new Error(`the template refers to '${logicalId}', which it does not define`);
      default:
        return logicalId;
    }
  };
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': LOCAL_REGION,
    'AWS::AccountId': LOCAL_ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'local',
  };
  const resolve = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map(resolve);
    const object = value as Record<string, unknown>;
    if ('Ref' in object) {
      const name = String(object.Ref);
      return pseudo[name] ?? refOf(name);
    }
    if ('Fn::GetAtt' in object) {
      const [logicalId, attribute] = object['Fn::GetAtt'] as [string, string];
      const type = template.Resources[logicalId]?.Type;
      if (attribute === 'Arn' && type === 'AWS::Lambda::Function') return functionArn(logicalId);
      if (attribute === 'Arn' && type?.startsWith('AWS::DynamoDB::')) {
        return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${logicalId}`;
      }
      if (attribute === 'Arn' && type === 'AWS::S3::Bucket')
        return `arn:aws:s3:::${localBucketName(logicalId, template.Resources[logicalId]?.Properties)}`;
      if (attribute === 'Arn' && type === 'AWS::ECS::Cluster')
        return `arn:aws:ecs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:cluster/${logicalId}`;
      if (attribute === 'Arn' && type === 'AWS::KMS::Key')
        return `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT}:key/${logicalId}`;
      const name =
        template.Resources[logicalId]?.Properties?.[type === 'AWS::IAM::Role' ? 'RoleName' : 'Name'];
      const named = typeof name === 'string' ? name : logicalId;
      if (attribute === 'Arn' && type === 'AWS::IAM::Role')
        return `arn:aws:iam::${LOCAL_ACCOUNT}:role/${named}`;
      if (attribute === 'Arn' && type === 'AWS::Events::Rule')
        return `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${named}`;
      if (attribute === 'Name' && type === 'AWS::StepFunctions::StateMachine') return logicalId;
      if (attribute === 'Arn') return `arn:aws:local:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${logicalId}`;
      return `${logicalId}.${attribute}`;
    }
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(separator);
    }
    if ('Fn::Sub' in object) {
      const sub = object['Fn::Sub'];
      const [text, variables] = (Array.isArray(sub) ? sub : [sub, {}]) as [string, Record<string, unknown>];
      return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
        if (name in variables) return String(resolve(variables[name]));
        const [logicalId, attribute] = name.split('.') as [string, string | undefined];
        return String(resolve(attribute ? { 'Fn::GetAtt': [logicalId, attribute] } : { Ref: logicalId }));
      });
    }
    return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolve(v)]));
  };
  return resolve;
}
