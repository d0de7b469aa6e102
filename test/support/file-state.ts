// Run before each test file (vitest.config.ts, setupFiles). Test files share a process (isolate: false),
// so that aws-cdk-lib, the AWS SDK and the rest of node_modules load once per fork instead of once per
// file. Each file still gets what it had in a process of its own, which no test file need know about:
// - a fresh copy of the project's own modules (lib/, lambdas/, test/), so that a handler module that
//   reads its environment when loaded (as Lambda loads it) reads this file's, not an earlier file's;
// - process.env as it was before the file, whatever the file (or a harness it used) set or removed.
import { afterAll, vi } from 'vitest';

vi.resetModules();

const environment = { ...process.env };
afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in environment)) delete process.env[name];
  Object.assign(process.env, environment);
});
