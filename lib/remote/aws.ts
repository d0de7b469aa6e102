/**
 * What every `--aws` command shares: where to reach AWS, and how an AWS error reads to the person who
 * typed the command. Credentials and region come from the SDK's default provider chain (environment,
 * shared config and SSO profiles, container and instance roles); `region` and `profile` override it.
 */
export interface AwsOptions {
  /**
   * The region the stack is deployed in.
   * @default - the default chain: AWS_REGION, then the profile's region
   */
  readonly region?: string;
  /**
   * A named profile from ~/.aws/config.
   * @default - AWS_PROFILE, then the default profile
   */
  readonly profile?: string;
}

/** An `--aws` command could not do its work. The message names what failed, where, and the fix. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
}

/** Client configuration from the options: only what was given, so the default chain fills the rest. */
export function clientConfig(options: AwsOptions): { region?: string; profile?: string } {
  return {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  };
}

/** Uses the client the caller gave, or makes one and closes it when the work is done. */
export async function withClient<C extends { destroy(): void }, T>(
  given: C | undefined,
  make: () => C,
  work: (client: C) => Promise<T>,
): Promise<T> {
  const client = given ?? make();
  try {
    return await work(client);
  } finally {
    if (!given) client.destroy();
  }
}

/** The region a client resolved, for messages; undefined when none is configured. */
export async function clientRegion(client: { config: { region: () => Promise<string> } }) {
  try {
    return await client.config.region();
  } catch {
    return undefined;
  }
}

/** An AWS error's name, as the SDK sets it from the service's error code. */
export function awsErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/**
 * The message for errors that mean the caller's AWS setup is wrong rather than this one request: no
 * credentials, no region, an expired session, a permission missing. Undefined for anything else.
 * `action` is the IAM action that was attempted, like `lambda:InvokeFunction`.
 */
export function setupProblem(error: unknown, action: string): string | undefined {
  const name = awsErrorName(error);
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message))
    return 'no AWS credentials found: sign in (aws sso login, or aws configure), or set AWS_PROFILE or --profile';
  if (/region is missing/i.test(message))
    return 'no AWS region configured: pass --region, or set AWS_REGION, or give the profile a region';
  if (name === 'ExpiredToken' || name === 'ExpiredTokenException' || /token.*expired/i.test(message))
    return 'your AWS session has expired: sign in again (aws sso login), then repeat the command';
  if (
    name === 'UnrecognizedClientException' ||
    name === 'InvalidClientTokenId' ||
    name === 'InvalidSignatureException' ||
    name === 'SignatureDoesNotMatch'
  )
    return `AWS did not accept these credentials (${name}): check AWS_PROFILE or --profile, and sign in again`;
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'AuthorizationError')
    return `not allowed to call ${action}: ${message}; use credentials whose IAM policy allows ${action}`;
  return undefined;
}
