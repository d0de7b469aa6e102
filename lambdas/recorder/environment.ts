import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { PLATFORM_ENVIRONMENT } from '../../lib/names.ts';
import { RecorderSettingError } from './errors.ts';
import type { RecorderDeps } from './record.ts';

/**
 * Throttling is the failure the recorder meets most (GetExecutionHistory's quota is low, and a burst
 * of runs ends together), so every client retries it patiently, slowing down as AWS asks. The price:
 * once throttled, adaptive mode's client-side limiter spaces that client's requests ~0.5–1 s apart
 * for a while. Measured in test/lambdas/recorder-throttling.test.ts: 2 throttled history reads and 4
 * throttled DynamoDB calls turn a 0.3 s recording into 8–10 s. Give the function minutes, not seconds.
 */
export const RETRYING_CLIENT = { maxAttempts: 10, retryMode: 'adaptive' } as const;

export type RecorderClients = Pick<RecorderDeps, 'dynamodb' | 'sfn' | 'sns' | 'eventBridge'>;

/** The SDK clients, configured by the environment alone (region, credentials, AWS_ENDPOINT_URL_*). */
export function recorderClients(): RecorderClients {
  return {
    dynamodb: new DynamoDBClient(RETRYING_CLIENT),
    sfn: new SFNClient(RETRYING_CLIENT),
    sns: new SNSClient(RETRYING_CLIENT),
    eventBridge: new EventBridgeClient(RETRYING_CLIENT),
  };
}

/** What the recorder needs, from its environment: LEDGER_TABLE, ALERT_TOPIC_ARN, EVENT_BUS_NAME. */
export function recorderDeps(clients: RecorderClients, env: NodeJS.ProcessEnv = process.env): RecorderDeps {
  return {
    ...clients,
    table: required(env, PLATFORM_ENVIRONMENT.ledgerTable),
    alertTopicArn: required(env, PLATFORM_ENVIRONMENT.alertTopicArn),
    eventBusName: env[PLATFORM_ENVIRONMENT.eventBusName] || 'default',
    print: (line) => console.log(line),
    now: () => new Date(),
  };
}

function required(env: NodeJS.ProcessEnv, variable: string): string {
  const value = env[variable];
  if (!value) throw new RecorderSettingError(variable);
  return value;
}
