// What the task runtime (stepwise-cdk/task) adds to a handler's bundle. Four one-line handlers are
// bundled as a synth bundles them (esbuild, minified ESM for Node.js, the options of
// lib/constructs/bundle.ts): a bare handler; the same through defineTask; defineTask with zod/mini
// schemas for inputs, params and output; and, for scale, the bare handler with the same zod/mini schemas
// but no runtime. Bytes minified and gzipped (Lambda stores the zip), and which inputs the bytes come from.
// Sizes do not vary between runs, so each way is built once.
// Run: node --import tsx bench/task-runtime-size.ts   Writes bench/results/task-runtime-size.json.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';
import { BUNDLE_OPTIONS } from '../lib/constructs/bundle.ts';
import { writeResult } from './measure.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const schemas = `
import * as z from 'zod/mini';
const schemas = {
  inputs: z.object({ ingest: z.object({ uri: z.string(), rows: z.number() }) }),
  params: z.object({ limit: z.number() }),
  output: z.object({ uri: z.string(), rows: z.number() }),
};`;

const HANDLERS = {
  bare: 'export const handler = async (event) => ({ rows: event.inputs.ingest.rows });',
  defineTask: `import { defineTask } from 'stepwise-cdk/task';
export const handler = defineTask(async (ctx) => ({ rows: ctx.inputs.ingest.rows }));`,
  defineTaskWithZodMiniSchemas: `import { defineTask } from 'stepwise-cdk/task';${schemas}
export const handler = defineTask(schemas, async (ctx) => ({ uri: ctx.inputs.ingest.uri, rows: ctx.inputs.ingest.rows }));`,
  bareWithZodMiniSchemas: `${schemas}
export const handler = async (event) => schemas.output.parse({ rows: schemas.inputs.parse(event.inputs).ingest.rows });`,
} as const;

interface Size {
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Bytes in the output by origin: `runtime` (lambdas/task), `zod`, or another package's name. */
  readonly from: Readonly<Record<string, number>>;
}

function bundle(contents: string): Size {
  const result = buildSync({
    // As every handler is bundled at synth.
    ...BUNDLE_OPTIONS,
    alias: { 'stepwise-cdk/task': join(ROOT, 'lambdas', 'task', 'index.ts') },
    stdin: { contents, resolveDir: ROOT, sourcefile: 'handler.mjs', loader: 'js' },
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  const from: Record<string, number> = {};
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const origin = input.startsWith('lambdas/task/')
        ? 'runtime'
        : (/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'handler');
      from[origin] = (from[origin] ?? 0) + bytesInOutput;
    }
  }
  return { bytes: code.byteLength, gzipBytes: gzipSync(code).byteLength, from };
}

const sizes = Object.fromEntries(
  Object.entries(HANDLERS).map(([name, source]) => [name, bundle(source)]),
) as Record<keyof typeof HANDLERS, Size>;

const figures = {
  sizes,
  /** What defineTask adds to a bare handler, minified and gzipped. */
  runtimeAddsBytes: sizes.defineTask.bytes - sizes.bare.bytes,
  runtimeAddsGzipBytes: sizes.defineTask.gzipBytes - sizes.bare.gzipBytes,
  /** What defineTask adds to a handler that already uses zod/mini for the same schemas. */
  runtimeAddsToZodMiniHandlerBytes:
    sizes.defineTaskWithZodMiniSchemas.bytes - sizes.bareWithZodMiniSchemas.bytes,
};

writeResult('task-runtime-size', 'node --import tsx bench/task-runtime-size.ts', figures);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
for (const [name, size] of Object.entries(sizes)) {
  const parts = Object.entries(size.from)
    .filter(([, bytes]) => bytes > 0)
    .map(([origin, bytes]) => `${origin} ${kb(bytes)}`)
    .join(', ');
  process.stdout.write(
    `${name.padEnd(30)} ${kb(size.bytes).padStart(9)} minified, ${kb(size.gzipBytes).padStart(8)} gzipped  (${parts})\n`,
  );
}
process.stdout.write(
  `defineTask adds ${kb(figures.runtimeAddsBytes)} (${kb(figures.runtimeAddsGzipBytes)} gzipped) to a bare handler, ` +
    `${kb(figures.runtimeAddsToZodMiniHandlerBytes)} to one that uses zod/mini already\n`,
);
