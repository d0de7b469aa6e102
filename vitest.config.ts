import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The tests import the package by name, as users do, and read its source rather than a build.
  resolve: {
    alias: [
      {
        find: /^stepwise-cdk\/task$/,
        replacement: fileURLToPath(new URL('./lambdas/task/index.ts', import.meta.url)),
      },
      { find: /^stepwise-cdk$/, replacement: fileURLToPath(new URL('./lib/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    allowOnly: false,
    pool: 'forks',
  },
});
