// A catalogue of bad command lines. Each is refused before any work, with what is wrong, where, and
// the fix: exit 2 for a usage error, exit 1 for a spec that cannot be loaded, and no stack trace
// unless --debug asks for one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, STACK_LINE, stepwise, tempStateDir } from '../local/stepwise-cli.ts';

const intake = fixture('intake/pipeline.ts');
const hourly = fixture('triggers/hourly.ts');
const data = fixture('intake/data/good.csv');

const scratch = mkdtempSync(join(tmpdir(), 'stepwise-bad-calls-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A file in the scratch dir, with its text. */
function scratchFile(name: string, text: string): string {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return file;
}

/** Output with the scratch dir and the repository's fixtures written as placeholders. */
function placeholders(text: string): string {
  return text
    .replaceAll(scratch, '<scratch>')
    .replaceAll(fixture(''), '<fixtures>/')
    .replace(/(--input is not valid JSON: ).*?(; quote it)/, "$1<JSON.parse's message>$2");
}

interface BadCall {
  readonly argv: () => string[];
  readonly code: 1 | 2;
  readonly stderr: string;
}

const USAGE_HINT = "run 'stepwise --help' for usage";
const DEBUG_HINT = '(run with --debug for the stack trace)';
const OPTION_LIST =
  '--json, --format, --input, --s3-object, --event, --from, --to, --concurrency, --aws, --stack, --table, --dispatcher, --region, --profile, --state-dir, --status, --limit, --name, --debug, --help';

const BAD_CALLS: Record<string, BadCall> = {
  'an unknown command': {
    argv: () => ['deploy', intake],
    code: 2,
    stderr: `error: unknown command 'deploy'; the commands are validate, graph, run, runs, backfill, redrive, demo and init\n${USAGE_HINT}`,
  },
  'a command without its spec': {
    argv: () => ['validate'],
    code: 2,
    stderr: `error: 'stepwise validate' needs <spec>\n${USAGE_HINT}`,
  },
  'redrive without its run id': {
    argv: () => ['redrive', intake],
    code: 2,
    stderr: `error: 'stepwise redrive' takes <spec> <run-id>, got <fixtures>/intake/pipeline.ts\n${USAGE_HINT}`,
  },
  '--input that is not JSON': {
    argv: () => ['run', intake, '--input', '{day: 1}'],
    code: 2,
    stderr: `error: --input is not valid JSON: <JSON.parse's message>; quote it for the shell, like --input '{"day":"2026-11-01"}'\n${USAGE_HINT}`,
  },
  '--s3-object without a key': {
    argv: () => ['run', intake, '--s3-object', `landing=${data}`],
    code: 2,
    stderr: `error: --s3-object takes BUCKET/KEY=LOCALFILE, like raw/orders/dt=2026-11-01/orders.csv=./data.csv; got 'landing=<fixtures>/intake/data/good.csv'\n${USAGE_HINT}`,
  },
  '--s3-object without a local file': {
    argv: () => ['run', intake, '--s3-object', 'landing/incoming/a.csv'],
    code: 2,
    stderr: `error: --s3-object takes BUCKET/KEY=LOCALFILE, like raw/orders/dt=2026-11-01/orders.csv=./data.csv; got 'landing/incoming/a.csv'\n${USAGE_HINT}`,
  },
  '--from that is not a time': {
    argv: () => ['backfill', hourly, '--from', 'yesterday', '--to', '2026-11-02T00:00:00Z'],
    code: 2,
    stderr: `error: --from must be an ISO time like 2026-11-01T00:00:00Z, got 'yesterday'\n${USAGE_HINT}`,
  },
  '--to before --from': {
    argv: () => ['backfill', hourly, '--from', '2026-11-02T00:00:00Z', '--to', '2026-11-01T00:00:00Z'],
    code: 2,
    stderr: `error: the range is empty: from 2026-11-02T00:00:00.000Z is not before to 2026-11-01T00:00:00.000Z; to is exclusive, so to include the slot at 2026-11-02T00:00:00.000Z give to 2026-11-02T00:01:00.000Z\n${USAGE_HINT}`,
  },
  '--concurrency 0': {
    argv: () => [
      'backfill',
      hourly,
      '--from',
      '2026-11-01T00:00:00Z',
      '--to',
      '2026-11-01T03:00:00Z',
      '--concurrency',
      '0',
    ],
    code: 2,
    stderr: `error: --concurrency must be a whole number of at least 1, got '0'\n${USAGE_HINT}`,
  },
  '--concurrency -1': {
    argv: () => [
      'backfill',
      hourly,
      '--from',
      '2026-11-01T00:00:00Z',
      '--to',
      '2026-11-01T03:00:00Z',
      '--concurrency=-1',
    ],
    code: 2,
    stderr: `error: --concurrency must be a whole number of at least 1, got '-1'\n${USAGE_HINT}`,
  },
  '--concurrency abc': {
    argv: () => [
      'backfill',
      hourly,
      '--from',
      '2026-11-01T00:00:00Z',
      '--to',
      '2026-11-01T03:00:00Z',
      '--concurrency',
      'abc',
    ],
    code: 2,
    stderr: `error: --concurrency must be a whole number of at least 1, got 'abc'\n${USAGE_HINT}`,
  },
  '--limit abc': {
    argv: () => ['runs', 'intake', '--limit', 'abc'],
    code: 2,
    stderr: `error: --limit must be a whole number of at least 1, got 'abc'\n${USAGE_HINT}`,
  },
  '--status BOGUS': {
    argv: () => ['runs', 'intake', '--status', 'BOGUS'],
    code: 2,
    stderr: `error: --status must be one of RUNNING, SUCCEEDED, FAILED, QUARANTINED, DEDUPLICATED, TIMED_OUT, got 'BOGUS'\n${USAGE_HINT}`,
  },
  'an unknown flag': {
    argv: () => ['validate', intake, '--strict'],
    code: 2,
    stderr: `error: unknown option '--strict'; the options are ${OPTION_LIST}\n${USAGE_HINT}`,
  },
  'a misspelled flag': {
    argv: () => ['runs', 'intake', '--stauts', 'FAILED'],
    code: 2,
    stderr: `error: unknown option '--stauts' (did you mean '--status'?); the options are ${OPTION_LIST}\n${USAGE_HINT}`,
  },
  'two triggers for one run': {
    argv: () => ['run', intake, '--input', '{}', '--s3-object', `landing/incoming/a.csv=${data}`],
    code: 2,
    stderr: `error: give one of --input, --s3-object or --event, not --input and --s3-object: a run has one trigger\n${USAGE_HINT}`,
  },
  '--format bogus': {
    argv: () => ['graph', intake, '--format', 'bogus'],
    code: 2,
    stderr: `error: --format must be mermaid or dot, got 'bogus'\n${USAGE_HINT}`,
  },
  'a spec file that does not exist': {
    argv: () => ['validate', join(scratch, 'no-such-spec.ts')],
    code: 1,
    stderr: `error: spec file not found: <scratch>/no-such-spec.ts`,
  },
  'a spec that throws on import': {
    argv: () => ['validate', scratchFile('throws.ts', "throw new Error('the warehouse is down');\n")],
    code: 1,
    stderr: `error: could not load <scratch>/throws.ts: the warehouse is down\n${DEBUG_HINT}`,
  },
  'a spec with no default export': {
    argv: () => [
      'validate',
      scratchFile('named.ts', "export const pipeline = { name: 'named', tasks: {} };\n"),
    ],
    code: 1,
    stderr: `error: <scratch>/named.ts must default-export definePipeline({...}); it exports nothing as default`,
  },
  'a JSON spec': {
    argv: () => ['validate', scratchFile('pipeline.json', '{ "name": "orders", "tasks": {} }\n')],
    code: 1,
    stderr: `error: <scratch>/pipeline.json is JSON; a spec is a TypeScript (or JavaScript) module whose default export is definePipeline({...}), e.g. pipeline.ts`,
  },
  '--state-dir that is a file': {
    argv: () => ['run', intake, '--state-dir', scratchFile('not-a-dir', 'x')],
    code: 2,
    stderr: `error: --state-dir <scratch>/not-a-dir is a file, not a directory; pass a directory (it is created when missing)\n${USAGE_HINT}`,
  },
  'runs of a --state-dir that is a file': {
    argv: () => ['runs', 'intake', '--state-dir', scratchFile('not-a-dir-either', 'x')],
    code: 2,
    stderr: `error: --state-dir <scratch>/not-a-dir-either is a file, not a directory; pass a directory (it is created when missing)\n${USAGE_HINT}`,
  },
};

describe('stepwise, given a bad command line', () => {
  it.each(Object.entries(BAD_CALLS))('fails on %s', async (_, call) => {
    const result = await stepwise(...call.argv());
    expect({
      code: result.code,
      stdout: result.stdout,
      stderr: placeholders(result.stderr).trimEnd(),
    }).toEqual({
      code: call.code,
      stdout: '',
      stderr: call.stderr,
    });
    expect(result.stderr).not.toMatch(STACK_LINE);
  });
});

describe('stepwise, given a spec that throws on import', () => {
  it('shows the stack only under --debug', async () => {
    const spec = scratchFile('throws-too.ts', "throw new Error('the warehouse is down');\n");
    const plain = await stepwise('validate', spec);
    const debug = await stepwise('validate', spec, '--debug');
    expect([plain.code, debug.code]).toEqual([1, 1]);
    expect(plain.stderr).not.toMatch(STACK_LINE);
    expect(debug.stderr).toMatch(STACK_LINE);
  });
});

describe('stepwise runs, given a pipeline with no runs in the state dir', () => {
  const state = tempStateDir('runs-unknown');
  afterAll(() => state.remove());

  it('fails naming the pipelines that have runs, with the close one', async () => {
    const run = await stepwise('run', intake, '--input', '{}', '--json', '--state-dir', state.dir);
    expect(run.code).toBe(0);

    const misspelled = await stepwise('runs', 'intak', '--state-dir', state.dir);
    expect([misspelled.code, misspelled.stdout]).toEqual([1, '']);
    expect(misspelled.stderr.replaceAll(state.dir, '<state>')).toMatchInlineSnapshot(`
      "error: no pipeline 'intak' has runs in <state> (did you mean 'intake'?); the pipelines with runs here are intake
      "
    `);
    expect(misspelled.stderr).not.toMatch(STACK_LINE);

    const json = await stepwise('runs', 'warehouse', '--json', '--state-dir', state.dir);
    expect([json.code, json.stdout]).toEqual([1, '']);
    expect(json.stderr.replaceAll(state.dir, '<state>')).toMatchInlineSnapshot(`
      "error: no pipeline 'warehouse' has runs in <state>; the pipelines with runs here are intake
      "
    `);
  });

  it('lists nothing, and succeeds, for a known pipeline with no runs in the status asked for', async () => {
    const failed = await stepwise('runs', 'intake', '--status', 'FAILED', '--state-dir', state.dir);
    expect(failed.code).toBe(0);
    expect(failed.stdout.replaceAll(state.dir, '<state>')).toMatchInlineSnapshot(`
      "no runs of 'intake' with status FAILED in <state>
      "
    `);
  });
});
