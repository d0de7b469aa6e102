import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventBridgeEvent } from './event-rules.ts';
import { eventsPermissions } from './iam/api-actions.ts';
import { refusalOf } from './iam/authorize-request.ts';
import type { Authorizer } from './iam/authorizer.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './template.ts';

/** Where an event was put, besides the event itself. */
export interface PutContext {
  /** The entry's `EventBusName`, as a name (an ARN is reduced to its name). @default 'default' */
  readonly eventBusName: string;
}

export interface EventsServerOptions {
  /**
   * Takes each event PutEvents accepts. The answer waits for it, so a callback that throws or rejects
   * fails that entry (`InternalFailure`); one that only queues the event keeps PutEvents as quick as
   * EventBridge's, which never waits for delivery.
   */
  readonly onEvent: (event: EventBridgeEvent, context: PutContext) => void | Promise<void>;
  /** Authorizes each PutEvents against its caller's role. @default - nothing is checked */
  readonly authorizer?: Authorizer;
}

export interface LocalEndpoint {
  /** `http://127.0.0.1:<port>`, for an SDK client's `endpoint`. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/** A named API error, sent as AWS JSON 1.1 services send theirs, so SDK clients raise the same class. */
class EventsApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** AWS accepts at most this many entries in one PutEvents call. */
const MAX_ENTRIES = 10;

interface PutEventsEntry {
  readonly Source?: unknown;
  readonly DetailType?: unknown;
  readonly Detail?: unknown;
  readonly Resources?: unknown;
  readonly Time?: unknown;
  readonly EventBusName?: unknown;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/**
 * EventBridge's PutEvents on loopback, over AWS's JSON 1.1 protocol, for the SDK clients in the
 * recorder and elsewhere. Each entry becomes a full event, as EventBridge would deliver it, and goes to
 * `onEvent`; routing it to rules is the caller's business (see `routeEvent`).
 */
export async function startEventsServer(options: EventsServerOptions): Promise<LocalEndpoint> {
  const server = createServer((req, res) => {
    readBody(req)
      .then(async (body) => {
        const target = String(req.headers['x-amz-target'] ?? '');
        if (target !== 'AWSEvents.PutEvents') {
          throw new EventsApiError(
            'UnknownOperationException',
            `the local EventBridge stand-in serves only PutEvents; got ${target.replace(/^AWSEvents\./, '') || 'a request with no X-Amz-Target'}`,
          );
        }
        let request: { Entries?: unknown };
        try {
          request = JSON.parse(body || '{}');
        } catch {
          throw new EventsApiError('SerializationException', 'the request body is not JSON');
        }
        const refusal = await refusalOf(options.authorizer, req.headers, () =>
          eventsPermissions(target, request),
        );
        if (refusal)
          throw new EventsApiError(
            refusal.kind === 'unknown-key' ? 'UnrecognizedClientException' : 'AccessDeniedException',
            refusal.message,
          );
        reply(res, 200, await putEvents(request, options.onEvent));
      })
      .catch((error: unknown) => {
        const e =
          error instanceof EventsApiError ? error : new EventsApiError('InternalException', String(error));
        reply(res, 400, { __type: e.code, message: e.message });
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => closeServer(server),
  };
}

async function putEvents(
  request: { Entries?: unknown },
  onEvent: EventsServerOptions['onEvent'],
): Promise<{ FailedEntryCount: number; Entries: EntryResult[] }> {
  const entries = request.Entries;
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES) {
    throw new EventsApiError(
      'ValidationException',
      `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES}`,
    );
  }
  const results: EntryResult[] = [];
  for (const entry of entries as PutEventsEntry[]) {
    const built = toEvent(entry);
    if ('ErrorCode' in built) {
      results.push(built);
      continue;
    }
    try {
      await onEvent(built.event, { eventBusName: built.eventBusName });
      results.push({ EventId: built.event.id });
    } catch (error) {
      results.push({
        ErrorCode: 'InternalFailure',
        ErrorMessage: `the local event bus could not take the event: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
}

/** An entry as EventBridge checks it: Source, DetailType and Detail (a JSON object) are required. */
function toEvent(
  entry: PutEventsEntry,
): { event: EventBridgeEvent; eventBusName: string } | { ErrorCode: string; ErrorMessage: string } {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof entry[field] !== 'string' || entry[field] === '') {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
      };
    }
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  const resources = Array.isArray(entry.Resources) ? entry.Resources.map(String) : [];
  const event: EventBridgeEvent = {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.DetailType as string,
    source: entry.Source as string,
    account: LOCAL_ACCOUNT,
    time: eventTime(entry.Time),
    region: LOCAL_REGION,
    resources,
    detail,
  };
  const bus = typeof entry.EventBusName === 'string' && entry.EventBusName ? entry.EventBusName : 'default';
  return { event, eventBusName: bus.split(/[:/]/).at(-1) as string };
}

/** EventBridge writes event times to the second; the SDK sends `Time` as epoch seconds. */
function eventTime(time: unknown): string {
  const given =
    typeof time === 'number' ? new Date(time * 1000) : typeof time === 'string' ? new Date(time) : undefined;
  const date = given && !Number.isNaN(given.getTime()) ? given : new Date();
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Stops listening and drops the SDK's idle keep-alive connections, which would otherwise hold `close` open. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
