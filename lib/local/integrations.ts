import { randomUUID } from 'node:crypto';
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { JsonObject } from '../compile/asl.ts';
import { INTEGRATIONS, type IntegrationName } from '../compile/integrations.ts';
import type { ServiceRun } from '../spec/adapters/registry.ts';
import type { ServiceAdapter } from '../spec/adapters/service.ts';
import type { Authorizer } from './iam/authorizer.ts';
import type { CallerClients, LocalServices } from './services.ts';
import { TASK_TOKENS, TaskTokenError } from './task-tokens.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './template.ts';

export interface IntegrationContext {
  readonly services: LocalServices;
  /** Authorizes the state machine's calls against its role. @default - nothing is checked */
  readonly authorizer?: Authorizer;
  /** The state machine making the call: its logical id, the access key its calls are signed with. */
  readonly caller?: string | undefined;
}

/** The clients a state machine's integrations use: signed as the machine, through the authorizing proxies. */
function clientsOf(ctx: IntegrationContext): CallerClients {
  return ctx.caller ? ctx.services.clientsAs(ctx.caller) : ctx.services;
}

/**
 * Step Functions invokes a Task state's Lambda function as the state machine's role; a role that may
 * not fails the state with Lambda.AWSLambdaException, the 403 in its cause, as Step Functions reports it.
 */
export async function authorizeLambdaInvoke(ctx: IntegrationContext, functionArn: string): Promise<void> {
  if (!ctx.authorizer || !ctx.caller) return;
  const denial = await ctx.authorizer.authorize(ctx.caller, [
    { action: 'lambda:InvokeFunction', resource: functionArn },
  ]);
  if (!denial) return;
  const error = new Error(
    `${denial.message} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${randomUUID()}; Proxy: null)`,
  );
  error.name = 'Lambda.AWSLambdaException';
  throw error;
}

/**
 * A service task's calls, made as the state machine's role (StartJobRun, then the polling a .sync
 * integration does): a role that may not fails the state with the service's AccessDeniedException.
 */
export async function authorizeServiceCalls(
  ctx: IntegrationContext,
  adapter: ServiceAdapter<ServiceRun>,
  request: JsonObject,
): Promise<void> {
  if (!ctx.authorizer || !ctx.caller) return;
  const calls = adapter.calls(request, { partition: 'aws', region: LOCAL_REGION, account: LOCAL_ACCOUNT });
  const denial = await ctx.authorizer.authorize(ctx.caller, [...calls]);
  if (!denial) return;
  const service = adapter.integration.split(':')[0] ?? '';
  const prefix = ERROR_PREFIXES[service] ?? `${service.charAt(0).toUpperCase()}${service.slice(1)}`;
  const error = new Error(
    `${denial.message} (Service: ${prefix}; Status Code: 400; Error Code: AccessDeniedException)`,
  );
  error.name = `${prefix}.AccessDeniedException`;
  throw error;
}

/** How Step Functions names a service in the errors of its integration, where it differs from the ARN's. */
const ERROR_PREFIXES: Readonly<Record<string, string>> = {
  ecs: 'ECS',
  'emr-serverless': 'EMRServerless',
  states: 'StepFunctions',
};

type Serve = (ctx: IntegrationContext, input: Record<string, unknown>) => Promise<unknown>;

/**
 * How the local engine serves each service integration the compiler can emit. Typed by
 * `IntegrationName`, so adding an integration to the compiler without serving it here does not compile.
 */
export const LOCAL_INTEGRATIONS: Record<IntegrationName, Serve> = {
  dynamodbPutItem: (ctx, input) =>
    sdkCall('DynamoDB', () => clientsOf(ctx).dynamodb.send(new PutItemCommand(input as never))),
  dynamodbUpdateItem: (ctx, input) =>
    sdkCall('DynamoDB', () => clientsOf(ctx).dynamodb.send(new UpdateItemCommand(input as never))),
  dynamodbGetItem: (ctx, input) =>
    sdkCall('DynamoDB', () => clientsOf(ctx).dynamodb.send(new GetItemCommand(input as never))),
  latchWait: async (ctx, input) => {
    const [token] = TASK_TOKENS.tokensIn(input);
    if (token === undefined)
      throw new Error(
        'a .waitForTaskToken state passed no task token ($$.Task.Token) in its parameters, so nothing could ever return it',
      );
    // The AWS SDK integration names the service DynamoDb; the optimized one, DynamoDB.
    await sdkCall('DynamoDb', () => clientsOf(ctx).dynamodb.send(new UpdateItemCommand(input as never)));
    return TASK_TOKENS.result(token);
  },
  sendTaskSuccess: async (ctx, input) => {
    const token = String(input.TaskToken);
    if (ctx.authorizer && ctx.caller) {
      // SendTaskSuccess has no resource type in the Service Authorization Reference: it is asked of "*".
      const denial = await ctx.authorizer.authorize(ctx.caller, [
        { action: 'states:SendTaskSuccess', resource: '*' },
      ]);
      if (denial) throw named('Sfn.AccessDeniedException', denial.message);
    }
    try {
      TASK_TOKENS.succeed(token, JSON.parse(String(input.Output ?? 'null')));
    } catch (error) {
      if (error instanceof TaskTokenError) throw named(`Sfn.${error.code}Exception`, error.message);
      throw named('Sfn.InvalidOutputException', `Output is not JSON: ${(error as Error).message}`);
    }
    return {};
  },
  s3CopyObject: (ctx, input) =>
    sdkCall('S3', () => clientsOf(ctx).s3.send(new CopyObjectCommand(input as never))),
  s3DeleteObject: (ctx, input) =>
    sdkCall('S3', () => clientsOf(ctx).s3.send(new DeleteObjectCommand(input as never))),
};

/** The integration a resource ARN names, once the partition placeholder is filled in. */
export function integrationFor(resource: string): IntegrationName | undefined {
  for (const [name, arn] of Object.entries(INTEGRATIONS)) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the DefinitionSubstitutions placeholder
    if (arn.replace('${Partition}', 'aws') === resource) return name as IntegrationName;
  }
  return undefined;
}

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
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
