import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { listRuns, type RunReport, type RunStatus, readAttempts, runReport } from '../ledger/ledger.ts';
import {
  type AwsOptions,
  awsErrorName,
  clientConfig,
  clientRegion,
  RemoteError,
  setupProblem,
  withClient,
} from './aws.ts';

export interface RemoteRunsOptions extends AwsOptions {
  /** The deployed ledger table's name (the stack output `StepwiseLedgerTable`, or `--table`). */
  readonly table: string;
  readonly pipeline: string;
  /** Only runs with this status. */
  readonly status?: RunStatus;
  /**
   * The most runs to return, newest first.
   * @default 20
   */
  readonly limit?: number;
  readonly clients?: { readonly dynamodb?: DynamoDBClient };
}

/**
 * A pipeline's runs from the deployed ledger, newest first, each with its tasks: the same reports
 * `stepwise runs` prints for local runs, read with the same ledger functions.
 */
export async function remoteRuns(options: RemoteRunsOptions): Promise<RunReport[]> {
  return withClient(
    options.clients?.dynamodb,
    () => new DynamoDBClient(clientConfig(options)),
    async (client) => {
      try {
        const rows = await listRuns(client, options.table, options.pipeline, {
          ...(options.status === undefined ? {} : { status: options.status }),
          ...(options.limit === undefined ? {} : { limit: options.limit }),
        });
        return await Promise.all(
          rows.map(async (row) => runReport(row, await readAttempts(client, options.table, row.runId))),
        );
      } catch (error) {
        throw await ledgerError(error, client, options.table);
      }
    },
  );
}

async function ledgerError(error: unknown, client: DynamoDBClient, table: string): Promise<RemoteError> {
  const problem = setupProblem(error, 'dynamodb:Query');
  if (problem) return new RemoteError(problem, { cause: error });
  const region = (await clientRegion(client)) ?? 'the default region';
  if (awsErrorName(error) === 'ResourceNotFoundException')
    return new RemoteError(
      `ledger table '${table}' not found in ${region}; check --table, or let --stack find it (and --region name the stack's region)`,
      { cause: error },
    );
  const message = error instanceof Error ? error.message : String(error);
  return new RemoteError(`reading ledger table '${table}' in ${region} failed: ${message}`, { cause: error });
}
