import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';

/** What every step of a dispatch works against; the handler builds one, tests and benchmarks their own. */
export interface DispatcherContext {
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  /** The ledger table: claims, slots, the queue, joins and DEDUPLICATED run rows all live in it. */
  readonly table: string;
  readonly now: () => Date;
  /** Where an alert goes when a run can never start; without it the dispatcher only logs the alert. */
  readonly alerts?: { readonly sns: SNSClient; readonly topicArn: string };
}

/** A claimed run, with everything needed to start it again exactly as the first attempt would have. */
export interface PendingRun {
  readonly pipeline: string;
  readonly runId: string;
  readonly runKey: string;
  /** When the run key was claimed, ISO 8601. It orders the queue, so a retried enqueue writes the same item. */
  readonly claimedAt: string;
  /**
   * The execution input JSON, built once at claim time and stored with the claim: StartExecution is
   * idempotent only for the same name *and* the same input, so every later attempt must send these bytes.
   */
  readonly input: string;
}
