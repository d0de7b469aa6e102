import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BUNDLE_FILE, bundleHandler } from './bundle.ts';

/** Settings of a `HandlerFunction`. */
export interface HandlerFunctionProps {
  /**
   * The handler file esbuild bundles, an absolute path; its `handler` export is the function's handler.
   * @see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html
   */
  readonly entry: string;
  /**
   * Environment variables of the function.
   * @default - none
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * The function's memory in MB, which also sets its share of CPU.
   * @default 512
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
   */
  readonly memoryMb?: number;
  /**
   * How long one invocation may run, at most 15 minutes.
   * @default Duration.minutes(1)
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
   */
  readonly timeout?: Duration;
  /**
   * The function's description, at most 256 characters.
   * @default - none
   * @see https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
   */
  readonly description?: string;
  /**
   * Where an asynchronous invocation goes once Lambda's own retries fail, so an event is never lost
   * silently.
   * @default - no dead-letter queue
   * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * A Lambda function bundled by esbuild (in this process, cached by content) as minified ESM for ARM64
 * on Node.js 24, with its own log group and a role that may write to that log group and nothing else
 * until granted more. A stack that skips bundling (`aws:cdk:bundling-stacks`) gets a placeholder asset.
 */
export class HandlerFunction extends Construct {
  /**
   * The Lambda function: Node.js 24 on ARM64, its bundle an ESM file.
   * @see https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html
   */
  readonly function: lambda.Function;
  /**
   * The function's execution role. It may write to the function's own log group and nothing else
   * until granted more.
   * @see https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
   */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.function = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(
        Stack.of(this).bundlingRequired ? bundleHandler(props.entry) : unbundledPlaceholder(),
      ),
      handler: 'index.handler', // index.mjs, BUNDLE_FILE
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb ?? 512,
      timeout: props.timeout ?? Duration.minutes(1),
      role: this.role,
      logGroup,
      ...(props.description ? { description: props.description } : {}),
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      environment: { ...props.environment },
    });
  }

  /**
   * The function's ARN, unqualified (no version or alias).
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html
   */
  get functionArn(): string {
    return this.function.functionArn;
  }

  /**
   * Allows invoking the unqualified function, with no version wildcard.
   * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
   */
  grantInvoke(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
    );
  }
}

/** An asset for stacks synthesized without bundling, where only the template is read. */
function unbundledPlaceholder(): string {
  const dir = join(tmpdir(), 'stepwise-cdk-unbundled');
  if (!existsSync(join(dir, BUNDLE_FILE))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, BUNDLE_FILE), "throw new Error('synthesized without bundling');\n");
  }
  return dir;
}
