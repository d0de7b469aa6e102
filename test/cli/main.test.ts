// The command line refuses bad input before doing any work: a clear message, exit 2 for usage, and no
// stack trace unless --debug asks for one.
import { describe, expect, it } from 'vitest';
import { fixture, STACK_LINE, stepwise, tempStateDir } from '../local/stepwise-cli.ts';

const spec = fixture('intake/pipeline.ts');
const data = fixture('intake/data/good.csv');

describe('stepwise, given bad input', () => {
  it('fails when an option is unknown', async () => {
    const result = await stepwise('run', spec, '--bogus');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatchInlineSnapshot(`
      "error: unknown option '--bogus'; the options are --json, --format, --input, --s3-object, --event, --from, --to, --concurrency, --aws, --stack, --table, --dispatcher, --region, --profile, --state-dir, --status, --limit, --name, --debug, --help
      run 'stepwise --help' for usage
      "
    `);
  });

  it.each([
    ['no local file', 'landing/incoming/a.csv'],
    ['no key', `landing=${data}`],
    ['no bucket', `/incoming/a.csv=${data}`],
    ['nothing', ''],
  ])('fails when --s3-object has %s', async (_, value) => {
    const result = await stepwise('run', spec, '--s3-object', value);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `error: --s3-object takes BUCKET/KEY=LOCALFILE, like raw/orders/dt=2026-11-01/orders.csv=./data.csv; got '${value}'\nrun 'stepwise --help' for usage\n`,
    );
  });

  it('fails when the file --s3-object names does not exist', async () => {
    const result = await stepwise('run', spec, '--s3-object', 'landing/incoming/a.csv=./no-such-file.csv');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatchInlineSnapshot(`
      "error: --s3-object: local file './no-such-file.csv' not found
      run 'stepwise --help' for usage
      "
    `);
  });

  it('fails when --input is not JSON', async () => {
    const result = await stepwise('run', spec, '--input', '{day: 2026-11-01}');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^error: --input is not valid JSON: .+; quote it for the shell, like --input/,
    );
    expect(result.stderr).toContain("run 'stepwise --help' for usage");
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('fails when a run is given two triggers', async () => {
    const result = await stepwise(
      'run',
      spec,
      '--input',
      '{}',
      '--s3-object',
      `landing/incoming/a.csv=${data}`,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'give one of --input, --s3-object or --event, not --input and --s3-object: a run has one trigger',
    );
  });

  it('fails when the command is unknown, or its argument is missing', async () => {
    const unknown = await stepwise('deploy', spec);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      "error: unknown command 'deploy'; the commands are validate, graph, run, runs, backfill, redrive, demo and init",
    );
    const missing = await stepwise('run');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error: 'stepwise run' needs <spec>");
  });

  it('fails when runs gets a status or a limit it cannot use', async () => {
    const status = await stepwise('runs', 'intake', '--status', 'DONE');
    expect(status.code).toBe(2);
    expect(status.stderr).toContain(
      "error: --status must be one of RUNNING, SUCCEEDED, FAILED, QUARANTINED, DEDUPLICATED, TIMED_OUT, got 'DONE'",
    );
    for (const limit of ['0', 'ten', '1.5']) {
      const result = await stepwise('runs', 'intake', '--limit', limit);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`error: --limit must be a whole number of at least 1, got '${limit}'`);
    }
  });

  it('reports a spec that does not exist with exit 1, and its stack only under --debug', async () => {
    const plain = await stepwise('run', 'no-such-spec.ts');
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^error: spec file not found: .*no-such-spec\.ts\n$/);
    expect(plain.stderr).not.toMatch(STACK_LINE);
    const debug = await stepwise('run', 'no-such-spec.ts', '--debug');
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(STACK_LINE);
  });
});

describe('stepwise runs, before any run', () => {
  it('lists no runs', async () => {
    const state = tempStateDir('empty');
    try {
      const json = await stepwise('runs', 'intake', '--json', '--state-dir', state.dir);
      expect([json.code, JSON.parse(json.stdout)]).toEqual([0, { pipeline: 'intake', runs: [] }]);
      const text = await stepwise('runs', 'intake', '--state-dir', state.dir);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('no local runs yet in');
    } finally {
      state.remove();
    }
  });
});
