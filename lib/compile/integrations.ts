/**
 * Every service integration the compiler can emit, by the Resource it writes. The deployed state
 * machine's role is granted exactly these, and the local engine must serve or refuse each one; a test
 * holds the two lists together.
 */
// biome-ignore-start lint/suspicious/noTemplateCurlyInString: ${...} are DefinitionSubstitutions placeholders
export const INTEGRATIONS = {
  dynamodbPutItem: 'arn:${Partition}:states:::dynamodb:putItem',
  dynamodbUpdateItem: 'arn:${Partition}:states:::dynamodb:updateItem',
  dynamodbGetItem: 'arn:${Partition}:states:::dynamodb:getItem',
  /**
   * A latch wait: the AWS SDK integration (the optimized DynamoDB one has no callback pattern) writes
   * the task token into the latch item, then the state waits until some other branch returns it.
   */
  latchWait: 'arn:${Partition}:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken',
  sendTaskSuccess: 'arn:${Partition}:states:::aws-sdk:sfn:sendTaskSuccess',
  s3CopyObject: 'arn:${Partition}:states:::aws-sdk:s3:copyObject',
  s3DeleteObject: 'arn:${Partition}:states:::aws-sdk:s3:deleteObject',
} as const;
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: see above

export type IntegrationName = keyof typeof INTEGRATIONS;

/** Placeholders the construct fills in through DefinitionSubstitutions. */
export const SUBSTITUTIONS = {
  partition: 'Partition',
  ledgerTable: 'LedgerTableName',
  /** The real name of `quarantine.bucket`, when the spec names one (the spec holds only its short name). */
  quarantineBucket: 'QuarantineBucket',
} as const;

/** The DefinitionSubstitutions key for the function that serves a handler. */
export function handlerSubstitution(handlerName: string): string {
  return `Handler_${handlerName}`;
}

/** The DefinitionSubstitutions key for a value a service adapter's task needs, such as a cluster ARN. */
export function adapterSubstitution(taskId: string, key: string): string {
  return `Adapter_${taskId.replace(/[^A-Za-z0-9]/g, '_')}_${key}`;
}

/** Error names raised by the task runtime that must never be retried. */
export const NON_RETRYABLE_ERRORS = [
  'DataError',
  'GateRejected',
  'GateOutputError',
  'TaskEventError',
  'TaskOutputError',
];

/**
 * The latch wait's write is conditional on a dependency still running; when all are done it fails with
 * this, and the state goes on at once. The AWS SDK integration names the service `DynamoDb`; the
 * optimized one, `DynamoDB`: both are listed.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html
 */
export const LATCH_ALREADY_DONE = [
  'DynamoDb.ConditionalCheckFailedException',
  'DynamoDB.ConditionalCheckFailedException',
];

/**
 * SendTaskSuccess to a token no state waits on any more (a wait cut short before a redrive, which waits
 * again with a new token): nothing to wake.
 */
export const STALE_TASK_TOKEN = [
  'Sfn.TaskTimedOutException',
  'Sfn.InvalidTokenException',
  'Sfn.TaskDoesNotExistException',
];

/** Errors that send a run to quarantine rather than to failure. */
export const QUARANTINE_ERRORS = ['DataError', 'GateRejected'];

/**
 * AWS's recommended retry for transient Lambda service errors.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
];
