import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { STATUS_INDEX } from '../names.ts';

/** Settings of a `LedgerTable`. */
export interface LedgerTableProps {
  /**
   * What happens to the ledger when the stack is deleted.
   * @default RemovalPolicy.RETAIN - run history outlives the stack
   * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The run ledger: one DynamoDB table for every pipeline. Run rows live under `PIPELINE#<name>`,
 * run-key claims under `RUNKEY#<pipeline>#<key>`, task attempts under `RUN#<runId>`. The `byStatus`
 * index lists runs by status across pipelines. Point-in-time recovery is on, and the table is encrypted.
 */
export class LedgerTable extends Construct {
  /**
   * The name of the global secondary index (`status`, `startedAt`) that lists runs by status and
   * start time across pipelines.
   * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html
   */
  static readonly STATUS_INDEX = STATUS_INDEX;
  /**
   * The table (`pk`, `sk`, TTL attribute `expiresAt`). `StepwisePlatform` adds its name as the stack
   * output `StepwiseLedgerTable`.
   * @see README.md, "The ledger"
   */
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: LedgerTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      globalSecondaryIndexes: [
        {
          indexName: LedgerTable.STATUS_INDEX,
          partitionKey: { name: 'status', type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'startedAt', type: dynamodb.AttributeType.STRING },
        },
      ],
    });
  }
}
