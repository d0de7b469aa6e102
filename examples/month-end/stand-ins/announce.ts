// Stands in for the finance API under `stepwise run`: it gets the HTTP Task's request and answers as
// the API would, in the HTTP Task's response shape.
interface HttpInvoke {
  ApiEndpoint: string;
  Method: string;
  Headers: Record<string, string>;
  RequestBody?: Record<string, unknown>;
}

export async function handler(request: HttpInvoke) {
  return {
    StatusCode: 200,
    StatusText: 'OK',
    Headers: { 'content-type': 'application/json' },
    ResponseBody: JSON.stringify({ noted: request.Headers['X-Stepwise-Run-Id'] }),
  };
}
