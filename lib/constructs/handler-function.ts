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

export interface HandlerFunctionProps {
  /** The handler file esbuild bundles. */
  readonly entry: string;
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 512 */
  readonly memoryMb?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
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
  readonly function: lambda.Function;
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

  get functionArn(): string {
    return this.function.functionArn;
  }

  /** Allows invoking the unqualified function, with no version wildcard. */
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
