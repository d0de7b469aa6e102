import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildSync, type Message } from 'esbuild';

/** What a handler file offers Lambda, read from its source without running it. */
export type HandlerExports =
  | { readonly kind: 'esm'; readonly exports: readonly string[] }
  | { readonly kind: 'commonjs' }
  | { readonly kind: 'unreadable'; readonly error: string };

const cache = new Map<string, { readonly mtimeMs: number; readonly result: HandlerExports }>();

/**
 * Reads which names a handler module exports by parsing it (and the local files it re-exports) with
 * esbuild, the bundler that builds it for Lambda. Nothing in the module runs, so its side effects
 * (connections, reads of environment variables) do not happen at validate. A CommonJS module's
 * exports are only known by running it, so it is reported as such and not checked.
 */
export function readHandlerExports(file: string): HandlerExports {
  const mtimeMs = statSync(file).mtimeMs;
  const cached = cache.get(file);
  if (cached && cached.mtimeMs === mtimeMs) return cached.result;
  const result = parseExports(file);
  cache.set(file, { mtimeMs, result });
  return result;
}

function parseExports(file: string): HandlerExports {
  try {
    const { metafile } = buildSync({
      entryPoints: [file],
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      outdir: 'handler-exports',
      logLevel: 'silent',
    });
    const inputs = Object.values(metafile.inputs);
    if (inputs.some((input) => input.format === 'cjs')) return { kind: 'commonjs' };
    const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
    return { kind: 'esm', exports: output?.exports ?? [] };
  } catch (error) {
    const first = (error as { errors?: Message[] }).errors?.[0];
    if (!first) return { kind: 'unreadable', error: String((error as Error).message ?? error) };
    const at = first.location;
    const where = !at
      ? ''
      : resolve(at.file) === resolve(file)
        ? ` (line ${at.line}, column ${at.column + 1})`
        : ` (${resolve(at.file)}:${at.line}:${at.column + 1})`;
    return { kind: 'unreadable', error: `${first.text}${where}` };
  }
}
