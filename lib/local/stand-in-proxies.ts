import { randomUUID } from 'node:crypto';
import type { LocalEndpoint } from './events-server.ts';
import { accessKeyOf, withAccessKey } from './iam/access-key.ts';
import { dynamodbPermissions } from './iam/api-actions.ts';
import { type Authorizer, OWNER_ACCESS_KEY_ID, UnknownAccessKeyError } from './iam/authorizer.ts';
import { type InProcessUpstream, type ProxiedRequest, type ProxyResponse, startProxy } from './iam/proxy.ts';
import {
  parseCopySource,
  s3Permissions,
  s3Target,
  sseKmsPermissions,
  UnmappedRequestError,
} from './iam/s3-actions.ts';
import type { CreatedObject } from './s3-events.ts';

export interface S3ProxyOptions {
  /** Authorizes each request; without one every request goes through (the owner's view). */
  readonly authorizer?: Authorizer | undefined;
  /** Reads back an object just created, for its event: size, ETag and version, as the store has them. */
  readonly describe: (
    bucket: string,
    key: string,
  ) => Promise<{ size: number; etag: string; versionId?: string }>;
  /** Takes each object created through the proxy: a PutObject, a CopyObject, a completed multipart upload. */
  readonly onObjectCreated: (object: CreatedObject) => void;
}

/**
 * S3 as the Lambda functions and the state machine reach it: s3rver, behind a proxy that authorizes
 * each request against the caller's role, reads `x-amz-copy-source` the way S3 does, and reports each
 * object created so that "Object Created" can go to EventBridge.
 */
export function startS3Proxy(upstream: string, options: S3ProxyOptions): Promise<LocalEndpoint> {
  return startProxy(upstream, {
    async before(request) {
      const { bucket, key } = s3Target(request.path);
      const setHeaders: Record<string, string> = {};
      const authorization = request.headers.authorization;
      // s3rver knows one access key; every caller's key is swapped for it once authorized.
      if (typeof authorization === 'string')
        setHeaders.authorization = withAccessKey(authorization, OWNER_ACCESS_KEY_ID);
      const copySource = request.headers['x-amz-copy-source'];
      if (typeof copySource === 'string') {
        // S3 decodes every escape in the copy source; s3rver's decodeURI leaves %2B, %26, %3D and the
        // other reserved characters encoded, and reads `?versionId=` as part of the key. Give it the
        // decoded bucket and key, escaped so that decodeURI returns them exactly.
        const source = parseCopySource(copySource);
        setHeaders['x-amz-copy-source'] = encodeURI(`${source.bucket}/${source.key}`);
      }
      if (!options.authorizer) return { setHeaders };
      try {
        const s3Request = {
          method: request.method,
          bucket,
          key,
          query: request.query,
          headers: request.headers,
          body: request.query.has('delete') ? request.body.toString('utf8') : '',
        };
        const authorizer = options.authorizer;
        const permissions = [
          ...s3Permissions(s3Request),
          ...sseKmsPermissions(s3Request, (name) => authorizer.bucketKey(name)),
        ];
        const denial = await options.authorizer.authorize(accessKeyOf(request.headers), permissions, {
          quoteResource: true,
        });
        if (denial) return { reply: s3Error(request, 403, 'AccessDenied', denial.message) };
      } catch (error) {
        if (error instanceof UnknownAccessKeyError)
          return { reply: s3Error(request, 403, 'InvalidAccessKeyId', error.message) };
        if (error instanceof UnmappedRequestError)
          return { reply: s3Error(request, 501, 'NotImplemented', error.message) };
        throw error;
      }
      return { setHeaders };
    },
    async after(request, response) {
      const reason = createdBy(request, response);
      const { bucket, key } = s3Target(request.path);
      if (!reason || bucket === undefined || key === undefined) return;
      // The write succeeded, so its event is sent whatever happens next: if the object is already
      // gone (deleted in between), the event carries what the request itself says.
      const stored = await options.describe(bucket, key).catch(() => ({
        size: Number(request.headers['x-amz-decoded-content-length'] ?? request.body.length),
        etag: String(response.headers.etag ?? ''),
      }));
      options.onObjectCreated({ bucket, key, ...stored, reason });
    },
  });
}

/** Which call, if any, this successful request was that creates an object. */
function createdBy(request: ProxiedRequest, response: ProxyResponse): CreatedObject['reason'] | undefined {
  if (response.status !== 200) return undefined;
  const { method, query, headers } = request;
  if (method === 'PUT' && !query.has('uploadId') && !query.has('tagging') && !query.has('acl')) {
    return headers['x-amz-copy-source'] === undefined ? 'PutObject' : 'CopyObject';
  }
  // CompleteMultipartUpload can answer 200 with an error in the body.
  if (method === 'POST' && query.has('uploadId') && !String(response.body).includes('<Error>'))
    return 'CompleteMultipartUpload';
  return undefined;
}

function s3Error(request: ProxiedRequest, status: number, code: string, message: string): ProxyResponse {
  const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  // A HEAD answer has no body: S3 reports the status alone, and the SDK names the error by it.
  const body =
    request.method === 'HEAD'
      ? ''
      : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>${requestId}</RequestId></Error>`;
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
    body,
  };
}

export interface DynamoDbProxyOptions {
  readonly authorizer?: Authorizer | undefined;
}

/** DynamoDB as the Lambda functions and the state machine reach it: dynalite behind an authorizing proxy. */
export function startDynamoDbProxy(
  upstream: string | InProcessUpstream,
  options: DynamoDbProxyOptions,
): Promise<LocalEndpoint> {
  const reply = (code: string, message: string): { reply: ProxyResponse } => ({
    reply: {
      status: 400,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() },
      body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${code}`, message }),
    },
  });
  return startProxy(upstream, {
    async before(request) {
      if (!options.authorizer) return {};
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(request.body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return {}; // dynalite answers a body that is not JSON with DynamoDB's own error
      }
      try {
        const permissions = dynamodbPermissions(String(request.headers['x-amz-target'] ?? ''), body);
        const denial = await options.authorizer.authorize(accessKeyOf(request.headers), permissions);
        return denial ? reply('AccessDeniedException', denial.message) : {};
      } catch (error) {
        if (error instanceof UnknownAccessKeyError)
          return reply('UnrecognizedClientException', error.message);
        if (error instanceof UnmappedRequestError) return reply('ValidationException', error.message);
        throw error;
      }
    },
  });
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`,
  );
}
