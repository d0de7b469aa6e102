import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { PLATFORM_ENVIRONMENT } from '../../lib/names.ts';
import { type DispatchResult, dispatch } from './dispatch.ts';

export type { DispatchResult } from './dispatch.ts';

// Created once per Lambda container; the endpoints come from the environment (AWS_ENDPOINT_URL_*) locally.
const dynamodb = new DynamoDBClient({});
const sfn = new SFNClient({});
const sns = new SNSClient({});

/** The dispatcher Lambda: every trigger of every pipeline, and every "Run Finished" event, comes here. */
export async function handler(event: unknown): Promise<DispatchResult> {
  const table = process.env[PLATFORM_ENVIRONMENT.ledgerTable];
  if (!table)
    throw new Error(
      `${PLATFORM_ENVIRONMENT.ledgerTable} is not set: the dispatcher needs the name of the ledger table`,
    );
  const topicArn = process.env[PLATFORM_ENVIRONMENT.alertTopicArn];
  return dispatch(
    { dynamodb, sfn, table, now: () => new Date(), ...(topicArn ? { alerts: { sns, topicArn } } : {}) },
    process.env,
    event,
  );
}
