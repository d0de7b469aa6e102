#!/usr/bin/env node
// Launcher: registers the TypeScript loader, so specs and handlers are read as written, then runs the CLI.
import { register } from 'tsx/esm/api';

process.env.CDK_DISABLE_CLI_TELEMETRY ??= 'true';
// The AWS SDK warns on every load that releases after January 2027 need Node 22; README says so once.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === 'string' ? warning : warning?.message;
  if (String(text).includes('will require node >=22')) return;
  emitWarning(warning, ...rest);
};
register();
await import('./stepwise.ts');
