import { existsSync, readFileSync, statSync } from 'node:fs';
import * as z from 'zod';
import type { JsonObject } from '../../compile/asl.ts';
import { resolveHandlerPath } from '../spec-location.ts';
import { PARTITION, RUN_CONTEXT, type ServiceAdapter, type ServiceRunFields } from './service.ts';

/** The run fields a query may take as its `?` parameters, in the order it names them. */
export type AthenaRunParameter = 'runId' | 'pipeline' | 'logicalTime';

export interface AthenaQueryOptions extends ServiceRunFields {
  /**
   * The query, inline. Give `sql` or `file`, not both.
   * @default - none: `file` gives the query
   * @see https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html
   */
  readonly sql?: string;
  /**
   * A `.sql` file holding the query, relative to the spec file; it is read when the spec is defined
   * (and so at synth), and the query text is compiled into the state machine.
   * @default - none: `sql` gives the query
   */
  readonly file?: string;
  /**
   * Where Athena writes the query's results: a data bucket, by the name `Pipeline`'s `buckets` maps to
   * a real bucket, and a key prefix. Each run writes under `<prefix><run id>/`, so one run's results
   * never overwrite another's. The role may write there (PutObject and the multipart calls).
   * @see https://docs.aws.amazon.com/athena/latest/ug/querying.html
   */
  readonly output: {
    readonly bucket: string;
    /**
     * A key prefix ending in '/'.
     * @default 'athena-results/'
     */
    readonly prefix?: string;
  };
  /**
   * The Athena workgroup the query runs in. A workgroup that enforces its own output location writes
   * there instead of `output`.
   * @default 'primary'
   * @see https://docs.aws.amazon.com/athena/latest/ug/workgroups-manage-queries-control-costs.html
   */
  readonly workgroup?: string;
  /**
   * The Glue Data Catalog database the query's unqualified table names are in. The role may read this
   * database's catalog entries (GetDatabase, GetTable(s), GetPartition(s)), and no other database's.
   * @default 'default'
   * @see https://docs.aws.amazon.com/athena/latest/ug/glue-athena.html
   */
  readonly database?: string;
  /**
   * The tables of `database` the query uses, to scope the role's catalog access to them.
   * @default - every table of `database`
   */
  readonly tables?: readonly string[];
  /**
   * Data buckets the query reads, by the names `Pipeline`'s `buckets` maps: the role may get and list
   * their objects (Athena reads the data as the caller). Any other bucket is yours to grant with
   * `pipeline.stateMachine.addToRolePolicy(...)`.
   * @default - none
   */
  readonly reads?: readonly string[];
  /**
   * Data buckets the query writes (`INSERT INTO`, `CREATE TABLE AS`, `UNLOAD`), by the names
   * `Pipeline`'s `buckets` maps. With any, the role may also create and update tables and partitions
   * in `database`.
   * @default - none: the query only reads
   */
  readonly writes?: readonly string[];
  /**
   * Run fields passed as the query's execution parameters, in order, one for each `?` in the query,
   * each as a quoted SQL string: `parameters: ['logicalTime']` with
   * `WHERE changed_at < from_iso8601_timestamp(?)`. Athena fails a query whose `?` count differs.
   * @default - none: the query text is sent as written
   * @see https://docs.aws.amazon.com/athena/latest/ug/querying-with-prepared-statements.html
   */
  readonly parameters?: readonly AthenaRunParameter[];
}

export interface AthenaQueryRun extends AthenaQueryOptions {
  readonly kind: 'athenaQuery';
}

/**
 * Runs an Athena query and waits for it (`athena:startQueryExecution.sync`): the task succeeds when the
 * query does, and fails (and is retried) when it fails or is cancelled. The task's output is
 * `{ queryExecutionId, state, outputLocation }`.
 *
 * Locally, `local` names a handler that runs in Athena's place: it receives the StartQueryExecution
 * request (`{ QueryString, WorkGroup, QueryExecutionContext: { Database }, ResultConfiguration:
 * { OutputLocation }, ExecutionParameters? }`) and returns the query execution as GetQueryExecution
 * does (`{ QueryExecution: { QueryExecutionId, Status: { State }, ResultConfiguration: { OutputLocation } } }`).
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/connect-athena.html
 */
export function athenaQuery(options: AthenaQueryOptions): AthenaQueryRun {
  return { kind: 'athenaQuery', ...options };
}

/** Where results go when `output.prefix` is not given. */
export const DEFAULT_OUTPUT_PREFIX = 'athena-results/';
const RUN_PARAMETERS: Readonly<Record<AthenaRunParameter, string>> = RUN_CONTEXT;

/** A catalog name: Glue's database and table names are lowercase letters, digits and underscores. */
const catalogName = (what: string) =>
  z.string().regex(/^[a-z0-9_]{1,255}$/, {
    error: `is not a Glue ${what} name (lowercase letters, digits and '_')`,
  });
const bucketName = z.string().min(1, { error: "names a data bucket, like 'lake'" });

export const ATHENA_QUERY: ServiceAdapter<AthenaQueryRun> = {
  kind: 'athenaQuery',
  example: "athenaQuery({ file: './sql/stage.sql', output: { bucket: 'lake' } })",
  integration: 'athena:startQueryExecution.sync',
  fields: {
    sql: z.string().trim().min(1, { error: 'is empty; write the query, or give file' }).optional(),
    file: z
      .string()
      .regex(/\.sql$/i, { error: "is not a .sql file; name the query's file, like './sql/stage.sql'" })
      .optional(),
    output: z.strictObject({
      bucket: bucketName,
      prefix: z
        .string()
        .regex(/^([A-Za-z0-9!_.*()=-]+\/)*$/, {
          error: "is not a key prefix: path segments of letters, digits and !_.*()=- each ending in '/'",
        })
        .optional(),
    }),
    workgroup: z
      .string()
      .regex(/^[a-zA-Z0-9._-]{1,128}$/, { error: 'is not an Athena workgroup name (letters, digits, . _ -)' })
      .optional(),
    database: catalogName('database').optional(),
    tables: z.array(catalogName('table')).min(1).optional(),
    reads: z.array(bucketName).optional(),
    writes: z.array(bucketName).optional(),
    parameters: z
      .array(z.enum(['runId', 'pipeline', 'logicalTime']))
      .min(1)
      .optional(),
  },
  problems: (run) => {
    if ((run.sql === undefined) === (run.file === undefined))
      return [
        {
          field: run.sql === undefined ? 'sql' : 'file',
          message:
            run.sql === undefined
              ? "no query: give sql: 'SELECT ...' or file: './sql/stage.sql'"
              : 'both sql and file are given; keep one',
        },
      ];
    return [];
  },
  resolve: (run, specFile) => {
    if (run.file === undefined) return { run };
    const path = resolveHandlerPath(run.file, specFile);
    if (!existsSync(path) || !statSync(path).isFile())
      return {
        issues: [
          {
            field: 'file',
            message: `query file '${run.file}' not found (looked at ${path}); paths are relative to the spec file`,
          },
        ],
      };
    const sql = readFileSync(path, 'utf8').trim();
    if (sql === '')
      return {
        issues: [{ field: 'file', message: `query file '${run.file}' is empty; write the query in it` }],
      };
    const { file: _file, ...rest } = run;
    return { run: { ...rest, sql } };
  },
  buckets: (run) => [
    { name: run.output.bucket, field: 'output.bucket' },
    ...(run.reads ?? []).map((name, index) => ({ name, field: `reads[${index}]` })),
    ...(run.writes ?? []).map((name, index) => ({ name, field: `writes[${index}]` })),
  ],
  state: (run, { substitution }) => {
    if (run.sql === undefined)
      throw new Error(
        `athenaQuery has no query text; definePipeline reads 'file' into 'sql' before compiling`,
      );
    const parameters: JsonObject = {
      QueryString: run.sql,
      WorkGroup: run.workgroup ?? 'primary',
      QueryExecutionContext: { Database: run.database ?? 'default' },
      ResultConfiguration: {
        'OutputLocation.$': `States.Format('s3://${substitution('outputBucket')}/${run.output.prefix ?? DEFAULT_OUTPUT_PREFIX}{}/', ${RUN_CONTEXT.runId})`,
      },
    };
    if (run.parameters)
      parameters['ExecutionParameters.$'] =
        `States.Array(${run.parameters.map((p) => `States.Format('\\'{}\\'', ${RUN_PARAMETERS[p]})`).join(', ')})`;
    return {
      Resource: `arn:${PARTITION}:states:::athena:startQueryExecution.sync`,
      Parameters: parameters,
      // Only what every finished query has: the API marks Statistics optional, and a path missing
      // from the result would fail the state with States.Runtime.
      ResultSelector: {
        'queryExecutionId.$': '$.QueryExecution.QueryExecutionId',
        'state.$': '$.QueryExecution.Status.State',
        'outputLocation.$': '$.QueryExecution.ResultConfiguration.OutputLocation',
      },
    };
  },
  // Athena refuses a query over the account's concurrent query quota (TooManyRequestsException) or
  // when it is throttled; both pass.
  serviceRetry: {
    ErrorEquals: ['Athena.TooManyRequestsException', 'Athena.ThrottlingException'],
    IntervalSeconds: 10,
    MaxAttempts: 5,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
  // A failed query is mostly a SQL or data error a retry won't fix; one more attempt covers a transient one.
  retry: { attempts: 2, intervalMs: 30_000, backoff: 2, maxDelayMs: 300_000, jitter: 'full' },
  timeoutMs: 3_600_000,
  calls: (request, { partition, region, account }) => {
    const workgroup = `arn:${partition}:athena:${region}:${account}:workgroup/${String(request.WorkGroup)}`;
    const catalog = `arn:${partition}:athena:${region}:${account}:datacatalog/AwsDataCatalog`;
    const location = String((request.ResultConfiguration as JsonObject | undefined)?.OutputLocation ?? '');
    const [bucket = '', ...key] = location.replace(/^s3:\/\//, '').split('/');
    const database = String((request.QueryExecutionContext as JsonObject | undefined)?.Database ?? 'default');
    const glue = (resource: string) => `arn:${partition}:glue:${region}:${account}:${resource}`;
    return [
      ...['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'].map(
        (action) => ({ action, resource: workgroup }),
      ),
      { action: 'athena:GetDataCatalog', resource: catalog },
      { action: 'glue:GetDatabase', resource: glue('catalog') },
      { action: 'glue:GetDatabase', resource: glue(`database/${database}`) },
      { action: 's3:GetBucketLocation', resource: `arn:${partition}:s3:::${bucket}` },
      { action: 's3:PutObject', resource: `arn:${partition}:s3:::${bucket}/${key.join('/')}results.csv` },
    ];
  },
};
