import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { stackFiles } from '../stack-files.ts';
import { DEFAULT_STATE_DIR, runsCommand, withLocalRuntime } from './commands.ts';
import { CliUsageError } from './errors.ts';
import { loadSpec } from './load-spec.ts';
import type { CliOptions } from './main.ts';
import { type Output, ProgressRenderer, renderRunSummary } from './render.ts';

/**
 * `npm start`: the reference pipeline on a fresh state dir, first on a good file (SUCCEEDED), then the
 * same file again (DEDUPLICATED: never processed twice), then a bad one (QUARANTINED, with its alert),
 * then the ledger. Exits 0 when all three end as expected.
 */
export async function runDemo(options: CliOptions, output: Output): Promise<number> {
  const stateDir = resolve(options['state-dir'] ?? join(DEFAULT_STATE_DIR, 'demo'));
  const orders = ordersExample();
  rmSync(stateDir, { recursive: true, force: true });
  const spec = await loadSpec(join(orders, 'pipeline.ts'));
  const tty = Boolean(output.out.isTTY);
  const cases = [
    {
      title: 'a good orders file',
      file: 'data/good/orders-2026-11-01.csv',
      key: 'orders/2026-11-01.csv',
      expect: 'SUCCEEDED',
    },
    {
      title: 'the same file again, as a redelivered event would bring it',
      file: 'data/good/orders-2026-11-01.csv',
      key: 'orders/2026-11-01.csv',
      expect: 'DEDUPLICATED',
    },
    {
      title: 'a bad orders file (an amount that is not a number)',
      file: 'data/bad/non-numeric-amount.csv',
      key: 'orders/2026-11-02.csv',
      expect: 'QUARANTINED',
    },
  ];
  let ok = true;
  const progress = new ProgressRenderer(output);
  // One synth and one set of stand-ins for the three runs, as a long-lived `stepwise` session would.
  try {
    await withLocalRuntime(
      [spec],
      'stepwise demo',
      { 'state-dir': stateDir },
      (event) => progress.handle(event),
      async (runtime) => {
        for (const [index, c] of cases.entries()) {
          output.out.write(`\n== ${index + 1}. ${c.title}: s3://raw/${c.key}\n`);
          const { report } = await runtime.run(spec, {
            kind: 's3',
            bucket: 'raw',
            key: c.key,
            file: join(orders, c.file),
          });
          output.out.write(`${renderRunSummary(report, tty)}\n`);
          if (report.status !== c.expect) ok = false;
        }
      },
      ['raw'],
    );
  } finally {
    progress.close();
  }
  output.out.write(`\n== alerts (${join(stateDir, 'alerts.jsonl')})\n`);
  for (const line of readFileSync(join(stateDir, 'alerts.jsonl'), 'utf8').trim().split('\n')) {
    const alert = JSON.parse(line) as { subject: string };
    output.out.write(`  ${alert.subject}\n`);
  }
  output.out.write(`\n== the ledger: stepwise runs orders --state-dir ${stateDir}\n`);
  await runsCommand('orders', { 'state-dir': stateDir }, output);
  output.out.write(
    ok
      ? `\nEvery run ended as expected: SUCCEEDED, DEDUPLICATED, QUARANTINED. Try 'node dist/bin/stepwise.js run examples/orders/pipeline.ts --s3-object raw/orders/x.csv=examples/orders/data/good/orders-2026-11-02.csv' (in a project that installed stepwise-cdk, 'npx stepwise').\n`
      : '\nA run did not end as expected; see above.\n',
  );
  return ok ? 0 : 1;
}

/** The reference example, in the repository this module runs from (source or its dist/ build). */
function ordersExample(): string {
  for (let dir = dirname(stackFiles()[0] as string); dirname(dir) !== dir; dir = dirname(dir)) {
    const orders = join(dir, 'examples', 'orders');
    if (existsSync(join(orders, 'pipeline.ts'))) return orders;
  }
  throw new CliUsageError(
    "'stepwise demo' runs the reference pipeline of the stepwise-cdk repository (examples/orders), which the installed package does not include; try 'stepwise init' for a pipeline of your own",
  );
}
