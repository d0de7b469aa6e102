// Stands in for the CRM's API under `stepwise run`: it gets the HTTP Task's request and answers as the
// API would, in the HTTP Task's response shape.
interface HttpInvoke {
  ApiEndpoint: string;
  Method: string;
  Headers: Record<string, string>;
  RequestBody?: Record<string, unknown>;
}

export async function handler(request: HttpInvoke) {
  if (!request.Headers['X-Stepwise-Run-Id']) throw new Error('400 Bad Request: no X-Stepwise-Run-Id header');
  return {
    StatusCode: 202,
    StatusText: 'Accepted',
    Headers: { 'content-type': 'application/json' },
    ResponseBody: JSON.stringify({ accepted: true, runId: request.Headers['X-Stepwise-Run-Id'] }),
  };
}
