// Fault injectors for the local stand-ins: each makes one AWS call fail the way AWS would fail it, for
// the fault suite (test/faults). Each returns its own undo; `withFault` applies one around a block.

import { LocalEngine } from '../../lib/local/engine.ts';
import { LOCAL_INTEGRATIONS } from '../../lib/local/integrations.ts';
import { ApiError } from '../../lib/local/sfn-server.ts';

type Undo = () => void;

/** Runs `work` with the fault in place, and takes it away afterwards, whatever happens. */
export async function withFault<T>(inject: () => Undo, work: () => Promise<T>): Promise<T> {
  const undo = inject();
  try {
    return await work();
  } finally {
    undo();
  }
}

/**
 * The state machine's ledger writes (DynamoDB PutItem and UpdateItem integrations) are throttled
 * `times` times, as DynamoDB throttles a hot partition, then go through. Counts the throttled calls.
 */
export function throttleLedgerWrites(times: number, counter: { throttled: number }): () => Undo {
  return () => {
    const put = LOCAL_INTEGRATIONS.dynamodbPutItem;
    const update = LOCAL_INTEGRATIONS.dynamodbUpdateItem;
    const throttled =
      (serve: typeof put): typeof put =>
      async (ctx, input) => {
        if (counter.throttled < times) {
          counter.throttled++;
          throw named(
            'DynamoDB.ProvisionedThroughputExceededException',
            'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
          );
        }
        return serve(ctx, input);
      };
    LOCAL_INTEGRATIONS.dynamodbPutItem = throttled(put);
    LOCAL_INTEGRATIONS.dynamodbUpdateItem = throttled(update);
    return () => {
      LOCAL_INTEGRATIONS.dynamodbPutItem = put;
      LOCAL_INTEGRATIONS.dynamodbUpdateItem = update;
    };
  };
}

/** S3 refuses the quarantine copy (CopyObject), as a bucket policy denying the prefix would. */
export function denyQuarantineCopy(): Undo {
  const copy = LOCAL_INTEGRATIONS.s3CopyObject;
  LOCAL_INTEGRATIONS.s3CopyObject = async (_ctx, input) => {
    throw named(
      'S3.AccessDenied',
      `User is not authorized to perform: s3:PutObject on ${String(input.Bucket)}/${String(input.Key)} with an explicit deny in a resource-based policy`,
    );
  };
  return () => {
    LOCAL_INTEGRATIONS.s3CopyObject = copy;
  };
}

/** Step Functions refuses StartExecution with `code` (AccessDeniedException, say), `times` times. */
export function refuseStartExecution(code: string, times: number): () => Undo {
  return () => {
    const start = LocalEngine.prototype.startExecution;
    let refused = 0;
    LocalEngine.prototype.startExecution = function (this: LocalEngine, request) {
      if (refused < times) {
        refused++;
        throw new ApiError(
          code,
          `User is not authorized to perform: states:StartExecution on resource: ${request.stateMachineArn}`,
        );
      }
      return start.call(this, request);
    };
    return () => {
      LocalEngine.prototype.startExecution = start;
    };
  };
}

/** Runs `before` (once) ahead of the first ledger write of a run: "Record run start", before any task. */
export function beforeRunStarts(before: () => Promise<void>): () => Undo {
  return () => {
    const put = LOCAL_INTEGRATIONS.dynamodbPutItem;
    let done = false;
    LOCAL_INTEGRATIONS.dynamodbPutItem = async (ctx, input) => {
      if (!done) {
        done = true;
        await before();
      }
      return put(ctx, input);
    };
    return () => {
      LOCAL_INTEGRATIONS.dynamodbPutItem = put;
    };
  };
}

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}
