import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CfnResource } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { StateMachineDefinition } from '../compile/asl.ts';
import { sha256 } from '../content-hash.ts';

/**
 * Definitions up to this size stay inline in the template (`DefinitionString`), where they read as
 * they always have; a larger one ships as an S3 asset (`DefinitionS3Location`). CloudFormation takes
 * a template of at most 1 MB from S3, and a 1,000-task pipeline's definitions add up to 2 MB.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 */
export const INLINE_DEFINITION_BYTES = 100 * 1024;

/** The id aws-cdk-lib gives the asset of `DefinitionBody.fromFile`, a child of the state machine. */
const DEFINITION_ASSET_ID = 'DefinitionBody';

/**
 * A compiled definition as the state machine's body: inline, or past `INLINE_DEFINITION_BYTES` (or
 * when `asAsset`) a file asset that CloudFormation reads from S3. `DefinitionSubstitutions` fill its
 * placeholders either way. Call `addDefinitionAssetMetadata` once the state machine exists.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-stepfunctions-statemachine.html
 */
export function pipelineDefinitionBody(
  definition: StateMachineDefinition,
  options: { readonly asAsset?: boolean } = {},
): sfn.DefinitionBody {
  const text = JSON.stringify(definition);
  if (options.asAsset !== true && Buffer.byteLength(text) <= INLINE_DEFINITION_BYTES)
    return sfn.DefinitionBody.fromString(text);
  return sfn.DefinitionBody.fromFile(definitionFile(text));
}

/**
 * Names a definition asset's file in the state machine's metadata (`aws:asset:path`, written when
 * asset metadata is enabled, as for local synths), where the local engine reads the definition. A
 * state machine with an inline definition is left as it is.
 */
export function addDefinitionAssetMetadata(machine: sfn.StateMachine): void {
  const asset = machine.node.tryFindChild(DEFINITION_ASSET_ID);
  if (asset instanceof s3assets.Asset)
    asset.addResourceMetadata(machine.node.defaultChild as CfnResource, 'DefinitionS3Location');
}

/**
 * The definition written to a file named by its content hash, so a synth of the same definition
 * reuses it (and the asset's hash stays the same). Written to a temporary name and renamed, so a
 * concurrent synth never reads half a file.
 */
function definitionFile(text: string): string {
  const fromEnv = process.env.STEPWISE_CACHE_DIR;
  const dir = fromEnv ? join(resolve(fromEnv), 'definitions') : join(tmpdir(), 'stepwise-cdk', 'definitions');
  const file = join(dir, `${sha256(text)}.json`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, text);
  renameSync(partial, file);
  return file;
}
