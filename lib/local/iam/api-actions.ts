import { LOCAL_ACCOUNT, LOCAL_REGION } from '../template.ts';
import { type RequiredPermission, UnmappedRequestError } from './s3-actions.ts';

const tableArn = (table: string) =>
  table.startsWith('arn:') ? table : `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${table}`;

/** DynamoDB operations that act on the account, not on a table. */
const ACCOUNT_OPERATIONS = new Set(['ListTables', 'DescribeLimits', 'DescribeEndpoints', 'ListGlobalTables']);

/** What each TransactWriteItems entry needs, by its kind. */
const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/**
 * The permissions a DynamoDB JSON request needs: `dynamodb:<Operation>` on the table it names (on its
 * index for a Query or Scan of one), on each table of a batch, and on each item of a transaction.
 */
export function dynamodbPermissions(target: string, body: Record<string, unknown>): RequiredPermission[] {
  const operation = target.replace(/^DynamoDB_\d+\./, '');
  if (!operation) throw new UnmappedRequestError('a DynamoDB request with no X-Amz-Target');
  const action = `dynamodb:${operation}`;
  if (ACCOUNT_OPERATIONS.has(operation)) return [{ action, resource: '*' }];
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    const tables = Object.keys((body.RequestItems ?? {}) as Record<string, unknown>);
    return tables.map((table) => ({ action, resource: tableArn(table) }));
  }
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    return ((body.TransactItems ?? []) as Record<string, { TableName?: string }>[]).flatMap((item) =>
      Object.entries(item).map(([kind, entry]) => ({
        action: operation === 'TransactGetItems' ? 'dynamodb:GetItem' : (TRANSACT_ACTIONS[kind] ?? action),
        resource: tableArn(String(entry.TableName ?? '')),
      })),
    );
  }
  const table = body.TableName ?? body.TableArn ?? body.ResourceArn;
  if (typeof table !== 'string')
    throw new UnmappedRequestError(
      `DynamoDB ${operation} names no table, so the local engine cannot authorize it`,
    );
  const index = typeof body.IndexName === 'string' ? `/index/${body.IndexName}` : '';
  return [{ action, resource: `${tableArn(table)}${index}` }];
}

/** EventBridge PutEvents: `events:PutEvents` on each entry's bus (the default bus when none is named). */
export function eventsPermissions(target: string, body: Record<string, unknown>): RequiredPermission[] {
  const operation = target.replace(/^AWSEvents\./, '');
  if (operation !== 'PutEvents')
    throw new UnmappedRequestError(`the local EventBridge stand-in does not authorize ${operation}`);
  const buses = new Set<string>();
  for (const entry of (Array.isArray(body.Entries) ? body.Entries : []) as { EventBusName?: unknown }[]) {
    const bus = typeof entry.EventBusName === 'string' && entry.EventBusName ? entry.EventBusName : 'default';
    buses.add(
      bus.startsWith('arn:') ? bus : `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${bus}`,
    );
  }
  return [...buses].map((resource) => ({ action: 'events:PutEvents', resource }));
}

/**
 * Step Functions: StartExecution (and the other state-machine operations) act on the state machine;
 * DescribeExecution, GetExecutionHistory, StopExecution and RedriveExecution on the execution.
 */
export function stepFunctionsPermissions(
  target: string,
  body: Record<string, unknown>,
): RequiredPermission[] {
  const operation = target.replace(/^AWSStepFunctions\./, '');
  const action = `states:${operation}`;
  const resource = body.executionArn ?? body.stateMachineArn;
  if (operation === 'ListStateMachines') return [{ action, resource: '*' }];
  if (typeof resource !== 'string')
    throw new UnmappedRequestError(
      `Step Functions ${operation || 'request'} names no state machine or execution, so the local engine cannot authorize it`,
    );
  return [{ action, resource }];
}

/** SNS Publish: `sns:Publish` on the topic (or target) it names. */
export function snsPermissions(params: URLSearchParams): RequiredPermission[] {
  const action = params.get('Action');
  if (action !== 'Publish')
    throw new UnmappedRequestError(`the local SNS stand-in does not authorize ${action}`);
  const topic = params.get('TopicArn') ?? params.get('TargetArn');
  return topic ? [{ action: 'sns:Publish', resource: topic }] : [];
}
