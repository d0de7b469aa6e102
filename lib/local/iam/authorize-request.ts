import type { IncomingHttpHeaders } from 'node:http';
import { accessKeyOf } from './access-key.ts';
import { type Authorizer, UnknownAccessKeyError } from './authorizer.ts';
import { type RequiredPermission, UnmappedRequestError } from './s3-actions.ts';

/** Why a stand-in refuses a request before serving it. */
export type Refusal =
  | { readonly kind: 'denied'; readonly message: string }
  | { readonly kind: 'unknown-key'; readonly message: string }
  | { readonly kind: 'unmapped'; readonly message: string };

/**
 * Authorizes a request to a stand-in server (EventBridge, SNS, Step Functions) against the role of the
 * caller whose access key signed it. Each server words the refusal as its AWS service does.
 */
export async function refusalOf(
  authorizer: Authorizer | undefined,
  headers: IncomingHttpHeaders,
  permissions: () => RequiredPermission[],
): Promise<Refusal | undefined> {
  if (!authorizer) return undefined;
  try {
    const denial = await authorizer.authorize(accessKeyOf(headers), permissions());
    return denial ? { kind: 'denied', message: denial.message } : undefined;
  } catch (error) {
    if (error instanceof UnknownAccessKeyError) return { kind: 'unknown-key', message: error.message };
    if (error instanceof UnmappedRequestError) return { kind: 'unmapped', message: error.message };
    throw error;
  }
}
