import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { INTEGRATIONS, type IntegrationName } from '../compile/integrations.ts';
import type { LocalServices } from './services.ts';

export interface IntegrationContext {
  readonly services: LocalServices;
}

type Serve = (ctx: IntegrationContext, input: Record<string, unknown>) => Promise<unknown>;

/**
 * How the local engine serves each service integration the compiler can emit. Typed by
 * `IntegrationName`, so adding an integration to the compiler without serving it here does not compile.
 */
export const LOCAL_INTEGRATIONS: Record<IntegrationName, Serve> = {
  dynamodbPutItem: (ctx, input) =>
    sdkCall('DynamoDB', () => ctx.services.dynamodb.send(new PutItemCommand(input as never))),
  dynamodbUpdateItem: (ctx, input) =>
    sdkCall('DynamoDB', () => ctx.services.dynamodb.send(new UpdateItemCommand(input as never))),
  s3CopyObject: (ctx, input) =>
    sdkCall('S3', () => ctx.services.s3.send(new CopyObjectCommand(input as never))),
  s3DeleteObject: (ctx, input) =>
    sdkCall('S3', () => ctx.services.s3.send(new DeleteObjectCommand(input as never))),
};

/** The integration a resource ARN names, once the partition placeholder is filled in. */
export function integrationFor(resource: string): IntegrationName | undefined {
  for (const [name, arn] of Object.entries(INTEGRATIONS)) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the DefinitionSubstitutions placeholder
    if (arn.replace('${Partition}', 'aws') === resource) return name as IntegrationName;
  }
  return undefined;
}

/** Service errors surface in Step Functions as `<Service>.<Code>`, as the deployed integration reports them. */
async function sdkCall(service: string, call: () => Promise<unknown>): Promise<unknown> {
  try {
    const output = (await call()) as Record<string, unknown>;
    const { $metadata: _, ...rest } = output;
    return rest;
  } catch (error) {
    const e = error as Error;
    const wrapped = new Error(e.message);
    wrapped.name = `${service}.${e.name}`;
    throw wrapped;
  }
}
