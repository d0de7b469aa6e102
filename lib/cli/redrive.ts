import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { findRun } from '../ledger/ledger.ts';
import type { LocalRunResult } from '../local/runtime.ts';
import { remoteRedrive, resolveStack } from '../remote/index.ts';
import type { PipelineDefinition } from '../spec/types.ts';
import { awsOptions, loadSpecs, printRunResult, stackName, withLocalRuntime, write } from './commands.ts';
import { CliUsageError } from './errors.ts';
import type { CliOptions } from './main.ts';
import { type Output, ProgressRenderer } from './render.ts';

/**
 * `stepwise redrive <spec> <run-id>`: runs a FAILED or TIMED_OUT run again from where it failed. On AWS
 * that is RedriveExecution on the run's execution; locally the same execution resumes by the same rule:
 * at the task it failed at, and a Parallel runs again only its branches that failed.
 */
export async function redriveCommand(
  [specPath, runId]: [string, string],
  options: CliOptions,
  output: Output,
): Promise<number> {
  const specs = await loadSpecs([specPath]);
  const spec = specs[0] as PipelineDefinition;
  if (options.aws) return redriveOnAws(spec, runId, options, output);
  const progress = options.json ? undefined : new ProgressRenderer(output);
  let result: LocalRunResult;
  try {
    result = await withLocalRuntime(
      specs,
      `stepwise redrive ${spec.name}`,
      options,
      (event) => progress?.handle(event),
      (runtime) => runtime.redrive(spec, runId),
    );
  } finally {
    progress?.close();
  }
  return printRunResult(result, options, output);
}

async function redriveOnAws(
  spec: PipelineDefinition,
  runId: string,
  options: CliOptions,
  output: Output,
): Promise<number> {
  const region = awsOptions(options);
  const stack = await resolveStack(stackName(options), {
    need: ['table'],
    overrides: { table: options.table },
    ...region,
  });
  const client = new DynamoDBClient(region);
  try {
    const row = await findRun(client, stack.table, spec.name, runId);
    if (!row) throw new CliUsageError(`no run '${runId}' of '${spec.name}' in ledger table ${stack.table}`);
    if (!row.executionArn)
      throw new CliUsageError(
        `run '${runId}' has no execution ARN in the ledger (status ${row.status}); nothing to redrive`,
      );
    const result = await remoteRedrive({ executionArn: row.executionArn, ...region });
    if (options.json) write(output, { runId, pipeline: spec.name, ...result });
    else
      output.out.write(
        `redriving ${spec.name} run ${runId} (${result.executionArn}); follow it with 'stepwise runs ${spec.name} --aws'\n`,
      );
    return 0;
  } finally {
    client.destroy();
  }
}
