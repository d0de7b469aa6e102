// What a handler can import from stepwise-cdk/task, pinned: a name dropped here breaks users' handlers.

import type { LogFields, RetryDelay, StandardSchemaV1, TaskLogger, TaskSchemas } from 'stepwise-cdk/task';
import * as task from 'stepwise-cdk/task';
import { expect, expectTypeOf, it } from 'vitest';

it('exports the runtime, its errors and its settings by name', () => {
  expect(Object.keys(task).sort()).toEqual([
    'BUCKETS_VARIABLE',
    'DataError',
    'GateOutputError',
    'LOG_LEVEL_VARIABLE',
    'RetryableError',
    'TaskEnvironmentError',
    'TaskEventError',
    'TaskOutputError',
    'ThrownValueError',
    'defineTask',
  ]);
  expect([task.BUCKETS_VARIABLE, task.LOG_LEVEL_VARIABLE]).toEqual([
    'STEPWISE_BUCKETS',
    'STEPWISE_LOG_LEVEL',
  ]);
});

it('exports the types a handler names', () => {
  expectTypeOf<TaskLogger['info']>().toEqualTypeOf<(message: string, fields?: LogFields) => void>();
  expectTypeOf<'30s'>().toExtend<RetryDelay>();
  expectTypeOf<TaskSchemas['inputs']>().toEqualTypeOf<StandardSchemaV1 | undefined>();
});
