import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stepFunctionsPermissions } from './iam/api-actions.ts';
import { refusalOf } from './iam/authorize-request.ts';
import type { Authorizer } from './iam/authorizer.ts';

export interface StepFunctionsApi {
  startExecution(request: { stateMachineArn: string; name?: string; input?: string }): {
    executionArn: string;
    startDate: number;
  };
  describeExecution(request: { executionArn: string }): Record<string, unknown>;
  getExecutionHistory?(request: {
    executionArn: string;
    maxResults?: number;
    nextToken?: string;
    reverseOrder?: boolean;
  }): { events: unknown[]; nextToken?: string };
}

/** A named API error, sent the way AWS JSON 1.0 services send them, so SDK clients raise the same class. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/**
 * The Step Functions API on loopback, for the SDK clients in the dispatcher, recorder and CLI:
 * StartExecution, DescribeExecution and GetExecutionHistory, over AWS's JSON 1.0 protocol.
 */
export async function startStepFunctionsServer(
  api: StepFunctionsApi,
  options: { readonly authorizer?: Authorizer } = {},
): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const target = String(req.headers['x-amz-target'] ?? '').replace(/^AWSStepFunctions\./, '');
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(body));
      };
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        const refusal = await refusalOf(options.authorizer, req.headers, () =>
          stepFunctionsPermissions(target, body),
        );
        if (refusal)
          throw new ApiError(
            refusal.kind === 'unknown-key' ? 'UnrecognizedClientException' : 'AccessDeniedException',
            refusal.message,
          );
        if (target === 'StartExecution') {
          checkExecutionName(body.name);
          return reply(200, api.startExecution(body));
        }
        if (target === 'DescribeExecution') return reply(200, api.describeExecution(body));
        if (target === 'GetExecutionHistory' && api.getExecutionHistory) {
          const page = api.getExecutionHistory(body);
          // AWS JSON 1.0 sends timestamps as epoch seconds.
          const events = page.events.map((e) => {
            const event = e as { timestamp?: unknown };
            return event.timestamp instanceof Date
              ? { ...event, timestamp: event.timestamp.getTime() / 1000 }
              : event;
          });
          return reply(200, { ...page, events });
        }
        throw new ApiError(
          'UnknownOperationException',
          `the local Step Functions stand-in does not serve ${target || 'this request'}`,
        );
      } catch (error) {
        const e = error instanceof ApiError ? error : new ApiError('InternalFailure', String(error));
        return reply(400, { __type: e.code, message: e.message });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** At most 80 characters, and none of these: Step Functions refuses such a name as InvalidName. */
const EXECUTION_NAME_MAX = 80;
const EXECUTION_NAME_REFUSED =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f\ufffe\uffff\ud800-\udfff]/u;

/**
 * StartExecution's name rules, so a name AWS would refuse is refused locally too: 1 to 80 characters,
 * no white space, brackets, wildcards, the special characters " # % \ ^ | ~ ` $ & , ; : /, control
 * characters or surrogates. No name at all is fine (Step Functions makes a UUID).
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
function checkExecutionName(name: unknown): void {
  if (name === undefined) return;
  const text = String(name);
  if (text.length === 0 || [...text].length > EXECUTION_NAME_MAX || EXECUTION_NAME_REFUSED.test(text))
    throw new ApiError('InvalidName', `Invalid Name: '${text}'`);
}
