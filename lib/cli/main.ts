import { type ParseArgsConfig, parseArgs } from 'node:util';
import { didYouMean } from '../spec/did-you-mean.ts';
import { SpecError } from '../spec/errors.ts';
import { CliUsageError, UnknownPipelineError } from './errors.ts';
import type { Output } from './render.ts';

const USAGE = `stepwise: data pipelines on AWS Step Functions, runnable on this machine

Usage:
  stepwise validate <spec> [--json]
  stepwise graph <spec> [--format mermaid|dot]
  stepwise run <spec> [<spec>...] [--input JSON | --s3-object BUCKET/KEY=LOCALFILE | --event JSON|@FILE]
               [--json] [--state-dir DIR]
  stepwise runs <pipeline> [--status S] [--limit N] [--json] [--state-dir DIR | --aws [--stack S] [--table T]]
  stepwise backfill <spec> [<spec>...] --from ISO --to ISO [--concurrency N] [--json]
               [--state-dir DIR | --aws [--stack S] [--dispatcher F]]
  stepwise redrive <spec> <run-id> [--json] [--state-dir DIR | --aws [--stack S] [--table T]]
  stepwise demo [--state-dir DIR]      the reference pipeline: a good file, the same file again, a bad file
  stepwise init [dir] [--name PIPELINE] a pipeline, a stack, a Jest test: a new CDK app, or added to one

run: the first spec's pipeline runs; further specs are deployed beside it (downstream pipelines).

Options:
  --json        one JSON object on stdout, for scripts
  --state-dir   where local runs keep the ledger, S3 objects and alerts (default .stepwise/)
  --aws         use the deployed stack (credentials and region from the AWS default chain)
  --stack       the deployed stack's name (default Stepwise); --table / --dispatcher skip the lookup
  --region      the AWS region of the stack; --profile a named profile from ~/.aws/config
  --debug       show stack traces
`;

const OPTIONS = {
  json: { type: 'boolean' },
  format: { type: 'string' },
  input: { type: 'string' },
  's3-object': { type: 'string' },
  event: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  concurrency: { type: 'string' },
  aws: { type: 'boolean' },
  stack: { type: 'string' },
  table: { type: 'string' },
  dispatcher: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  'state-dir': { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  name: { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

export type CliOptions = {
  json?: boolean;
  format?: string;
  input?: string;
  's3-object'?: string;
  event?: string;
  from?: string;
  to?: string;
  concurrency?: string;
  aws?: boolean;
  stack?: string;
  table?: string;
  dispatcher?: string;
  region?: string;
  profile?: string;
  'state-dir'?: string;
  status?: string;
  limit?: string;
  name?: string;
  debug?: boolean;
};

/**
 * Runs the CLI; returns the exit code. Every error is printed here, in one place. Each command's module
 * is loaded only when that command runs: `--help` and usage errors never load the CDK or the engine.
 */
export async function main(
  argv: readonly string[],
  output: Output = { out: process.stdout, err: process.stderr },
): Promise<number> {
  let debug = argv.includes('--debug');
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    debug = Boolean(values.debug);
    const [command, ...rest] = positionals;
    if (values.help || command === undefined || command === 'help') {
      output.out.write(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    switch (command) {
      case 'validate':
        return await (await import('./validate.ts')).validateCommand(
          one(rest, 'validate', '<spec>'),
          values,
          output,
        );
      case 'graph':
        return await (await import('./validate.ts')).graphCommand(
          one(rest, 'graph', '<spec>'),
          values,
          output,
        );
      case 'run':
        return await (await import('./commands.ts')).runCommand(some(rest, 'run', '<spec>'), values, output);
      case 'runs':
        return await (await import('./commands.ts')).runsCommand(
          one(rest, 'runs', '<pipeline>'),
          values,
          output,
        );
      case 'backfill':
        return await (await import('./backfill.ts')).backfillCommand(
          some(rest, 'backfill', '<spec>'),
          values,
          output,
        );
      case 'redrive':
        return await (await import('./redrive.ts')).redriveCommand(
          two(rest, 'redrive', '<spec> <run-id>'),
          values,
          output,
        );
      case 'demo':
        return await (await import('./demo.ts')).runDemo(values, output);
      case 'init':
        if (rest.length > 1)
          throw new CliUsageError(`'stepwise init' takes at most one [dir], got ${rest.join(' ')}`);
        return await (await import('./init.ts')).initCommand(rest[0], values, output);
      default:
        throw new CliUsageError(
          `unknown command '${command}'; the commands are validate, graph, run, runs, backfill, redrive, demo and init`,
        );
    }
  } catch (error) {
    return reportError(error, output, debug);
  }
}

function some(rest: readonly string[], command: string, what: string): string[] {
  if (rest.length === 0) throw new CliUsageError(`'stepwise ${command}' needs ${what}`);
  return [...rest];
}

function two(rest: readonly string[], command: string, what: string): [string, string] {
  if (rest.length !== 2)
    throw new CliUsageError(
      `'stepwise ${command}' takes ${what}, got ${rest.length === 0 ? 'nothing' : rest.join(' ')}`,
    );
  return [rest[0] as string, rest[1] as string];
}

function one(rest: readonly string[], command: string, what: string): string {
  if (rest.length !== 1) {
    throw new CliUsageError(
      rest.length === 0
        ? `'stepwise ${command}' needs ${what}`
        : `'stepwise ${command}' takes one ${what}, got ${rest.length}: ${rest.join(' ')}`,
    );
  }
  return rest[0] as string;
}

function reportError(error: unknown, output: Output, debug: boolean): number {
  if (error instanceof SpecError) {
    output.err.write(`error: ${error.message}\n`);
    return 1;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  const parseCode = (e as { code?: string }).code;
  const usage = e instanceof CliUsageError || parseCode?.startsWith('ERR_PARSE_ARGS');
  output.err.write(
    `error: ${parseCode === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? unknownOption(e.message) : e.message}\n`,
  );
  if (usage) output.err.write(`run 'stepwise --help' for usage\n`);
  if (debug && e.stack) output.err.write(`${e.stack}\n`);
  else if (!usage && !isComplete(e)) output.err.write('(run with --debug for the stack trace)\n');
  return usage ? 2 : 1;
}

/**
 * Errors whose message is the whole story (a missing file, a name with no runs): a stack trace would
 * only show stepwise's own code. An error from the user's code (a spec that throws) keeps the hint.
 */
function isComplete(error: Error): boolean {
  return (
    error instanceof UnknownPipelineError || (error.name === 'SpecLoadError' && error.cause === undefined)
  );
}

/** Node's "Unknown option '--x'. To specify a positional argument..." as ours, with a did-you-mean. */
function unknownOption(message: string): string {
  const option = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
  if (option === undefined) return message;
  const names = Object.keys(OPTIONS).map((name) => `--${name}`);
  return `unknown option '${option}'${didYouMean(option, names)}; the options are ${names.join(', ')}`;
}
