import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, type LocalEndpoint, readBody } from './events-server.ts';
import { snsPermissions } from './iam/api-actions.ts';
import { refusalOf } from './iam/authorize-request.ts';
import type { Authorizer } from './iam/authorizer.ts';

/** One message published to a topic, as the local sink records it. */
export interface SnsPublication {
  readonly time: string;
  readonly topicArn: string;
  /** The `Subject`, or '' when the publisher gave none. */
  readonly subject: string;
  readonly message: string;
  readonly messageId: string;
  /** String-valued `MessageAttributes`, by name. */
  readonly messageAttributes: Readonly<Record<string, string>>;
}

export interface SnsServerOptions {
  /** Takes each published message. The answer waits for it; a throw fails the call with `InternalError`. */
  readonly onPublish: (publication: SnsPublication) => void | Promise<void>;
  /**
   * The topics that exist. Publishing to another fails with `NotFound`, as it would on AWS, which
   * catches an ARN the template and the code disagree on. @default - every topic exists
   */
  readonly topicArns?: readonly string[];
  /**
   * Authorizes each Publish against its caller's role, the topic's policy, and for an encrypted topic
   * its key. @default - nothing is checked
   */
  readonly authorizer?: Authorizer;
}

const NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';

class SnsApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * SNS's Publish on loopback, over AWS's Query protocol (form-encoded request, XML answer), for the SDK
 * client that sends alerts. Nothing is delivered to subscribers: each message goes to `onPublish`.
 */
export async function startSnsServer(options: SnsServerOptions): Promise<LocalEndpoint> {
  const topics = options.topicArns ? new Set(options.topicArns) : undefined;
  const server = createServer((req, res) => {
    const requestId = randomUUID();
    readBody(req)
      .then(async (body) => {
        const params = new URLSearchParams(body);
        const action = params.get('Action');
        if (action !== 'Publish') {
          throw new SnsApiError(
            400,
            'InvalidAction',
            `The action ${action ?? '(none)'} is not valid for this web service; the local SNS stand-in serves only Publish.`,
          );
        }
        const refusal = await refusalOf(options.authorizer, req.headers, () => snsPermissions(params));
        if (refusal)
          throw refusal.kind === 'unknown-key'
            ? new SnsApiError(403, 'InvalidClientTokenId', refusal.message)
            : new SnsApiError(403, 'AuthorizationError', refusal.message);
        const publication = toPublication(params, topics);
        try {
          await options.onPublish(publication);
        } catch (error) {
          throw new SnsApiError(
            500,
            'InternalError',
            `the local SNS sink could not take the message: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
        replyXml(
          res,
          200,
          `<PublishResponse xmlns="${NAMESPACE}"><PublishResult><MessageId>${publication.messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
        );
      })
      .catch((error: unknown) => {
        const e = error instanceof SnsApiError ? error : new SnsApiError(500, 'InternalError', String(error));
        const type = e.status < 500 ? 'Sender' : 'Receiver';
        replyXml(
          res,
          e.status,
          `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${type}</Type><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => closeServer(server),
  };
}

/** The Publish parameters, checked as SNS checks them: a topic (or target) and a non-empty message. */
function toPublication(params: URLSearchParams, topics: ReadonlySet<string> | undefined): SnsPublication {
  const topicArn = params.get('TopicArn') ?? params.get('TargetArn');
  if (!topicArn) {
    throw new SnsApiError(
      400,
      'InvalidParameter',
      'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
    );
  }
  if (topics && !topics.has(topicArn)) {
    throw new SnsApiError(404, 'NotFound', `Topic does not exist: ${topicArn}`);
  }
  const message = params.get('Message');
  if (!message) throw new SnsApiError(400, 'InvalidParameter', 'Invalid parameter: Empty message');
  return {
    time: new Date().toISOString(),
    topicArn,
    subject: params.get('Subject') ?? '',
    message,
    messageId: randomUUID(),
    messageAttributes: messageAttributes(params),
  };
}

/** `MessageAttributes.entry.N.Name` with `.Value.StringValue`, as the Query protocol flattens the map. */
function messageAttributes(params: URLSearchParams): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (let n = 1; params.has(`MessageAttributes.entry.${n}.Name`); n++) {
    const value = params.get(`MessageAttributes.entry.${n}.Value.StringValue`);
    if (value !== null) attributes[params.get(`MessageAttributes.entry.${n}.Name`) as string] = value;
  }
  return attributes;
}

function replyXml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/xml' });
  res.end(body);
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`,
  );
}
