#!/usr/bin/env node
// Launcher: registers the TypeScript loader, so specs and handlers are read as written, then runs the CLI.
import { register } from 'tsx/esm/api';

process.env.CDK_DISABLE_CLI_TELEMETRY ??= 'true';
// The AWS SDK warns on load that its releases after January 2027 need Node 22; the README says so once.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('./stepwise.ts');
