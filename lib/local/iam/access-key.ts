import type { IncomingHttpHeaders } from 'node:http';

/** The access key id a SigV4 `Authorization` header names (`Credential=<key>/<date>/...`). */
export function accessKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  return typeof authorization === 'string'
    ? (/Credential=([^/,\s]+)\//.exec(authorization)?.[1] ?? undefined)
    : undefined;
}

/** Rewrites the access key in a SigV4 `Authorization` header (the stand-ins check keys, not signatures). */
export function withAccessKey(authorization: string, accessKeyId: string): string {
  return authorization.replace(/Credential=[^/,\s]+\//, `Credential=${accessKeyId}/`);
}
