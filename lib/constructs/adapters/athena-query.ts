import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type AthenaQueryRun, DEFAULT_OUTPUT_PREFIX } from '../../spec/adapters/athena-query.ts';
import { READ_BUCKET_ACTIONS, READ_OBJECT_ACTIONS, WRITE_OBJECT_ACTIONS } from '../data-access.ts';
import type { Binding, ServiceBinding } from './service-binding.ts';

/** Catalog reads a query plans with: its database, and its tables and their partitions. */
const CATALOG_READ_ACTIONS = [
  'glue:GetDatabase',
  'glue:GetTable',
  'glue:GetTables',
  'glue:GetPartition',
  'glue:GetPartitions',
  'glue:BatchGetPartition',
];
/** Catalog writes of CREATE TABLE AS, INSERT INTO and UNLOAD: tables and their partitions. */
const CATALOG_WRITE_ACTIONS = [
  'glue:CreateTable',
  'glue:UpdateTable',
  'glue:CreatePartition',
  'glue:BatchCreatePartition',
  'glue:UpdatePartition',
];

/**
 * The `.sync` integration starts the query, polls it and stops it if the state is cut short, on the
 * one workgroup, reading the one data catalog; Athena writes the results as the caller, under the
 * run's output prefix; the query plans with the Glue catalog of its database (only the named tables
 * when `tables` is given) and reads and writes the data buckets the spec names. Not the docs' template:
 * it grants every S3 bucket and every catalog database, and Lake Formation's GetDataAccess on "*",
 * which only Lake Formation-governed tables need (add it with `pipeline.stateMachine.addToRolePolicy`).
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/athena-iam.html
 * @see https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html
 */
export const ATHENA_QUERY_BINDING: ServiceBinding<AthenaQueryRun> = {
  bind: (run, { scope, bucket }): Binding => {
    const stack = Stack.of(scope);
    const athena = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'athena', resource, resourceName });
    const glue = (resource: string, resourceName?: string) =>
      stack.formatArn({ service: 'glue', resource, ...(resourceName ? { resourceName } : {}) });
    const output = bucket(run.output.bucket);
    const results = output.arnForObjects(`${run.output.prefix ?? DEFAULT_OUTPUT_PREFIX}*`);
    const database = run.database ?? 'default';
    const tables = (run.tables ?? ['*']).map((table) => glue('table', `${database}/${table}`));
    const catalog = [glue('catalog'), glue('database', database), ...tables];
    const statements = [
      new iam.PolicyStatement({
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
        resources: [athena('workgroup', run.workgroup ?? 'primary')],
      }),
      new iam.PolicyStatement({
        actions: ['athena:GetDataCatalog'],
        resources: [athena('datacatalog', 'AwsDataCatalog')],
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [output.bucketArn],
      }),
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [results],
      }),
      new iam.PolicyStatement({ actions: CATALOG_READ_ACTIONS, resources: catalog }),
    ];
    const keys = [output.encryptionKey];
    const dataWildcards: string[] = [];
    for (const name of run.reads ?? []) {
      const data = bucket(name);
      statements.push(
        new iam.PolicyStatement({ actions: [...READ_OBJECT_ACTIONS], resources: [data.arnForObjects('*')] }),
        new iam.PolicyStatement({
          actions: [...READ_BUCKET_ACTIONS, 's3:GetBucketLocation'],
          resources: [data.bucketArn],
        }),
      );
      keys.push(data.encryptionKey);
      dataWildcards.push(data.arnForObjects('*'));
    }
    for (const name of run.writes ?? []) {
      const data = bucket(name);
      statements.push(
        new iam.PolicyStatement({ actions: [...WRITE_OBJECT_ACTIONS], resources: [data.arnForObjects('*')] }),
      );
      keys.push(data.encryptionKey);
      dataWildcards.push(data.arnForObjects('*'));
    }
    if ((run.writes ?? []).length > 0)
      statements.push(new iam.PolicyStatement({ actions: CATALOG_WRITE_ACTIONS, resources: catalog }));
    const keyArns = [...new Set(keys.flatMap((key) => (key ? [key.keyArn] : [])))];
    if (keyArns.length > 0)
      statements.push(
        new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: keyArns }),
      );
    return {
      substitutions: { outputBucket: output.bucketName },
      statements,
      wildcards: [
        {
          resource: results,
          reason:
            "Athena names each result object after the query's execution id, known only once it runs; the wildcard is limited to the output prefix of the named bucket.",
        },
        ...(run.tables === undefined
          ? [
              {
                resource: tables[0] as string,
                reason: `The query's tables are not declared (athenaQuery's tables option), so catalog reads cover the tables of database '${database}' only.`,
              },
            ]
          : []),
        ...[...new Set(dataWildcards)].map((resource) => ({
          resource,
          reason:
            "A query reads or writes objects whose keys depend on the table's data, known only at run time; the wildcard is limited to a data bucket the spec declares in reads or writes.",
        })),
      ],
    };
  },
};
