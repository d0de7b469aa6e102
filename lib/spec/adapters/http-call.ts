import * as z from 'zod';
import type { JsonObject } from '../../compile/asl.ts';
import { PARTITION, RUN_CONTEXT, type ServiceAdapter, type ServiceRunFields } from './service.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS' | 'HEAD';

export interface HttpCallOptions extends ServiceRunFields {
  /**
   * The HTTPS endpoint, without query parameters (give those in `query`). The state machine's role may
   * call this URL with this method and no other.
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/call-https-apis.html
   */
  readonly url: string;
  /**
   * The HTTP method.
   * @default 'GET'
   */
  readonly method?: HttpMethod;
  /**
   * The ARN of the EventBridge connection that holds the API's credentials (Basic, API key or OAuth);
   * create it in your stack or the console. The role may read its credentials and its secret.
   * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-target-connection.html
   */
  readonly connection: string;
  /**
   * Request headers. Credentials belong in the connection; headers Step Functions refuses
   * (Authorization, Host, x-amz-*, ...) are refused here. stepwise adds `X-Stepwise-Run-Id`,
   * `X-Stepwise-Pipeline` and `X-Stepwise-Logical-Time`, so the receiver can tell (and dedupe) runs.
   * @default - none besides stepwise's own
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Query parameters, URL-encoded onto the URL.
   * @default - none
   */
  readonly query?: Readonly<Record<string, string>>;
  /**
   * The JSON request body.
   * @default - none
   */
  readonly body?: JsonObject;
  /**
   * Whether the task's output includes the response body (as `body`, a string). Step Functions caps a
   * state's data at 256 KiB, so leave it off for an API that answers with more than a small document.
   * @default false
   */
  readonly returnBody?: boolean;
}

export interface HttpCallRun extends HttpCallOptions {
  readonly kind: 'httpCall';
}

/**
 * Calls an HTTPS API through Step Functions' HTTP Task (`http:invoke`), with the credentials of an
 * EventBridge connection. The task succeeds on a 2xx response; any other status fails it with
 * `States.Http.StatusCode.<code>`. The task's output is `{ statusCode, statusText }`, and `body` with
 * `returnBody`.
 *
 * Locally, `local` names a handler that runs in the API's place: it receives the HTTP Task's request
 * (`{ ApiEndpoint, Method, Authentication: { ConnectionArn }, Headers, QueryParameters?, RequestBody? }`)
 * and returns the response as the HTTP Task does (`{ StatusCode, StatusText, Headers, ResponseBody }`);
 * throwing stands for a failed call.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/call-https-apis.html
 */
export function httpCall(options: HttpCallOptions): HttpCallRun {
  return { kind: 'httpCall', ...options };
}

/** Headers the HTTP Task refuses with States.Runtime, lowercase; and the prefixes it refuses. */
const REFUSED_HEADERS = new Set(
  [
    'A-IM',
    'Accept-Charset',
    'Accept-Datetime',
    'Accept-Encoding',
    'Authorization',
    'Cache-Control',
    'Connection',
    'Content-Encoding',
    'Content-MD5',
    'Date',
    'Expect',
    'Forwarded',
    'From',
    'Host',
    'HTTP2-Settings',
    'If-Match',
    'If-Modified-Since',
    'If-None-Match',
    'If-Range',
    'If-Unmodified-Since',
    'Max-Forwards',
    'Origin',
    'Pragma',
    'Proxy-Authorization',
    'Referer',
    'Server',
    'TE',
    'Trailer',
    'Transfer-Encoding',
    'Upgrade',
    'Via',
    'Warning',
  ].map((h) => h.toLowerCase()),
);
const REFUSED_PREFIXES = ['x-forwarded-', 'x-amz-', 'x-amzn-'];
/** A header name (RFC 9110 token) that is none of the refused ones. */
const ALLOWED_HEADER = new RegExp(
  `^(?!(?:${[...REFUSED_HEADERS].join('|')})$)(?!${REFUSED_PREFIXES.join('|')})[A-Za-z0-9!#$%&'*+.^_\`|~-]+$`,
  'i',
);

/** Statuses worth another try: throttled, and the gateway errors of a server that is restarting. */
const TRANSIENT_STATUSES = [429, 502, 503, 504];

export const HTTP_CALL: ServiceAdapter<HttpCallRun> = {
  kind: 'httpCall',
  example:
    "httpCall({ url: 'https://api.example.com/v1/sync', method: 'POST', connection: 'arn:aws:events:...:connection/crm/...' })",
  integration: 'http:invoke',
  fields: {
    url: z.string().regex(/^https:\/\/[^/?#\s]+(\/[^?#\s]*)?$/, {
      error: "is not an https:// URL without a query string (give query parameters in 'query')",
    }),
    method: z.enum(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']).optional(),
    connection: z.string().regex(/^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:connection\/[\w.-]+\/[\w-]+$/, {
      error:
        "is not an EventBridge connection ARN, like 'arn:aws:events:eu-west-1:123456789012:connection/crm/6b1f...'",
    }),
    headers: z
      .record(z.string(), z.string())
      .check((ctx) => {
        for (const name of Object.keys(ctx.value)) {
          if (ALLOWED_HEADER.test(name)) continue;
          ctx.issues.push({
            code: 'custom',
            input: name,
            path: [name],
            message: 'is a header Step Functions sets or refuses; put credentials in the connection',
          });
        }
      })
      .optional(),
    query: z.record(z.string(), z.string()).optional(),
    body: z.record(z.string(), z.json()).optional(),
    returnBody: z.boolean().optional(),
  },
  problems: (run) =>
    run.body !== undefined && (run.method === undefined || ['GET', 'HEAD'].includes(run.method))
      ? [
          {
            field: 'body',
            message: `a ${run.method ?? 'GET'} request has no body; use method: 'POST' or drop body`,
          },
        ]
      : [],
  state: (run) => {
    const parameters: JsonObject = {
      ApiEndpoint: run.url,
      Method: run.method ?? 'GET',
      Authentication: { ConnectionArn: run.connection },
      Headers: {
        ...run.headers,
        'X-Stepwise-Run-Id.$': RUN_CONTEXT.runId,
        'X-Stepwise-Pipeline.$': RUN_CONTEXT.pipeline,
        'X-Stepwise-Logical-Time.$': RUN_CONTEXT.logicalTime,
      },
    };
    if (run.query) parameters.QueryParameters = { ...run.query };
    if (run.body) parameters.RequestBody = run.body;
    return {
      Resource: `arn:${PARTITION}:states:::http:invoke`,
      Parameters: parameters,
      ResultSelector: {
        'statusCode.$': '$.StatusCode',
        'statusText.$': '$.StatusText',
        ...(run.returnBody ? { 'body.$': '$.ResponseBody' } : {}),
      },
    };
  },
  serviceRetry: {
    ErrorEquals: TRANSIENT_STATUSES.map((status) => `States.Http.StatusCode.${status}`),
    IntervalSeconds: 2,
    MaxAttempts: 3,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
  // Another status (a 4xx, a 500) is the API's answer, not a blip: one more try, 10 s on. A repeated
  // POST carries the same X-Stepwise-Run-Id, by which the receiver can tell it is a repeat.
  retry: { attempts: 2, intervalMs: 10_000, backoff: 2, maxDelayMs: 60_000, jitter: 'full' },
  // Each request times out after 60 s; this leaves room for the transient retries.
  timeoutMs: 5 * 60_000,
  calls: (request, { partition }) => {
    const connection = String((request.Authentication as JsonObject | undefined)?.ConnectionArn);
    const [, , , region, account, resource = ''] = connection.split(':');
    const [, name, id] = resource.split('/');
    // states:InvokeHTTPEndpoint is left out: the local evaluator knows neither states:HTTPEndpoint nor
    // states:HTTPMethod, so it would deny the conditioned grant AWS allows.
    return [
      { action: 'events:RetrieveConnectionCredentials', resource: connection },
      ...['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'].map((action) => ({
        action,
        resource: `arn:${partition}:secretsmanager:${region}:${account}:secret:events!connection/${name}/${id}-AbCdEf`,
      })),
    ];
  },
};
