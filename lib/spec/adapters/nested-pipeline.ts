import * as z from 'zod';
import { PARTITION, RUN_CONTEXT, type ServiceAdapter } from './service.ts';

/**
 * The Task state that starts another state machine and waits for it, its output as JSON: the
 * integration a nested pipeline and each part of a split pipeline use.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html
 */
export const START_EXECUTION_SYNC = 'states:startExecution.sync:2';

export interface NestedPipelineRun {
  readonly kind: 'pipeline';
  /** The name of the pipeline to run, as its spec gives it; it must be in the same stack. */
  readonly pipelineName: string;
  /** Not taken: a nested pipeline runs as itself locally, with its own tasks. */
  readonly local?: undefined;
}

/**
 * Runs another pipeline of the same stack as a nested run and waits for it
 * (`states:startExecution.sync:2`): the task succeeds when the nested run does, and fails when it
 * fails, with the nested run's error in the cause. The task's output is
 * `{ executionArn, pipeline, results }`, `results` being the nested run's task results by task id.
 *
 * The nested run shares the parent's run id and logical time: its run row is under its own pipeline,
 * with the parent's run id and the trigger `{ type: 'pipeline', upstreams: [{ pipeline, runId }] }`
 * naming the parent run. It starts at once, without the dispatcher: it takes no concurrency slot of
 * its pipeline and is not deduplicated by run key. Its execution gets a name of Step Functions'
 * making (a UUID), unique across retries and redrives of the parent.
 *
 * Locally it needs no stand-in: `stepwise run` starts the nested pipeline's own state machine, whose
 * tasks run as they would on their own.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/concepts-nested-workflows.html
 */
export function pipeline(pipelineName: string): NestedPipelineRun {
  return { kind: 'pipeline', pipelineName };
}

/** The input of a nested run: a `run` as the dispatcher gives one, for the parent's run. */
function nestedRunInput(parent: string, task: string, child: string): Record<string, unknown> {
  return {
    'id.$': RUN_CONTEXT.runId,
    pipeline: child,
    'logicalTime.$': RUN_CONTEXT.logicalTime,
    // Pipeline names and task ids hold no character States.Format treats as special.
    'key.$': `States.Format('pipeline:${parent}/{}/${task}', $.run.id)`,
    trigger: {
      type: 'pipeline',
      // One intrinsic in another: Parameters inside an array are not evaluated everywhere.
      'upstreams.$': `States.StringToJson(States.Format('[\\{"pipeline":"${parent}","runId":"{}"\\}]', $.run.id))`,
      'logicalTime.$': RUN_CONTEXT.logicalTime,
    },
    'expiresAt.$': '$.run.expiresAt',
  };
}

export const NESTED_PIPELINE: ServiceAdapter<NestedPipelineRun> = {
  kind: 'pipeline',
  example: "pipeline('orders')",
  integration: START_EXECUTION_SYNC,
  fields: {
    // As schema.ts checks a pipeline's name (not imported: schema.ts imports the adapters).
    pipelineName: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, {
      error:
        'is not a pipeline name; name the nested pipeline as its spec does (lowercase letters, digits and hyphens, starting with a letter, at most 40 characters)',
    }),
    local: z
      .unknown()
      .refine((value) => value === undefined, {
        error: 'a nested pipeline needs no stand-in: stepwise run runs the pipeline itself; remove local',
      })
      .optional(),
  },
  state: (run, { task, pipeline: parent, substitution }) => ({
    Resource: `arn:${PARTITION}:states:::${START_EXECUTION_SYNC}`,
    Parameters: {
      StateMachineArn: substitution('stateMachine'),
      Input: {
        run: nestedRunInput(parent, task.id, run.pipelineName),
        // Links the nested execution to this one in the Step Functions console.
        'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
      },
    },
    ResultSelector: {
      'executionArn.$': '$.ExecutionArn',
      pipeline: run.pipelineName,
      'results.$': '$.Output.results',
    },
  }),
  // Step Functions refuses a start past the account's open-execution quota, or when throttled.
  serviceRetry: {
    ErrorEquals: ['StepFunctions.ExecutionLimitExceededException', 'StepFunctions.SfnException'],
    IntervalSeconds: 5,
    MaxAttempts: 5,
    BackoffRate: 2,
  },
  // The nested run's tasks retry by their own policies; running the whole of it again is rarely right.
  retry: { attempts: 1, intervalMs: 1_000, backoff: 2, maxDelayMs: undefined, jitter: 'none' },
  timeoutMs: 24 * 3_600_000,
  calls: (request) => nestedExecutionCalls(String(request.StateMachineArn), String(request.Name ?? '*')),
};

/**
 * What `.sync:2` calls as the state machine's role: StartExecution on the nested state machine,
 * DescribeExecution and StopExecution on its execution, and the managed rule that tells Step Functions
 * when the execution ends.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html
 */
export function nestedExecutionCalls(
  stateMachineArn: string,
  executionName: string,
): { action: string; resource: string }[] {
  const [, partition, , region, account] = stateMachineArn.split(':');
  const execution = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
  const rule = `arn:${partition}:events:${region}:${account}:rule/${EXECUTION_EVENTS_RULE}`;
  return [
    { action: 'states:StartExecution', resource: stateMachineArn },
    { action: 'states:DescribeExecution', resource: execution },
    { action: 'states:StopExecution', resource: execution },
    ...['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((action) => ({
      action,
      resource: rule,
    })),
  ];
}

/** The EventBridge rule Step Functions manages in the account to learn that a nested execution ended. */
export const EXECUTION_EVENTS_RULE = 'StepFunctionsGetEventsForStepFunctionsExecutionRule';
