import { fileURLToPath } from 'node:url';

/**
 * The files on the caller's stack, innermost first, read through V8's structured stack API rather than
 * `import.meta` or `__filename`, so the same code finds them as ESM source (tsx, vitest), as compiled
 * CommonJS (node, Jest, ts-node) and whatever a test runner's transform does to the file.
 */
export function stackFiles(): string[] {
  const original = Error.prepareStackTrace;
  const holder: { stack?: unknown } = {};
  try {
    Error.prepareStackTrace = (_error, sites) => sites;
    Error.captureStackTrace(holder, stackFiles);
    const sites = (holder.stack ?? []) as NodeJS.CallSite[];
    return sites.flatMap((site) => {
      const name = site.getFileName();
      if (!name || name.startsWith('node:')) return [];
      return [name.startsWith('file:') ? fileURLToPath(name) : name];
    });
  } finally {
    Error.prepareStackTrace = original;
  }
}
