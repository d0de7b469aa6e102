#!/usr/bin/env node
// The `stepwise` command. Settings that must precede the AWS SDK and the CDK are made before anything loads.
process.env.CDK_DISABLE_CLI_TELEMETRY ??= 'true';
// The AWS SDK warns on load that its releases after January 2027 need Node 22; the README says so once.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import('../lib/cli/main.ts').then(
  async ({ main }) => {
    process.exitCode = await main(process.argv.slice(2));
  },
  (error: unknown) => {
    process.stderr.write(`error: stepwise could not start: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
