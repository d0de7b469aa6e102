import { EventEmitter } from 'node:events';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, type LocalEndpoint } from '../events-server.ts';

/** A request as the proxy received it, body read. */
export interface ProxiedRequest {
  readonly method: string;
  /** The path and query, as sent. */
  readonly url: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A response, sent by the proxy itself or received from the stand-in. */
export interface ProxyResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer | string;
}

export interface ProxyHooks {
  /**
   * Answers the request itself (a denial), or says to forward it, with headers to set or replace (the
   * stand-in's own access key, a copy source it can read).
   */
  before(
    request: ProxiedRequest,
  ): Promise<{ readonly reply: ProxyResponse } | { readonly setHeaders?: Record<string, string> }>;
  /** Sees what the stand-in answered, before the caller does. */
  after?(request: ProxiedRequest, response: ProxyResponse): Promise<void>;
}

/**
 * A stand-in in this process, reached through its own request listener rather than a socket: dynalite,
 * whose handler reads the request's headers and body and answers with `statusCode`, `setHeader` and
 * `end`. Every call of a function or a state machine to DynamoDB passes the proxy, and a second HTTP
 * round trip on loopback per call cost the command's main thread as much CPU as the proxy itself.
 */
export interface InProcessUpstream {
  readonly listener: RequestListener;
}

/**
 * An HTTP proxy on loopback in front of a stand-in (s3rver, dynalite) that cannot authorize requests
 * itself: each request is read whole, put to `before`, then forwarded unchanged but for the headers
 * `before` sets (over HTTP to a URL, or to an in-process listener), and the stand-in's answer goes
 * back to the caller after `after` has seen it.
 */
export async function startProxy(
  upstream: string | InProcessUpstream,
  hooks: ProxyHooks,
): Promise<LocalEndpoint> {
  const target = typeof upstream === 'string' ? new URL(upstream) : upstream;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = req.url ?? '/';
      const parsed = new URL(url, 'http://stand-in');
      const request: ProxiedRequest = {
        method: req.method ?? 'GET',
        url,
        path: parsed.pathname,
        query: parsed.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      const send = (response: ProxyResponse) => {
        res.writeHead(response.status, response.headers as Record<string, string | string[]>);
        res.end(response.body);
      };
      hooks
        .before(request)
        .then(async (decision) => {
          if ('reply' in decision) return send(decision.reply);
          const response = await forward(target, request, decision.setHeaders ?? {});
          await hooks.after?.(request, response);
          send(response);
        })
        .catch((error: unknown) => {
          send({
            status: 500,
            headers: { 'content-type': 'text/plain' },
            body: `the local authorizing proxy failed: ${error instanceof Error ? error.message : String(error)}`,
          });
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => closeServer(server),
  };
}

function forward(
  target: URL | InProcessUpstream,
  request: ProxiedRequest,
  setHeaders: Record<string, string>,
): Promise<ProxyResponse> {
  const headers: Record<string, string | string[] | undefined> = { ...request.headers, ...setHeaders };
  // The body was read whole: it goes on with its length, whatever framing it came with.
  delete headers['transfer-encoding'];
  headers['content-length'] = String(request.body.length);
  if (!(target instanceof URL)) return serveInProcess(target.listener, request, headers);
  headers.host = target.host;
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: headers as Record<string, string | string[]>,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve(
            proxyResponse(request, response.statusCode ?? 502, response.headers, Buffer.concat(chunks)),
          ),
        );
        response.on('error', reject);
      },
    );
    upstream.on('error', reject);
    upstream.end(request.body);
  });
}

/** The stand-in's answer as the caller gets it: framing headers its own, the body's length as read. */
function proxyResponse(
  request: ProxiedRequest,
  status: number,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Buffer,
): ProxyResponse {
  const { 'transfer-encoding': _, connection: __, ...kept } = headers;
  return {
    status,
    // HEAD answers carry the object's length with no body; keep it as sent.
    headers: request.method === 'HEAD' ? kept : { ...kept, 'content-length': String(body.length) },
    body,
  };
}

/**
 * Hands the request to an in-process listener, as its server would: a request that emits the body and
 * ends, and a response that collects the status, the headers (named in lower case, as a client reads
 * them) and the body. Only what dynalite's handler uses is there.
 */
export function serveInProcess(
  listener: RequestListener,
  request: ProxiedRequest,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Promise<ProxyResponse> {
  return new Promise((resolve, reject) => {
    const req = Object.assign(new EventEmitter(), {
      method: request.method,
      url: request.url,
      headers: { ...headers },
    });
    const collected: Record<string, string> = {};
    const res = {
      statusCode: 200,
      setHeader(name: string, value: unknown) {
        collected[name.toLowerCase()] = String(value);
      },
      end(body?: string | Buffer) {
        const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
        resolve(proxyResponse(request, res.statusCode, collected, bytes));
      },
    };
    try {
      listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
      if (request.body.length > 0) req.emit('data', request.body);
      req.emit('end');
    } catch (error) {
      reject(error);
    }
  });
}
