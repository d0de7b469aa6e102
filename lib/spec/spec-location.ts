import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackFiles } from '../stack-files.ts';

/**
 * The spec module: the first file on the stack outside `ownDir` (stepwise's own spec code) and outside
 * node_modules, which is the module that called definePipeline.
 */
export function callerSpecFile(ownDir: string): string | undefined {
  return stackFiles().find(
    (file) => isAbsolute(file) && !file.startsWith(ownDir) && !file.includes('/node_modules/'),
  );
}

/**
 * The directories a handler path may be relative to, in order: the spec module's own directory, then,
 * for a spec compiled to JavaScript (tsc's outDir), the directory of the TypeScript source its source
 * map names, where the handlers really are.
 */
export function handlerBaseDirs(specFile: string | undefined): string[] {
  if (specFile === undefined) return [process.cwd()];
  const dirs = [dirname(specFile)];
  if (/\.[cm]?js$/.test(specFile)) {
    const source = sourceFromMap(specFile);
    if (source !== undefined && !dirs.includes(dirname(source))) dirs.push(dirname(source));
  }
  return dirs;
}

/** The handler file: the first base directory where it exists, else where it was looked for first. */
export function resolveHandlerPath(entry: string, specFile: string | undefined): string {
  const candidates = handlerBaseDirs(specFile).map((dir) => resolve(dir, entry));
  return candidates.find((file) => existsSync(file)) ?? (candidates[0] as string);
}

/** The original source of a compiled file, from its inline or sibling source map; undefined if none. */
function sourceFromMap(jsFile: string): string | undefined {
  let code: string;
  try {
    code = readFileSync(jsFile, 'utf8');
  } catch {
    return undefined;
  }
  const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(code)?.[1];
  if (url === undefined) return undefined;
  let mapText: string;
  let mapDir = dirname(jsFile);
  try {
    if (url.startsWith('data:')) {
      const comma = url.indexOf(',');
      const payload = url.slice(comma + 1);
      mapText = url.slice(0, comma).endsWith(';base64')
        ? Buffer.from(payload, 'base64').toString('utf8')
        : decodeURIComponent(payload);
    } else {
      const mapFile = resolve(mapDir, url);
      mapText = readFileSync(mapFile, 'utf8');
      mapDir = dirname(mapFile);
    }
    const map = JSON.parse(mapText) as { sources?: unknown; sourceRoot?: unknown };
    const first = Array.isArray(map.sources) ? map.sources[0] : undefined;
    if (typeof first !== 'string') return undefined;
    const root = typeof map.sourceRoot === 'string' ? map.sourceRoot : '';
    const source = first.startsWith('file:') ? fileURLToPath(first) : resolve(mapDir, root, first);
    return existsSync(source) ? source : undefined;
  } catch {
    return undefined;
  }
}
