import { describe, expect, it } from 'vitest';
import type { Retrier, State, StateMachineDefinition } from '../../lib/compile/asl.ts';
import { LAMBDA_SERVICE_ERRORS, NON_RETRYABLE_ERRORS } from '../../lib/compile/integrations.ts';
import { compilePipeline, LATCHED_DEFINITION_BUDGET } from '../../lib/compile/states.ts';
import { allStates, structuralProblems, taskGraph } from '../private/asl.ts';
import { largePipeline } from '../private/large-pipeline.ts';
import { randomDag, randomSeriesParallelDag, seededRandom } from '../private/random-dags.ts';
import { CHECK_HANDLER, NOTIFY_HANDLER, pipelineFromEdges, testPipeline } from '../private/specs.ts';

const check = { kind: 'lambda', entry: CHECK_HANDLER } as const;
const notify = { kind: 'lambda', entry: NOTIFY_HANDLER } as const;

/** A DefinitionSubstitutions placeholder, as the compiler writes it. */
const sub = (key: string) => `\${${key}}`;

const definitionOf = (pipeline: Parameters<typeof compilePipeline>[0]) =>
  compilePipeline(pipeline).definition;
const stateOf = (definition: StateMachineDefinition, name: string): State => {
  const found = allStates(definition).find((s) => s.name === name);
  if (!found) throw new Error(`no state '${name}'`);
  return found.state;
};

describe('compilePipeline', () => {
  describe('exact state language', () => {
    it('compiles a linear pipeline: the whole machine', () => {
      const definition = definitionOf(testPipeline({ extract: {}, load: { after: ['extract'] } }));
      expect(definition).toMatchInlineSnapshot(`
        {
          "Comment": "stepwise pipeline 'test'",
          "StartAt": "Start run",
          "States": {
            "Copy to quarantine": {
              "Next": "Versioned original?",
              "Parameters": {
                "Bucket.$": "$.quarantine.bucket",
                "CopySource.$": "$.run.trigger.copySource",
                "Key.$": "$.quarantine.key",
              },
              "Resource": "arn:\${Partition}:states:::aws-sdk:s3:copyObject",
              "ResultPath": null,
              "Retry": [
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.TaskFailed",
                  ],
                  "IntervalSeconds": 1,
                  "MaxAttempts": 3,
                },
              ],
              "Type": "Task",
            },
            "Data error reason": {
              "Next": "Has S3 input?",
              "Parameters": {
                "reason.$": "$.dataError.detail.errorMessage",
              },
              "ResultPath": "$.quarantine",
              "Type": "Pass",
            },
            "Delete original": {
              "Next": "Record quarantine",
              "Parameters": {
                "Bucket.$": "$.run.trigger.bucket",
                "Key.$": "$.run.trigger.key",
              },
              "Resource": "arn:\${Partition}:states:::aws-sdk:s3:deleteObject",
              "ResultPath": null,
              "Retry": [
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.TaskFailed",
                  ],
                  "IntervalSeconds": 1,
                  "MaxAttempts": 3,
                },
              ],
              "Type": "Task",
            },
            "Delete original version": {
              "Next": "Record quarantine",
              "Parameters": {
                "Bucket.$": "$.run.trigger.bucket",
                "Key.$": "$.run.trigger.key",
                "VersionId.$": "$.run.trigger.versionId",
              },
              "Resource": "arn:\${Partition}:states:::aws-sdk:s3:deleteObject",
              "ResultPath": null,
              "Retry": [
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.TaskFailed",
                  ],
                  "IntervalSeconds": 1,
                  "MaxAttempts": 3,
                },
              ],
              "Type": "Task",
            },
            "Gate reason": {
              "Next": "Has S3 input?",
              "Parameters": {
                "reason.$": "$.error.Cause",
              },
              "ResultPath": "$.quarantine",
              "Type": "Pass",
            },
            "Has S3 input?": {
              "Choices": [
                {
                  "Next": "Quarantine location",
                  "StringEquals": "s3",
                  "Variable": "$.run.trigger.type",
                },
              ],
              "Default": "No S3 input",
              "Type": "Choice",
            },
            "No S3 input": {
              "Comment": "Nothing to move: the run is still quarantined with its reason.",
              "Next": "Record quarantine",
              "Parameters": {
                "bucket": "",
                "key": "",
                "reason.$": "$.quarantine.reason",
              },
              "ResultPath": "$.quarantine",
              "Type": "Pass",
            },
            "Parse data error": {
              "Comment": "A DataError's cause is the Lambda error as JSON; its message is the reason.",
              "Next": "Data error reason",
              "Parameters": {
                "detail.$": "States.StringToJson($.error.Cause)",
              },
              "ResultPath": "$.dataError",
              "Type": "Pass",
            },
            "Quarantine location": {
              "Next": "Copy to quarantine",
              "Parameters": {
                "bucket.$": "$.run.trigger.bucket",
                "key.$": "States.Format('quarantine/{}', $.run.trigger.key)",
                "reason.$": "$.quarantine.reason",
              },
              "ResultPath": "$.quarantine",
              "Type": "Pass",
            },
            "Record quarantine": {
              "End": true,
              "Parameters": {
                "ExpressionAttributeNames": {
                  "#status": "status",
                },
                "ExpressionAttributeValues": {
                  ":bucket": {
                    "S.$": "$.quarantine.bucket",
                  },
                  ":endedAt": {
                    "S.$": "$$.State.EnteredTime",
                  },
                  ":key": {
                    "S.$": "$.quarantine.key",
                  },
                  ":reason": {
                    "S.$": "$.quarantine.reason",
                  },
                  ":status": {
                    "S": "QUARANTINED",
                  },
                },
                "Key": {
                  "pk": {
                    "S.$": "$.ledger.pk",
                  },
                  "sk": {
                    "S.$": "$.ledger.sk",
                  },
                },
                "TableName": "\${LedgerTableName}",
                "UpdateExpression": "SET #status = :status, endedAt = :endedAt, reason = :reason, quarantineBucket = :bucket, quarantineKey = :key",
              },
              "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
              "ResultPath": null,
              "Retry": [
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.TaskFailed",
                  ],
                  "IntervalSeconds": 1,
                  "MaxAttempts": 3,
                },
              ],
              "Type": "Task",
            },
            "Record run start": {
              "Next": "Run tasks",
              "Parameters": {
                "Item": {
                  "executionArn": {
                    "S.$": "$$.Execution.Id",
                  },
                  "expiresAt": {
                    "N.$": "$.run.expiresAt",
                  },
                  "kind": {
                    "S": "run",
                  },
                  "logicalTime": {
                    "S.$": "$.run.logicalTime",
                  },
                  "pipeline": {
                    "S.$": "$.run.pipeline",
                  },
                  "pk": {
                    "S.$": "$.ledger.pk",
                  },
                  "runId": {
                    "S.$": "$.run.id",
                  },
                  "runKey": {
                    "S.$": "$.run.key",
                  },
                  "sk": {
                    "S.$": "$.ledger.sk",
                  },
                  "startedAt": {
                    "S.$": "$$.Execution.StartTime",
                  },
                  "status": {
                    "S": "RUNNING",
                  },
                  "tasks": {
                    "L": [
                      {
                        "S": "extract",
                      },
                      {
                        "S": "load",
                      },
                    ],
                  },
                  "trigger": {
                    "S.$": "States.JsonToString($.run.trigger)",
                  },
                },
                "TableName": "\${LedgerTableName}",
              },
              "Resource": "arn:\${Partition}:states:::dynamodb:putItem",
              "ResultPath": null,
              "Retry": [
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.TaskFailed",
                  ],
                  "IntervalSeconds": 1,
                  "MaxAttempts": 3,
                },
              ],
              "Type": "Task",
            },
            "Record run success": {
              "End": true,
              "Parameters": {
                "ExpressionAttributeNames": {
                  "#error": "error",
                  "#status": "status",
                },
                "ExpressionAttributeValues": {
                  ":endedAt": {
                    "S.$": "$$.State.EnteredTime",
                  },
                  ":status": {
                    "S": "SUCCEEDED",
                  },
                },
                "Key": {
                  "pk": {
                    "S.$": "$.ledger.pk",
                  },
                  "sk": {
                    "S.$": "$.ledger.sk",
                  },
                },
                "TableName": "\${LedgerTableName}",
                "UpdateExpression": "SET #status = :status, endedAt = :endedAt REMOVE failedTask, #error, errorCause",
              },
              "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
              "ResultPath": null,
              "Retry": [
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.TaskFailed",
                  ],
                  "IntervalSeconds": 1,
                  "MaxAttempts": 3,
                },
              ],
              "Type": "Task",
            },
            "Rejected by a gate?": {
              "Choices": [
                {
                  "Next": "Gate reason",
                  "StringEquals": "GateRejected",
                  "Variable": "$.error.Error",
                },
              ],
              "Default": "Parse data error",
              "Type": "Choice",
            },
            "Run tasks": {
              "Branches": [
                {
                  "StartAt": "extract",
                  "States": {
                    "extract": {
                      "Catch": [
                        {
                          "ErrorEquals": [
                            "DataError",
                            "GateRejected",
                          ],
                          "Next": "extract bad data",
                          "ResultPath": "$.failure",
                        },
                      ],
                      "Next": "load",
                      "Parameters": {
                        "gate": false,
                        "inputs": {},
                        "params": {},
                        "retryCount.$": "$$.State.RetryCount",
                        "run.$": "$.run",
                        "task": "extract",
                      },
                      "Resource": "\${Handler_step}",
                      "ResultPath": "$.results.extract",
                      "Retry": [
                        {
                          "ErrorEquals": [
                            "DataError",
                            "GateRejected",
                            "GateOutputError",
                            "TaskEventError",
                            "TaskOutputError",
                          ],
                          "MaxAttempts": 0,
                        },
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "Lambda.ClientExecutionTimeoutException",
                            "Lambda.ServiceException",
                            "Lambda.AWSLambdaException",
                            "Lambda.SdkClientException",
                          ],
                          "IntervalSeconds": 2,
                          "MaxAttempts": 6,
                        },
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "States.ALL",
                          ],
                          "IntervalSeconds": 2,
                          "JitterStrategy": "FULL",
                          "MaxAttempts": 2,
                          "MaxDelaySeconds": 60,
                        },
                      ],
                      "TimeoutSeconds": 900,
                      "Type": "Task",
                    },
                    "extract bad data": {
                      "Next": "extract raise",
                      "Parameters": {
                        "ExpressionAttributeNames": {
                          "#error": "error",
                        },
                        "ExpressionAttributeValues": {
                          ":cause": {
                            "S.$": "$.failure.Cause",
                          },
                          ":error": {
                            "S.$": "$.failure.Error",
                          },
                          ":task": {
                            "S": "extract",
                          },
                        },
                        "Key": {
                          "pk": {
                            "S.$": "$.ledger.pk",
                          },
                          "sk": {
                            "S.$": "$.ledger.sk",
                          },
                        },
                        "TableName": "\${LedgerTableName}",
                        "UpdateExpression": "SET failedTask = :task, #error = :error, errorCause = :cause",
                      },
                      "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
                      "ResultPath": null,
                      "Retry": [
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "States.TaskFailed",
                          ],
                          "IntervalSeconds": 1,
                          "MaxAttempts": 3,
                        },
                      ],
                      "Type": "Task",
                    },
                    "extract raise": {
                      "CausePath": "$.failure.Cause",
                      "ErrorPath": "$.failure.Error",
                      "Type": "Fail",
                    },
                    "load": {
                      "Catch": [
                        {
                          "ErrorEquals": [
                            "DataError",
                            "GateRejected",
                          ],
                          "Next": "load bad data",
                          "ResultPath": "$.failure",
                        },
                      ],
                      "End": true,
                      "Parameters": {
                        "gate": false,
                        "inputs": {
                          "extract.$": "$.results.extract",
                        },
                        "params": {},
                        "retryCount.$": "$$.State.RetryCount",
                        "run.$": "$.run",
                        "task": "load",
                      },
                      "Resource": "\${Handler_step}",
                      "ResultPath": "$.results.load",
                      "Retry": [
                        {
                          "ErrorEquals": [
                            "DataError",
                            "GateRejected",
                            "GateOutputError",
                            "TaskEventError",
                            "TaskOutputError",
                          ],
                          "MaxAttempts": 0,
                        },
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "Lambda.ClientExecutionTimeoutException",
                            "Lambda.ServiceException",
                            "Lambda.AWSLambdaException",
                            "Lambda.SdkClientException",
                          ],
                          "IntervalSeconds": 2,
                          "MaxAttempts": 6,
                        },
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "States.ALL",
                          ],
                          "IntervalSeconds": 2,
                          "JitterStrategy": "FULL",
                          "MaxAttempts": 2,
                          "MaxDelaySeconds": 60,
                        },
                      ],
                      "TimeoutSeconds": 900,
                      "Type": "Task",
                    },
                    "load bad data": {
                      "Next": "load raise",
                      "Parameters": {
                        "ExpressionAttributeNames": {
                          "#error": "error",
                        },
                        "ExpressionAttributeValues": {
                          ":cause": {
                            "S.$": "$.failure.Cause",
                          },
                          ":error": {
                            "S.$": "$.failure.Error",
                          },
                          ":task": {
                            "S": "load",
                          },
                        },
                        "Key": {
                          "pk": {
                            "S.$": "$.ledger.pk",
                          },
                          "sk": {
                            "S.$": "$.ledger.sk",
                          },
                        },
                        "TableName": "\${LedgerTableName}",
                        "UpdateExpression": "SET failedTask = :task, #error = :error, errorCause = :cause",
                      },
                      "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
                      "ResultPath": null,
                      "Retry": [
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "States.TaskFailed",
                          ],
                          "IntervalSeconds": 1,
                          "MaxAttempts": 3,
                        },
                      ],
                      "Type": "Task",
                    },
                    "load raise": {
                      "CausePath": "$.failure.Cause",
                      "ErrorPath": "$.failure.Error",
                      "Type": "Fail",
                    },
                  },
                },
              ],
              "Catch": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                  ],
                  "Next": "Rejected by a gate?",
                  "ResultPath": "$.error",
                },
              ],
              "Comment": "The task graph, in one branch so that bad data is caught in one place. Any other failure fails the execution at the task, so RedriveExecution runs that task again; the recorder closes the run.",
              "Next": "Record run success",
              "ResultSelector": {
                "ledger.$": "$[0].ledger",
                "results.$": "$[0].results",
                "run.$": "$[0].run",
              },
              "Type": "Parallel",
            },
            "Start run": {
              "Comment": "Settle the run state: the run, its ledger key, and an empty map of task results.",
              "Next": "Record run start",
              "Parameters": {
                "ledger": {
                  "pk.$": "States.Format('PIPELINE#{}', $.run.pipeline)",
                  "sk.$": "States.Format('RUN#{}#{}', $$.Execution.StartTime, $$.Execution.Name)",
                },
                "results": {},
                "run.$": "$.run",
              },
              "Type": "Pass",
            },
            "Versioned original?": {
              "Choices": [
                {
                  "IsPresent": true,
                  "Next": "Delete original version",
                  "Variable": "$.run.trigger.versionId",
                },
              ],
              "Comment": "The copy took the version that triggered the run; delete that version, not a newer upload of the key.",
              "Default": "Delete original",
              "Type": "Choice",
            },
          },
          "TimeoutSeconds": 7200,
        }
      `);
    });

    it('compiles a diamond to a Parallel between its ends', () => {
      const definition = definitionOf(pipelineFromEdges({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] }));
      expect(taskGraph(definition)).toMatchInlineSnapshot(`
        {
          "StartAt": "a",
          "States": {
            "Parallel 1: b, c": {
              "Branches": [
                {
                  "StartAt": "b",
                  "States": {
                    "b": {
                      "Catch": [
                        {
                          "ErrorEquals": [
                            "DataError",
                            "GateRejected",
                          ],
                          "Next": "b bad data",
                          "ResultPath": "$.failure",
                        },
                      ],
                      "End": true,
                      "Parameters": {
                        "gate": false,
                        "inputs": {
                          "a.$": "$.results.a",
                        },
                        "params": {},
                        "retryCount.$": "$$.State.RetryCount",
                        "run.$": "$.run",
                        "task": "b",
                      },
                      "Resource": "\${Handler_step}",
                      "ResultPath": "$.results.b",
                      "Retry": [
                        {
                          "ErrorEquals": [
                            "DataError",
                            "GateRejected",
                            "GateOutputError",
                            "TaskEventError",
                            "TaskOutputError",
                          ],
                          "MaxAttempts": 0,
                        },
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "Lambda.ClientExecutionTimeoutException",
                            "Lambda.ServiceException",
                            "Lambda.AWSLambdaException",
                            "Lambda.SdkClientException",
                          ],
                          "IntervalSeconds": 2,
                          "MaxAttempts": 6,
                        },
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "States.ALL",
                          ],
                          "IntervalSeconds": 2,
                          "JitterStrategy": "FULL",
                          "MaxAttempts": 2,
                          "MaxDelaySeconds": 60,
                        },
                      ],
                      "TimeoutSeconds": 900,
                      "Type": "Task",
                    },
                    "b bad data": {
                      "Next": "b raise",
                      "Parameters": {
                        "ExpressionAttributeNames": {
                          "#error": "error",
                        },
                        "ExpressionAttributeValues": {
                          ":cause": {
                            "S.$": "$.failure.Cause",
                          },
                          ":error": {
                            "S.$": "$.failure.Error",
                          },
                          ":task": {
                            "S": "b",
                          },
                        },
                        "Key": {
                          "pk": {
                            "S.$": "$.ledger.pk",
                          },
                          "sk": {
                            "S.$": "$.ledger.sk",
                          },
                        },
                        "TableName": "\${LedgerTableName}",
                        "UpdateExpression": "SET failedTask = :task, #error = :error, errorCause = :cause",
                      },
                      "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
                      "ResultPath": null,
                      "Retry": [
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "States.TaskFailed",
                          ],
                          "IntervalSeconds": 1,
                          "MaxAttempts": 3,
                        },
                      ],
                      "Type": "Task",
                    },
                    "b raise": {
                      "CausePath": "$.failure.Cause",
                      "ErrorPath": "$.failure.Error",
                      "Type": "Fail",
                    },
                  },
                },
                {
                  "StartAt": "c",
                  "States": {
                    "c": {
                      "Catch": [
                        {
                          "ErrorEquals": [
                            "DataError",
                            "GateRejected",
                          ],
                          "Next": "c bad data",
                          "ResultPath": "$.failure",
                        },
                      ],
                      "End": true,
                      "Parameters": {
                        "gate": false,
                        "inputs": {
                          "a.$": "$.results.a",
                        },
                        "params": {},
                        "retryCount.$": "$$.State.RetryCount",
                        "run.$": "$.run",
                        "task": "c",
                      },
                      "Resource": "\${Handler_step}",
                      "ResultPath": "$.results.c",
                      "Retry": [
                        {
                          "ErrorEquals": [
                            "DataError",
                            "GateRejected",
                            "GateOutputError",
                            "TaskEventError",
                            "TaskOutputError",
                          ],
                          "MaxAttempts": 0,
                        },
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "Lambda.ClientExecutionTimeoutException",
                            "Lambda.ServiceException",
                            "Lambda.AWSLambdaException",
                            "Lambda.SdkClientException",
                          ],
                          "IntervalSeconds": 2,
                          "MaxAttempts": 6,
                        },
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "States.ALL",
                          ],
                          "IntervalSeconds": 2,
                          "JitterStrategy": "FULL",
                          "MaxAttempts": 2,
                          "MaxDelaySeconds": 60,
                        },
                      ],
                      "TimeoutSeconds": 900,
                      "Type": "Task",
                    },
                    "c bad data": {
                      "Next": "c raise",
                      "Parameters": {
                        "ExpressionAttributeNames": {
                          "#error": "error",
                        },
                        "ExpressionAttributeValues": {
                          ":cause": {
                            "S.$": "$.failure.Cause",
                          },
                          ":error": {
                            "S.$": "$.failure.Error",
                          },
                          ":task": {
                            "S": "c",
                          },
                        },
                        "Key": {
                          "pk": {
                            "S.$": "$.ledger.pk",
                          },
                          "sk": {
                            "S.$": "$.ledger.sk",
                          },
                        },
                        "TableName": "\${LedgerTableName}",
                        "UpdateExpression": "SET failedTask = :task, #error = :error, errorCause = :cause",
                      },
                      "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
                      "ResultPath": null,
                      "Retry": [
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "States.TaskFailed",
                          ],
                          "IntervalSeconds": 1,
                          "MaxAttempts": 3,
                        },
                      ],
                      "Type": "Task",
                    },
                    "c raise": {
                      "CausePath": "$.failure.Cause",
                      "ErrorPath": "$.failure.Error",
                      "Type": "Fail",
                    },
                  },
                },
              ],
              "Next": "d",
              "ResultSelector": {
                "ledger.$": "$[0].ledger",
                "results.$": "States.JsonMerge($[0].results, $[1].results, false)",
                "run.$": "$[0].run",
              },
              "Type": "Parallel",
            },
            "a": {
              "Catch": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                  ],
                  "Next": "a bad data",
                  "ResultPath": "$.failure",
                },
              ],
              "Next": "Parallel 1: b, c",
              "Parameters": {
                "gate": false,
                "inputs": {},
                "params": {},
                "retryCount.$": "$$.State.RetryCount",
                "run.$": "$.run",
                "task": "a",
              },
              "Resource": "\${Handler_step}",
              "ResultPath": "$.results.a",
              "Retry": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                    "GateOutputError",
                    "TaskEventError",
                    "TaskOutputError",
                  ],
                  "MaxAttempts": 0,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "Lambda.ClientExecutionTimeoutException",
                    "Lambda.ServiceException",
                    "Lambda.AWSLambdaException",
                    "Lambda.SdkClientException",
                  ],
                  "IntervalSeconds": 2,
                  "MaxAttempts": 6,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.ALL",
                  ],
                  "IntervalSeconds": 2,
                  "JitterStrategy": "FULL",
                  "MaxAttempts": 2,
                  "MaxDelaySeconds": 60,
                },
              ],
              "TimeoutSeconds": 900,
              "Type": "Task",
            },
            "a bad data": {
              "Next": "a raise",
              "Parameters": {
                "ExpressionAttributeNames": {
                  "#error": "error",
                },
                "ExpressionAttributeValues": {
                  ":cause": {
                    "S.$": "$.failure.Cause",
                  },
                  ":error": {
                    "S.$": "$.failure.Error",
                  },
                  ":task": {
                    "S": "a",
                  },
                },
                "Key": {
                  "pk": {
                    "S.$": "$.ledger.pk",
                  },
                  "sk": {
                    "S.$": "$.ledger.sk",
                  },
                },
                "TableName": "\${LedgerTableName}",
                "UpdateExpression": "SET failedTask = :task, #error = :error, errorCause = :cause",
              },
              "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
              "ResultPath": null,
              "Retry": [
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.TaskFailed",
                  ],
                  "IntervalSeconds": 1,
                  "MaxAttempts": 3,
                },
              ],
              "Type": "Task",
            },
            "a raise": {
              "CausePath": "$.failure.Cause",
              "ErrorPath": "$.failure.Error",
              "Type": "Fail",
            },
            "d": {
              "Catch": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                  ],
                  "Next": "d bad data",
                  "ResultPath": "$.failure",
                },
              ],
              "End": true,
              "Parameters": {
                "gate": false,
                "inputs": {
                  "b.$": "$.results.b",
                  "c.$": "$.results.c",
                },
                "params": {},
                "retryCount.$": "$$.State.RetryCount",
                "run.$": "$.run",
                "task": "d",
              },
              "Resource": "\${Handler_step}",
              "ResultPath": "$.results.d",
              "Retry": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                    "GateOutputError",
                    "TaskEventError",
                    "TaskOutputError",
                  ],
                  "MaxAttempts": 0,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "Lambda.ClientExecutionTimeoutException",
                    "Lambda.ServiceException",
                    "Lambda.AWSLambdaException",
                    "Lambda.SdkClientException",
                  ],
                  "IntervalSeconds": 2,
                  "MaxAttempts": 6,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.ALL",
                  ],
                  "IntervalSeconds": 2,
                  "JitterStrategy": "FULL",
                  "MaxAttempts": 2,
                  "MaxDelaySeconds": 60,
                },
              ],
              "TimeoutSeconds": 900,
              "Type": "Task",
            },
            "d bad data": {
              "Next": "d raise",
              "Parameters": {
                "ExpressionAttributeNames": {
                  "#error": "error",
                },
                "ExpressionAttributeValues": {
                  ":cause": {
                    "S.$": "$.failure.Cause",
                  },
                  ":error": {
                    "S.$": "$.failure.Error",
                  },
                  ":task": {
                    "S": "d",
                  },
                },
                "Key": {
                  "pk": {
                    "S.$": "$.ledger.pk",
                  },
                  "sk": {
                    "S.$": "$.ledger.sk",
                  },
                },
                "TableName": "\${LedgerTableName}",
                "UpdateExpression": "SET failedTask = :task, #error = :error, errorCause = :cause",
              },
              "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
              "ResultPath": null,
              "Retry": [
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.TaskFailed",
                  ],
                  "IntervalSeconds": 1,
                  "MaxAttempts": 3,
                },
              ],
              "Type": "Task",
            },
            "d raise": {
              "CausePath": "$.failure.Cause",
              "ErrorPath": "$.failure.Error",
              "Type": "Fail",
            },
          },
        }
      `);
    });

    it('compiles a gate to a Choice on its verdict', () => {
      const definition = definitionOf(
        testPipeline({ validate: { run: check, gate: true }, load: { after: ['validate'] } }),
      );
      expect(taskGraph(definition)).toMatchInlineSnapshot(`
        {
          "StartAt": "validate",
          "States": {
            "load": {
              "Catch": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                  ],
                  "Next": "load bad data",
                  "ResultPath": "$.failure",
                },
              ],
              "End": true,
              "Parameters": {
                "gate": false,
                "inputs": {
                  "validate.$": "$.results.validate",
                },
                "params": {},
                "retryCount.$": "$$.State.RetryCount",
                "run.$": "$.run",
                "task": "load",
              },
              "Resource": "\${Handler_step}",
              "ResultPath": "$.results.load",
              "Retry": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                    "GateOutputError",
                    "TaskEventError",
                    "TaskOutputError",
                  ],
                  "MaxAttempts": 0,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "Lambda.ClientExecutionTimeoutException",
                    "Lambda.ServiceException",
                    "Lambda.AWSLambdaException",
                    "Lambda.SdkClientException",
                  ],
                  "IntervalSeconds": 2,
                  "MaxAttempts": 6,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.ALL",
                  ],
                  "IntervalSeconds": 2,
                  "JitterStrategy": "FULL",
                  "MaxAttempts": 2,
                  "MaxDelaySeconds": 60,
                },
              ],
              "TimeoutSeconds": 900,
              "Type": "Task",
            },
            "load bad data": {
              "Next": "load raise",
              "Parameters": {
                "ExpressionAttributeNames": {
                  "#error": "error",
                },
                "ExpressionAttributeValues": {
                  ":cause": {
                    "S.$": "$.failure.Cause",
                  },
                  ":error": {
                    "S.$": "$.failure.Error",
                  },
                  ":task": {
                    "S": "load",
                  },
                },
                "Key": {
                  "pk": {
                    "S.$": "$.ledger.pk",
                  },
                  "sk": {
                    "S.$": "$.ledger.sk",
                  },
                },
                "TableName": "\${LedgerTableName}",
                "UpdateExpression": "SET failedTask = :task, #error = :error, errorCause = :cause",
              },
              "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
              "ResultPath": null,
              "Retry": [
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.TaskFailed",
                  ],
                  "IntervalSeconds": 1,
                  "MaxAttempts": 3,
                },
              ],
              "Type": "Task",
            },
            "load raise": {
              "CausePath": "$.failure.Cause",
              "ErrorPath": "$.failure.Error",
              "Type": "Fail",
            },
            "validate": {
              "Catch": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                  ],
                  "Next": "validate bad data",
                  "ResultPath": "$.failure",
                },
              ],
              "Next": "validate passed?",
              "Parameters": {
                "gate": true,
                "inputs": {},
                "params": {},
                "retryCount.$": "$$.State.RetryCount",
                "run.$": "$.run",
                "task": "validate",
              },
              "Resource": "\${Handler_check}",
              "ResultPath": "$.results.validate",
              "Retry": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                    "GateOutputError",
                    "TaskEventError",
                    "TaskOutputError",
                  ],
                  "MaxAttempts": 0,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "Lambda.ClientExecutionTimeoutException",
                    "Lambda.ServiceException",
                    "Lambda.AWSLambdaException",
                    "Lambda.SdkClientException",
                  ],
                  "IntervalSeconds": 2,
                  "MaxAttempts": 6,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.ALL",
                  ],
                  "IntervalSeconds": 2,
                  "JitterStrategy": "FULL",
                  "MaxAttempts": 2,
                  "MaxDelaySeconds": 60,
                },
              ],
              "TimeoutSeconds": 900,
              "Type": "Task",
            },
            "validate bad data": {
              "Next": "validate raise",
              "Parameters": {
                "ExpressionAttributeNames": {
                  "#error": "error",
                },
                "ExpressionAttributeValues": {
                  ":cause": {
                    "S.$": "$.failure.Cause",
                  },
                  ":error": {
                    "S.$": "$.failure.Error",
                  },
                  ":task": {
                    "S": "validate",
                  },
                },
                "Key": {
                  "pk": {
                    "S.$": "$.ledger.pk",
                  },
                  "sk": {
                    "S.$": "$.ledger.sk",
                  },
                },
                "TableName": "\${LedgerTableName}",
                "UpdateExpression": "SET failedTask = :task, #error = :error, errorCause = :cause",
              },
              "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
              "ResultPath": null,
              "Retry": [
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.TaskFailed",
                  ],
                  "IntervalSeconds": 1,
                  "MaxAttempts": 3,
                },
              ],
              "Type": "Task",
            },
            "validate no reason": {
              "Next": "validate bad data",
              "Parameters": {
                "Cause": "gate 'validate' returned pass: false without a reason",
                "Error": "GateRejected",
              },
              "ResultPath": "$.failure",
              "Type": "Pass",
            },
            "validate passed?": {
              "Choices": [
                {
                  "BooleanEquals": true,
                  "Next": "load",
                  "Variable": "$.results.validate.pass",
                },
                {
                  "IsPresent": true,
                  "Next": "validate rejected",
                  "Variable": "$.results.validate.reason",
                },
              ],
              "Default": "validate no reason",
              "Type": "Choice",
            },
            "validate raise": {
              "CausePath": "$.failure.Cause",
              "ErrorPath": "$.failure.Error",
              "Type": "Fail",
            },
            "validate rejected": {
              "Next": "validate bad data",
              "Parameters": {
                "Cause.$": "$.results.validate.reason",
                "Error": "GateRejected",
              },
              "ResultPath": "$.failure",
              "Type": "Pass",
            },
          },
        }
      `);
    });

    it('compiles retry.from to a single-branch Parallel that retries the group', () => {
      const definition = definitionOf(
        testPipeline({
          transform: {},
          publish: { after: ['transform'], retry: { attempts: 2, interval: '30s', from: 'transform' } },
        }),
      );
      expect(taskGraph(definition)).toMatchInlineSnapshot(`
        {
          "StartAt": "Retry transform to publish",
          "States": {
            "Retry transform to publish": {
              "Branches": [
                {
                  "StartAt": "transform",
                  "States": {
                    "publish": {
                      "Catch": [
                        {
                          "ErrorEquals": [
                            "DataError",
                            "GateRejected",
                          ],
                          "Next": "publish bad data",
                          "ResultPath": "$.failure",
                        },
                      ],
                      "End": true,
                      "Parameters": {
                        "gate": false,
                        "inputs": {
                          "transform.$": "$.results.transform",
                        },
                        "params": {},
                        "retryCount.$": "$$.State.RetryCount",
                        "run.$": "$.run",
                        "task": "publish",
                      },
                      "Resource": "\${Handler_step}",
                      "ResultPath": "$.results.publish",
                      "Retry": [
                        {
                          "ErrorEquals": [
                            "DataError",
                            "GateRejected",
                            "GateOutputError",
                            "TaskEventError",
                            "TaskOutputError",
                          ],
                          "MaxAttempts": 0,
                        },
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "Lambda.ClientExecutionTimeoutException",
                            "Lambda.ServiceException",
                            "Lambda.AWSLambdaException",
                            "Lambda.SdkClientException",
                          ],
                          "IntervalSeconds": 2,
                          "MaxAttempts": 6,
                        },
                      ],
                      "TimeoutSeconds": 900,
                      "Type": "Task",
                    },
                    "publish bad data": {
                      "Next": "publish raise",
                      "Parameters": {
                        "ExpressionAttributeNames": {
                          "#error": "error",
                        },
                        "ExpressionAttributeValues": {
                          ":cause": {
                            "S.$": "$.failure.Cause",
                          },
                          ":error": {
                            "S.$": "$.failure.Error",
                          },
                          ":task": {
                            "S": "publish",
                          },
                        },
                        "Key": {
                          "pk": {
                            "S.$": "$.ledger.pk",
                          },
                          "sk": {
                            "S.$": "$.ledger.sk",
                          },
                        },
                        "TableName": "\${LedgerTableName}",
                        "UpdateExpression": "SET failedTask = :task, #error = :error, errorCause = :cause",
                      },
                      "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
                      "ResultPath": null,
                      "Retry": [
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "States.TaskFailed",
                          ],
                          "IntervalSeconds": 1,
                          "MaxAttempts": 3,
                        },
                      ],
                      "Type": "Task",
                    },
                    "publish raise": {
                      "CausePath": "$.failure.Cause",
                      "ErrorPath": "$.failure.Error",
                      "Type": "Fail",
                    },
                    "transform": {
                      "Catch": [
                        {
                          "ErrorEquals": [
                            "DataError",
                            "GateRejected",
                          ],
                          "Next": "transform bad data",
                          "ResultPath": "$.failure",
                        },
                      ],
                      "Next": "publish",
                      "Parameters": {
                        "gate": false,
                        "inputs": {},
                        "params": {},
                        "retryCount.$": "$$.State.RetryCount",
                        "run.$": "$.run",
                        "task": "transform",
                      },
                      "Resource": "\${Handler_step}",
                      "ResultPath": "$.results.transform",
                      "Retry": [
                        {
                          "ErrorEquals": [
                            "DataError",
                            "GateRejected",
                            "GateOutputError",
                            "TaskEventError",
                            "TaskOutputError",
                          ],
                          "MaxAttempts": 0,
                        },
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "Lambda.ClientExecutionTimeoutException",
                            "Lambda.ServiceException",
                            "Lambda.AWSLambdaException",
                            "Lambda.SdkClientException",
                          ],
                          "IntervalSeconds": 2,
                          "MaxAttempts": 6,
                        },
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "States.ALL",
                          ],
                          "IntervalSeconds": 2,
                          "JitterStrategy": "FULL",
                          "MaxAttempts": 2,
                          "MaxDelaySeconds": 60,
                        },
                      ],
                      "TimeoutSeconds": 900,
                      "Type": "Task",
                    },
                    "transform bad data": {
                      "Next": "transform raise",
                      "Parameters": {
                        "ExpressionAttributeNames": {
                          "#error": "error",
                        },
                        "ExpressionAttributeValues": {
                          ":cause": {
                            "S.$": "$.failure.Cause",
                          },
                          ":error": {
                            "S.$": "$.failure.Error",
                          },
                          ":task": {
                            "S": "transform",
                          },
                        },
                        "Key": {
                          "pk": {
                            "S.$": "$.ledger.pk",
                          },
                          "sk": {
                            "S.$": "$.ledger.sk",
                          },
                        },
                        "TableName": "\${LedgerTableName}",
                        "UpdateExpression": "SET failedTask = :task, #error = :error, errorCause = :cause",
                      },
                      "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
                      "ResultPath": null,
                      "Retry": [
                        {
                          "BackoffRate": 2,
                          "ErrorEquals": [
                            "States.TaskFailed",
                          ],
                          "IntervalSeconds": 1,
                          "MaxAttempts": 3,
                        },
                      ],
                      "Type": "Task",
                    },
                    "transform raise": {
                      "CausePath": "$.failure.Cause",
                      "ErrorPath": "$.failure.Error",
                      "Type": "Fail",
                    },
                  },
                },
              ],
              "Comment": "On failure, 'transform' through 'publish' run again as a group.",
              "End": true,
              "ResultSelector": {
                "ledger.$": "$[0].ledger",
                "results.$": "$[0].results",
                "run.$": "$[0].run",
              },
              "Retry": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                    "GateOutputError",
                    "TaskEventError",
                    "TaskOutputError",
                  ],
                  "MaxAttempts": 0,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.ALL",
                  ],
                  "IntervalSeconds": 30,
                  "JitterStrategy": "FULL",
                  "MaxAttempts": 1,
                  "MaxDelaySeconds": 60,
                },
              ],
              "Type": "Parallel",
            },
          },
        }
      `);
    });

    it('compiles a non-critical task to a Catch that records a warning and goes on', () => {
      const definition = definitionOf(
        testPipeline({ monitor: { run: notify, critical: false }, archive: { after: ['monitor'] } }),
      );
      expect(taskGraph(definition)).toMatchInlineSnapshot(`
        {
          "StartAt": "monitor",
          "States": {
            "archive": {
              "Catch": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                  ],
                  "Next": "archive bad data",
                  "ResultPath": "$.failure",
                },
              ],
              "End": true,
              "Parameters": {
                "gate": false,
                "inputs": {
                  "monitor.$": "$.results.monitor",
                },
                "params": {},
                "retryCount.$": "$$.State.RetryCount",
                "run.$": "$.run",
                "task": "archive",
              },
              "Resource": "\${Handler_step}",
              "ResultPath": "$.results.archive",
              "Retry": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                    "GateOutputError",
                    "TaskEventError",
                    "TaskOutputError",
                  ],
                  "MaxAttempts": 0,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "Lambda.ClientExecutionTimeoutException",
                    "Lambda.ServiceException",
                    "Lambda.AWSLambdaException",
                    "Lambda.SdkClientException",
                  ],
                  "IntervalSeconds": 2,
                  "MaxAttempts": 6,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.ALL",
                  ],
                  "IntervalSeconds": 2,
                  "JitterStrategy": "FULL",
                  "MaxAttempts": 2,
                  "MaxDelaySeconds": 60,
                },
              ],
              "TimeoutSeconds": 900,
              "Type": "Task",
            },
            "archive bad data": {
              "Next": "archive raise",
              "Parameters": {
                "ExpressionAttributeNames": {
                  "#error": "error",
                },
                "ExpressionAttributeValues": {
                  ":cause": {
                    "S.$": "$.failure.Cause",
                  },
                  ":error": {
                    "S.$": "$.failure.Error",
                  },
                  ":task": {
                    "S": "archive",
                  },
                },
                "Key": {
                  "pk": {
                    "S.$": "$.ledger.pk",
                  },
                  "sk": {
                    "S.$": "$.ledger.sk",
                  },
                },
                "TableName": "\${LedgerTableName}",
                "UpdateExpression": "SET failedTask = :task, #error = :error, errorCause = :cause",
              },
              "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
              "ResultPath": null,
              "Retry": [
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.TaskFailed",
                  ],
                  "IntervalSeconds": 1,
                  "MaxAttempts": 3,
                },
              ],
              "Type": "Task",
            },
            "archive raise": {
              "CausePath": "$.failure.Cause",
              "ErrorPath": "$.failure.Error",
              "Type": "Fail",
            },
            "monitor": {
              "Catch": [
                {
                  "ErrorEquals": [
                    "States.ALL",
                  ],
                  "Next": "monitor warning",
                  "ResultPath": "$.results.monitor",
                },
              ],
              "Next": "archive",
              "Parameters": {
                "gate": false,
                "inputs": {},
                "params": {},
                "retryCount.$": "$$.State.RetryCount",
                "run.$": "$.run",
                "task": "monitor",
              },
              "Resource": "\${Handler_notify}",
              "ResultPath": "$.results.monitor",
              "Retry": [
                {
                  "ErrorEquals": [
                    "DataError",
                    "GateRejected",
                    "GateOutputError",
                    "TaskEventError",
                    "TaskOutputError",
                  ],
                  "MaxAttempts": 0,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "Lambda.ClientExecutionTimeoutException",
                    "Lambda.ServiceException",
                    "Lambda.AWSLambdaException",
                    "Lambda.SdkClientException",
                  ],
                  "IntervalSeconds": 2,
                  "MaxAttempts": 6,
                },
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.ALL",
                  ],
                  "IntervalSeconds": 2,
                  "JitterStrategy": "FULL",
                  "MaxAttempts": 2,
                  "MaxDelaySeconds": 60,
                },
              ],
              "TimeoutSeconds": 900,
              "Type": "Task",
            },
            "monitor warning": {
              "Next": "archive",
              "Parameters": {
                "ExpressionAttributeValues": {
                  ":task": {
                    "SS": [
                      "monitor",
                    ],
                  },
                },
                "Key": {
                  "pk": {
                    "S.$": "$.ledger.pk",
                  },
                  "sk": {
                    "S.$": "$.ledger.sk",
                  },
                },
                "TableName": "\${LedgerTableName}",
                "UpdateExpression": "ADD warnings :task",
              },
              "Resource": "arn:\${Partition}:states:::dynamodb:updateItem",
              "ResultPath": null,
              "Retry": [
                {
                  "BackoffRate": 2,
                  "ErrorEquals": [
                    "States.TaskFailed",
                  ],
                  "IntervalSeconds": 1,
                  "MaxAttempts": 3,
                },
              ],
              "Type": "Task",
            },
          },
        }
      `);
    });
  });

  describe('latched chains (graphs that are not series-parallel)', () => {
    const nShape = definitionOf(pipelineFromEdges({ a: [], b: [], c: ['a', 'b'], d: ['b'] }));

    it('opens a latch with an id of its own, then runs the chains side by side', () => {
      const graph = taskGraph(nShape);
      expect(graph.StartAt).toBe('Open latch 1');
      expect(stateOf(nShape, 'Open latch 1')).toMatchObject({
        Type: 'Pass',
        Parameters: { 'id.$': 'States.UUID()' },
        ResultPath: '$.latch1',
        Next: 'Key latch 1',
      });
      expect(stateOf(nShape, 'Key latch 1')).toMatchObject({
        Parameters: { 'pk.$': "States.Format('LATCH#{}', $.latch1.id)" },
        ResultPath: '$.latch1',
        Next: 'Parallel 1: latched chains',
      });
      const parallel = stateOf(nShape, 'Parallel 1: latched chains');
      expect((parallel.Branches as { StartAt: string }[]).map((b) => b.StartAt)).toEqual(['a', 'b']);
      expect(parallel.ResultSelector).toEqual({
        'run.$': '$[0].run',
        'ledger.$': '$[0].ledger',
        'latch1.$': '$[0].latch1',
        'results.$': 'States.JsonMerge($[0].results, $[1].results, false)',
      });
      expect(parallel.End).toBe(true);
    });

    it('stores a waiting task token unless what the task waits for is done, and goes on either way', () => {
      expect(stateOf(nShape, 'a').Next).toBe('c: wait');
      expect(stateOf(nShape, 'c: wait')).toEqual({
        Type: 'Task',
        Resource: `arn:${sub('Partition')}:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken`,
        Parameters: {
          TableName: sub('LedgerTableName'),
          Key: { pk: { 'S.$': '$.latch1.pk' }, sk: { S: 'WAIT' } },
          UpdateExpression: 'SET #wait = :token, expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(#d0)',
          ExpressionAttributeNames: { '#wait': 'wait:c', '#d0': 'done:b' },
          ExpressionAttributeValues: {
            ':token': { 'S.$': '$$.Task.Token' },
            ':expiresAt': { 'N.$': '$.run.expiresAt' },
          },
        },
        ResultPath: null,
        Retry: [
          {
            ErrorEquals: [
              'DynamoDb.ConditionalCheckFailedException',
              'DynamoDB.ConditionalCheckFailedException',
            ],
            MaxAttempts: 0,
          },
          { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 },
        ],
        Catch: [
          {
            ErrorEquals: [
              'DynamoDb.ConditionalCheckFailedException',
              'DynamoDB.ConditionalCheckFailedException',
            ],
            ResultPath: null,
            Next: 'c: read inputs',
          },
        ],
        Next: 'c: read inputs',
      });
    });

    it('reads the outputs a task takes from other chains, and hands them to it', () => {
      expect(stateOf(nShape, 'c: read inputs')).toMatchObject({
        Resource: `arn:${sub('Partition')}:states:::dynamodb:getItem`,
        Parameters: {
          Key: { pk: { 'S.$': '$.latch1.pk' }, sk: { S: 'OUT' } },
          ConsistentRead: true,
          ProjectionExpression: '#o0',
          ExpressionAttributeNames: { '#o0': 'out:b' },
        },
        ResultSelector: { 'b.$': "States.StringToJson($.Item['out:b'].S)" },
        ResultPath: '$.latched',
        Next: 'c',
      });
      expect((stateOf(nShape, 'c').Parameters as { inputs: unknown }).inputs).toEqual({
        'a.$': '$.results.a',
        'b.$': '$.latched.b',
      });
    });

    it('publishes what other chains read, marks the task done, and wakes a waiter whose waits are all done', () => {
      expect(stateOf(nShape, 'b').Next).toBe('b: publish');
      expect(stateOf(nShape, 'b: publish')).toMatchObject({
        Resource: `arn:${sub('Partition')}:states:::dynamodb:updateItem`,
        Parameters: {
          Key: { pk: { 'S.$': '$.latch1.pk' }, sk: { S: 'OUT' } },
          UpdateExpression: 'SET #o0 = :o0, expiresAt = :expiresAt',
          ExpressionAttributeNames: { '#o0': 'out:b' },
          ExpressionAttributeValues: { ':o0': { 'S.$': 'States.JsonToString($.results.b)' } },
        },
        ResultPath: null,
        Next: 'b: signal',
      });
      expect(stateOf(nShape, 'b: signal')).toMatchObject({
        Parameters: {
          Key: { pk: { 'S.$': '$.latch1.pk' }, sk: { S: 'WAIT' } },
          UpdateExpression: 'SET #done = :done, expiresAt = :expiresAt',
          ExpressionAttributeNames: { '#done': 'done:b' },
          ReturnValues: 'ALL_NEW',
        },
        ResultSelector: { 'Attributes.$': '$.Attributes' },
        ResultPath: '$.signal',
        Next: 'b: wake c?',
      });
      expect(stateOf(nShape, 'b: wake c?')).toEqual({
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: "$.signal.Attributes['wait:c']", IsPresent: true },
              { Variable: "$.signal.Attributes['done:b']", IsPresent: true },
            ],
            Next: 'b: wake c',
          },
        ],
        Default: 'd',
      });
      expect(stateOf(nShape, 'b: wake c')).toMatchObject({
        Resource: `arn:${sub('Partition')}:states:::aws-sdk:sfn:sendTaskSuccess`,
        Parameters: { 'TaskToken.$': "$.signal.Attributes['wait:c'].S", Output: '{}' },
        ResultPath: null,
        Catch: [
          {
            ErrorEquals: [
              'Sfn.TaskTimedOutException',
              'Sfn.InvalidTokenException',
              'Sfn.TaskDoesNotExistException',
            ],
            ResultPath: null,
            Next: 'd',
          },
        ],
        Next: 'd',
      });
    });

    it('merges what a retry group read into $.results, where its tasks look, and carries the latch through its Parallel', () => {
      const definition = definitionOf(
        testPipeline({
          a: {},
          b: {},
          c: { after: ['a', 'b'] },
          e: { after: ['c'], retry: { from: 'c' } },
          d: { after: ['b'] },
        }),
      );
      const group = stateOf(definition, 'Retry c to e');
      expect(group.ResultSelector).toMatchObject({ 'latch1.$': '$[0].latch1' });
      expect(stateOf(definition, 'group:e: read inputs').Next).toBe('group:e: merge inputs');
      expect(stateOf(definition, 'group:e: merge inputs')).toEqual({
        Type: 'Pass',
        Parameters: {
          'run.$': '$.run',
          'ledger.$': '$.ledger',
          'latch1.$': '$.latch1',
          'results.$': 'States.JsonMerge($.results, $.latched, false)',
        },
        Next: 'Retry c to e',
      });
      expect((stateOf(definition, 'c').Parameters as { inputs: unknown }).inputs).toEqual({
        'a.$': '$.results.a',
        'b.$': '$.results.b',
      });
    });

    it('compiles without latches when they would take the definition over its budget', () => {
      const compiled = compilePipeline(largePipeline(300));
      const resources = allStates(compiled.definition).map((s) => String(s.state.Resource));
      expect(resources.filter((r) => r.includes('waitForTaskToken'))).toEqual([]);
      expect(compiled.plan.exact).toBe(false);
      const smaller = compilePipeline(largePipeline(60));
      expect(
        allStates(smaller.definition).some((s) => String(s.state.Resource).includes('waitForTaskToken')),
      ).toBe(true);
      expect(Buffer.byteLength(JSON.stringify(smaller.definition))).toBeLessThanOrEqual(
        LATCHED_DEFINITION_BUDGET,
      );
    });
  });

  describe('retry', () => {
    const pipeline = testPipeline(
      {
        fetch: { retry: { attempts: 5, interval: '10s', backoff: 1.5, maxDelay: '2m', jitter: 'none' } },
        store: { after: ['fetch'] },
        once: { after: ['store'], retry: { attempts: 1 } },
      },
      { defaults: { retry: { attempts: 4, interval: '2s', backoff: 3, maxDelay: '1h', jitter: 'full' } } },
    );
    const definition = definitionOf(pipeline);

    it('gives every task three retriers: never for bad data, AWS advice for Lambda, then its policy', () => {
      for (const task of pipeline.tasks) {
        const retry = stateOf(definition, task.id).Retry as Retrier[];
        expect(retry).toHaveLength(3);
        expect(retry[0]).toEqual({ ErrorEquals: NON_RETRYABLE_ERRORS, MaxAttempts: 0 });
        expect(retry[0]?.ErrorEquals).toContain('DataError');
        expect(retry[1]).toEqual({
          ErrorEquals: LAMBDA_SERVICE_ERRORS,
          IntervalSeconds: 2,
          MaxAttempts: 6,
          BackoffRate: 2,
        });
        expect(retry[2]?.ErrorEquals).toEqual(['States.ALL']);
      }
    });

    it("turns the task's own policy into States.ALL with MaxAttempts = attempts - 1", () => {
      expect((stateOf(definition, 'fetch').Retry as Retrier[])[2]).toEqual({
        ErrorEquals: ['States.ALL'],
        IntervalSeconds: 10,
        MaxAttempts: 4,
        BackoffRate: 1.5,
        MaxDelaySeconds: 120,
        JitterStrategy: 'NONE',
      });
    });

    it('falls back to the pipeline defaults', () => {
      expect((stateOf(definition, 'store').Retry as Retrier[])[2]).toEqual({
        ErrorEquals: ['States.ALL'],
        IntervalSeconds: 2,
        MaxAttempts: 3,
        BackoffRate: 3,
        MaxDelaySeconds: 3600,
        JitterStrategy: 'FULL',
      });
    });

    it('makes attempts: 1 a single try', () => {
      expect((stateOf(definition, 'once').Retry as Retrier[])[2]?.MaxAttempts).toBe(0);
    });
  });

  describe('timeouts', () => {
    it('sets TimeoutSeconds on every task and on the machine', () => {
      const pipeline = testPipeline(
        { quick: { timeout: '90s' }, slow: { after: ['quick'], timeout: '12m' }, plain: { after: ['slow'] } },
        { defaults: { timeout: '10m' }, timeout: '3h' },
      );
      const definition = definitionOf(pipeline);
      expect(definition.TimeoutSeconds).toBe(3 * 3600);
      expect(['quick', 'slow', 'plain'].map((id) => stateOf(definition, id).TimeoutSeconds)).toEqual([
        90, 720, 600,
      ]);
    });

    it('uses the default timeouts: 15 minutes a task, 2 hours a run', () => {
      const definition = definitionOf(testPipeline({ only: {} }));
      expect([stateOf(definition, 'only').TimeoutSeconds, definition.TimeoutSeconds]).toEqual([900, 7200]);
    });

    it('gives each handler function the longest timeout of its tasks', () => {
      const { handlers } = compilePipeline(
        testPipeline({
          a: { timeout: '2m' },
          b: { after: ['a'], timeout: '5m' },
          c: { run: check, gate: true, after: ['b'], timeout: '15m' },
        }),
      );
      expect(handlers.map((h) => [h.name, h.tasks, h.timeoutSeconds])).toEqual([
        ['step', ['a', 'b'], 300],
        ['check', ['c'], 900],
      ]);
    });
  });

  describe('gates', () => {
    const definition = definitionOf(
      testPipeline({
        ingest: {},
        validate: { run: check, gate: true, after: ['ingest'] },
        load: { after: ['validate'] },
      }),
    );

    it('follows a gate with a Choice: pass goes on, a reason quarantines, no reason quarantines too', () => {
      expect(stateOf(definition, 'validate').Next).toBe('validate passed?');
      expect(stateOf(definition, 'validate passed?')).toEqual({
        Type: 'Choice',
        Choices: [
          { Variable: '$.results.validate.pass', BooleanEquals: true, Next: 'load' },
          { Variable: '$.results.validate.reason', IsPresent: true, Next: 'validate rejected' },
        ],
        Default: 'validate no reason',
      });
      for (const rejected of ['validate rejected', 'validate no reason']) {
        expect(stateOf(definition, rejected)).toMatchObject({
          Type: 'Pass',
          Parameters: { Error: 'GateRejected' },
          Next: 'validate bad data',
        });
      }
      expect(stateOf(definition, 'validate bad data')).toMatchObject({
        Type: 'Task',
        Resource: `arn:${sub('Partition')}:states:::dynamodb:updateItem`,
        Parameters: {
          UpdateExpression: 'SET failedTask = :task, #error = :error, errorCause = :cause',
          ExpressionAttributeValues: {
            ':task': { S: 'validate' },
            ':error': { 'S.$': '$.failure.Error' },
            ':cause': { 'S.$': '$.failure.Cause' },
          },
        },
        Next: 'validate raise',
      });
      expect(stateOf(definition, 'validate raise')).toEqual({
        Type: 'Fail',
        ErrorPath: '$.failure.Error',
        CausePath: '$.failure.Cause',
      });
    });

    it('catches only bad data in a critical task: any other error fails the execution at the task', () => {
      for (const task of ['ingest', 'validate', 'load'])
        expect(stateOf(definition, task).Catch).toEqual([
          { ErrorEquals: ['DataError', 'GateRejected'], ResultPath: '$.failure', Next: `${task} bad data` },
        ]);
    });

    it('sends GateRejected and DataError to quarantine, and catches nothing else', () => {
      expect(definition.States['Run tasks']?.Catch).toEqual([
        { ErrorEquals: ['DataError', 'GateRejected'], ResultPath: '$.error', Next: 'Rejected by a gate?' },
      ]);
    });

    it('ends the quarantine branch at its ledger write, with no failure path and no alert state', () => {
      expect(stateOf(definition, 'Record quarantine')).toMatchObject({ End: true });
      const fails = allStates(definition).filter((s) => s.state.Type === 'Fail');
      expect(fails.map((s) => s.name).sort()).toEqual(['ingest raise', 'load raise', 'validate raise']);
      expect(allStates(definition).filter((s) => /alert/i.test(s.name))).toEqual([]);
    });

    it('clears an earlier failure from the run row when the run succeeds (after a redrive)', () => {
      expect(stateOf(definition, 'Record run success')).toMatchObject({
        Parameters: {
          UpdateExpression: 'SET #status = :status, endedAt = :endedAt REMOVE failedTask, #error, errorCause',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
        },
        End: true,
      });
    });

    it('ends the graph with Succeed when a gate is the last task', () => {
      const last = definitionOf(
        testPipeline({ ingest: {}, validate: { run: check, gate: true, after: ['ingest'] } }),
      );
      expect(stateOf(last, 'validate passed?').Choices).toContainEqual(
        expect.objectContaining({ Next: 'validate done' }),
      );
      expect(stateOf(last, 'validate done')).toEqual({ Type: 'Succeed' });
    });
  });

  describe('retry groups', () => {
    const definition = definitionOf(
      testPipeline({
        ingest: {},
        transform: { after: ['ingest'] },
        publish: { after: ['transform'], retry: { attempts: 3, interval: '5s', from: 'transform' } },
        monitor: { after: ['publish'] },
      }),
    );
    const group = stateOf(definition, 'Retry transform to publish');

    it('wraps the group in a single-branch Parallel carrying the group retry', () => {
      expect(stateOf(definition, 'ingest').Next).toBe('Retry transform to publish');
      expect(group.Type).toBe('Parallel');
      expect(group.Branches).toHaveLength(1);
      expect(group.Retry).toEqual([
        { ErrorEquals: NON_RETRYABLE_ERRORS, MaxAttempts: 0 },
        {
          ErrorEquals: ['States.ALL'],
          IntervalSeconds: 5,
          MaxAttempts: 2,
          BackoffRate: 2,
          MaxDelaySeconds: 60,
          JitterStrategy: 'FULL',
        },
      ]);
      expect(group.Next).toBe('monitor');
      expect(Object.keys((group.Branches as { States: object }[])[0]?.States ?? {})).toEqual(
        expect.arrayContaining(['transform', 'publish']),
      );
    });

    it('leaves the task that declares retry.from without a States.ALL retrier of its own', () => {
      const publish = stateOf(definition, 'publish');
      expect((publish.Retry as Retrier[]).map((r) => r.ErrorEquals)).toEqual([
        NON_RETRYABLE_ERRORS,
        LAMBDA_SERVICE_ERRORS,
      ]);
      expect((stateOf(definition, 'transform').Retry as Retrier[])[2]?.ErrorEquals).toEqual(['States.ALL']);
    });
  });

  describe('non-critical tasks', () => {
    const definition = definitionOf(
      testPipeline({
        load: {},
        monitor: { run: notify, critical: false, after: ['load'] },
        archive: { after: ['monitor'] },
      }),
    );

    it('catches every error into its result and goes to a warning', () => {
      expect(stateOf(definition, 'monitor').Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.results.monitor', Next: 'monitor warning' },
      ]);
    });

    it('records the warning in the ledger and carries on with the next task; the recorder alerts', () => {
      expect(stateOf(definition, 'monitor warning')).toMatchObject({
        Type: 'Task',
        Resource: `arn:${sub('Partition')}:states:::dynamodb:updateItem`,
        Parameters: {
          TableName: sub('LedgerTableName'),
          UpdateExpression: 'ADD warnings :task',
          ExpressionAttributeValues: { ':task': { SS: ['monitor'] } },
        },
        Next: 'archive',
      });
    });

    it('has no path to failure', () => {
      const names = allStates(definition).map((s) => s.name);
      expect(names).not.toContain('monitor bad data');
      expect(names).not.toContain('monitor raise');
    });
  });

  describe('data flow', () => {
    it('puts each result under $.results.<task> and hands a task its direct upstream results', () => {
      const definition = definitionOf(pipelineFromEdges({ a: [], b: ['a'], c: ['a', 'b'] }));
      expect(stateOf(definition, 'c')).toMatchObject({
        ResultPath: '$.results.c',
        Parameters: { 'run.$': '$.run', task: 'c', inputs: { 'a.$': '$.results.a', 'b.$': '$.results.b' } },
      });
    });

    it('writes ids with hyphens in bracket notation', () => {
      const definition = definitionOf(pipelineFromEdges({ 'load-eu': [], report: ['load-eu'] }));
      expect(stateOf(definition, 'load-eu').ResultPath).toBe("$.results['load-eu']");
      expect(stateOf(definition, 'report').Parameters).toMatchObject({
        inputs: { 'load-eu.$': "$.results['load-eu']" },
      });
    });

    it('merges the results of every branch of a Parallel, two branches a Parallel, nested', () => {
      const definition = definitionOf(pipelineFromEdges({ a: [], b: [], c: [], d: ['a', 'b', 'c'] }));
      const merge = {
        'run.$': '$[0].run',
        'ledger.$': '$[0].ledger',
        'results.$': 'States.JsonMerge($[0].results, $[1].results, false)',
      };
      const outer = stateOf(definition, 'Parallel 1: a, b, c');
      expect(outer).toMatchObject({ ResultSelector: merge, Next: 'd' });
      expect((outer.Branches as { StartAt: string }[]).map((b) => b.StartAt)).toEqual([
        'Parallel 2: a, b',
        'c',
      ]);
      expect(stateOf(definition, 'Parallel 2: a, b')).toMatchObject({ ResultSelector: merge, End: true });
      // Leaving ResultPath out replaces the state with the merged result; aws-local-stepfunctions reads
      // an explicit '$' as a field named '$'.
      expect(allStates(definition).filter((s) => s.state.ResultPath === '$')).toEqual([]);
    });

    it('never nests one intrinsic function in another, and never gives a Parallel more than two branches', () => {
      const problems: string[] = [];
      for (let seed = 1; seed <= 60; seed++) {
        const random = seededRandom(seed);
        const edges =
          seed % 2 === 0
            ? randomSeriesParallelDag(random, 2 + (seed % 25))
            : randomDag(random, 2 + (seed % 25), 0.3);
        for (const { name, state } of allStates(definitionOf(pipelineFromEdges(edges)))) {
          if (state.Type === 'Parallel' && (state.Branches as unknown[]).length > 2)
            problems.push(`seed ${seed}: '${name}' has ${(state.Branches as unknown[]).length} branches`);
          const text = JSON.stringify([state.Parameters ?? null, state.ResultSelector ?? null]);
          for (const intrinsic of text.match(/States\.[A-Za-z]+\([^"]*/g) ?? []) {
            if (/States\.[A-Za-z]+\(/.test(intrinsic.slice(7)))
              problems.push(`seed ${seed}: '${name}' nests intrinsics: ${intrinsic}`);
          }
        }
      }
      expect(problems).toEqual([]);
    });

    it('hands params to the handler as they are, and never emits a key Step Functions would read as a path', () => {
      const pipeline = testPipeline({ load: { params: { table: 'orders', nested: { keys: ['a', 'b'] } } } });
      expect(stateOf(definitionOf(pipeline), 'load').Parameters).toMatchObject({
        params: { table: 'orders', nested: { keys: ['a', 'b'] } },
      });
      const [load] = pipeline.tasks;
      const smuggled = {
        ...pipeline,
        tasks: [
          { ...(load as (typeof pipeline.tasks)[number]), params: { nested: [{ 'file.$': '$.run' }] } },
        ],
      };
      expect(() => compilePipeline(smuggled)).toThrowErrorMatchingInlineSnapshot(
        `[ParamPathKeyError: tasks.load.params.nested[0].file.$: a params key ending in '.$' would be read by Step Functions as a path, not passed to the handler; rename the key]`,
      );
    });

    it('writes the latch integrations only for a graph that is not series-parallel', () => {
      const resources = new Set(
        allStates(definitionOf(pipelineFromEdges({ a: [], b: [], c: ['a', 'b'], d: ['b'] })))
          .map((s) => s.state.Resource)
          .filter((r): r is string => typeof r === 'string' && r.includes(':states:::')),
      );
      expect([...resources].sort()).toEqual([
        `arn:${sub('Partition')}:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken`,
        `arn:${sub('Partition')}:states:::aws-sdk:s3:copyObject`,
        `arn:${sub('Partition')}:states:::aws-sdk:s3:deleteObject`,
        `arn:${sub('Partition')}:states:::aws-sdk:sfn:sendTaskSuccess`,
        `arn:${sub('Partition')}:states:::dynamodb:getItem`,
        `arn:${sub('Partition')}:states:::dynamodb:putItem`,
        `arn:${sub('Partition')}:states:::dynamodb:updateItem`,
      ]);
    });

    it('writes service integrations as their Step Functions resources', () => {
      const resources = new Set(
        allStates(definitionOf(testPipeline({ only: {} })))
          .map((s) => s.state.Resource)
          .filter((r): r is string => typeof r === 'string' && r.includes(':states:::')),
      );
      expect([...resources].sort()).toEqual([
        `arn:${sub('Partition')}:states:::aws-sdk:s3:copyObject`,
        `arn:${sub('Partition')}:states:::aws-sdk:s3:deleteObject`,
        `arn:${sub('Partition')}:states:::dynamodb:putItem`,
        `arn:${sub('Partition')}:states:::dynamodb:updateItem`,
      ]);
    });
  });

  describe('limits', () => {
    it('keeps every state name within 80 characters, even for the longest task ids', () => {
      const long = (c: string) => `${c}${'x'.repeat(63)}`;
      const [a, b, c, d] = [long('a'), long('b'), long('c'), long('d')];
      const definition = definitionOf(
        testPipeline({
          [a]: { run: check, gate: true },
          [b]: { after: [a] },
          [c]: { after: [a], run: notify, critical: false },
          [d]: { after: [b, c], retry: { from: a } },
        }),
      );
      const names = allStates(definition).map((s) => s.name);
      expect(names.filter((n) => [...n].length > 80)).toEqual([]);
      expect(Math.max(...names.map((n) => [...n].length))).toBe(80);
      expect(structuralProblems(definition)).toEqual([]);
    });

    it('compiles random graphs into well-formed machines with short, unique state names', () => {
      const problems: string[] = [];
      for (let seed = 1; seed <= 150; seed++) {
        const random = seededRandom(seed);
        const edges =
          seed % 2 === 0
            ? randomSeriesParallelDag(random, 2 + (seed % 25))
            : randomDag(random, 2 + (seed % 25), 0.3);
        for (const problem of structuralProblems(definitionOf(pipelineFromEdges(edges)))) {
          problems.push(`seed ${seed}: ${problem}`);
        }
      }
      expect(problems).toEqual([]);
    });

    it('compiles a 300-task pipeline to a definition well under the 1 MB limit', () => {
      const compiled = compilePipeline(largePipeline(300));
      const bytes = Buffer.byteLength(JSON.stringify(compiled.definition));
      expect(compiled.pipeline.tasks).toHaveLength(300);
      expect(bytes).toBeLessThan(1_000_000);
      expect(compiled.handlers).toHaveLength(3);
      expect(structuralProblems(compiled.definition)).toEqual([]);
      expect(allStates(compiled.definition).filter((s) => [...s.name].length > 80)).toEqual([]);
    });
  });
});
