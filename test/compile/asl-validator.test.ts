// A second, independent check of every definition the compiler emits: asl-validator (its JSON schemas,
// transitions, terminal states, paths and ARNs), over the examples, the test fixtures' specs, a
// 300-task pipeline, a pipeline split into parts, random graphs and the shapes the compiler tests use.
// And the redrive rule: no Catch on States.ALL or States.TaskFailed hands the failed task's error to a
// Fail state.
import { describe, expect, it } from 'vitest';
import analytics from '../../examples/analytics/pipeline.ts';
import cdcSync from '../../examples/cdc-sync/pipeline.ts';
import monthEnd from '../../examples/month-end/pipeline.ts';
import orders from '../../examples/orders/pipeline.ts';
import type { StateMachineDefinition } from '../../lib/compile/asl.ts';
import { compilePipeline } from '../../lib/compile/states.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import diamond from '../fixtures/local/diamond/pipeline.ts';
import intake from '../fixtures/local/intake/pipeline.ts';
import capped from '../fixtures/local/triggers/capped.ts';
import hourly from '../fixtures/local/triggers/hourly.ts';
import invoice from '../fixtures/local/triggers/invoice.ts';
import redrivable from '../fixtures/local/triggers/redrivable.ts';
import report from '../fixtures/local/triggers/report.ts';
import sales from '../fixtures/sales/pipeline.ts';
import { aslValidatorErrors, catchesLeadingToFail } from '../private/asl.ts';
import { largePipeline } from '../private/large-pipeline.ts';
import { randomDag, randomSeriesParallelDag, seededRandom } from '../private/random-dags.ts';
import { substitute } from '../private/run-definition.ts';
import { CHECK_HANDLER, NOTIFY_HANDLER, pipelineFromEdges, testPipeline } from '../private/specs.ts';

const check = { kind: 'lambda', entry: CHECK_HANDLER } as const;
const notify = { kind: 'lambda', entry: NOTIFY_HANDLER } as const;
const long = (c: string) => `${c}${'x'.repeat(63)}`;

/** Every pipeline whose definition is checked, by a name that says where it comes from. */
const pipelines: [string, PipelineDefinition][] = [
  ['examples/orders', orders],
  ['examples/cdc-sync', cdcSync],
  ['examples/analytics', analytics],
  ['examples/month-end', monthEnd],
  ['fixtures/sales', sales],
  ['fixtures/local/diamond', diamond],
  ['fixtures/local/intake', intake],
  ['fixtures/local/triggers/capped', capped],
  ['fixtures/local/triggers/hourly', hourly],
  ['fixtures/local/triggers/invoice', invoice],
  ['fixtures/local/triggers/redrivable', redrivable],
  ['fixtures/local/triggers/report', report],
  ['300 tasks', largePipeline(300)],
  [
    'a gate, a retry group, a non-critical task, a named quarantine bucket',
    testPipeline(
      {
        ingest: {},
        validate: { run: check, gate: true, after: ['ingest'] },
        transform: { after: ['validate'] },
        publish: { after: ['transform'], retry: { attempts: 2, from: 'transform' } },
        monitor: { run: notify, after: ['publish'], critical: false },
      },
      { quarantine: { prefix: 'bad/', bucket: 'rejects' } },
    ),
  ],
  ['a gate last', testPipeline({ ingest: {}, validate: { run: check, gate: true, after: ['ingest'] } })],
  [
    'the longest task ids',
    testPipeline({
      [long('a')]: { run: check, gate: true },
      [long('b')]: { after: [long('a')] },
      [long('c')]: { after: [long('a')], run: notify, critical: false },
      [long('d')]: { after: [long('b'), long('c')], retry: { from: long('a') } },
    }),
  ],
  ['hyphenated ids', pipelineFromEdges({ 'load-eu': [], report: ['load-eu'] })],
  ['the N shape (latched chains)', pipelineFromEdges({ a: [], b: [], c: ['a', 'b'], d: ['b'] })],
  [
    'latched chains with a gate, a non-critical task, a retry group and hyphenated ids',
    testPipeline({
      'load-a': { run: check, gate: true },
      b: {},
      c: { after: ['load-a', 'b'] },
      e: { after: ['c'], retry: { from: 'c' } },
      d: { after: ['b'], run: notify, critical: false },
      f: { after: ['d', 'load-a'] },
    }),
  ],
  ['60 tasks (latched, under the budget)', largePipeline(60)],
];
// asl-validator builds its schemas again on every call, about a second each on this machine: a dozen
// graphs of each kind here; test/compile/states.test.ts checks 150 for structure.
for (let seed = 1; seed <= 24; seed++) {
  const random = seededRandom(seed);
  const edges =
    seed % 2 === 0
      ? randomSeriesParallelDag(random, 2 + (seed % 25))
      : randomDag(random, 2 + (seed % 25), 0.3);
  pipelines.push([`random graph, seed ${seed}`, pipelineFromEdges(edges)]);
}

const definitions = pipelines.map(
  ([name, pipeline]) => [name, compilePipeline(pipeline).definition] as const,
);
// A pipeline past the definition budget: the parent and each of its parts, with the parts' ARNs filled in.
const split = compilePipeline(largePipeline(60), { definitionBudget: 60_000 });
const partArns = (definition: StateMachineDefinition): StateMachineDefinition =>
  JSON.parse(
    JSON.stringify(definition).replace(
      /\$\{Part_(\d+)\}/g,
      'arn:aws:states:us-east-1:123456789012:stateMachine:part$1',
    ),
  );
definitions.push(
  ['60 tasks split into parts: the parent', partArns(split.definition)],
  ...split.parts.map(
    (part, index) => [`60 tasks split into parts: part ${index + 1}`, partArns(part.definition)] as const,
  ),
);

describe('every compiled definition', () => {
  it('passes asl-validator with zero errors, paths and ARNs checked', { timeout: 300_000 }, () => {
    const problems = definitions.flatMap(([name, definition]) =>
      aslValidatorErrors(substitute(definition)).map((error) => `${name}: ${error}`),
    );
    expect(problems).toEqual([]);
    expect(split.parts).toHaveLength(3);
    expect(definitions).toHaveLength(48);
  });

  it('routes no caught States.ALL or States.TaskFailed to a Fail state', () => {
    const problems = definitions.flatMap(([name, definition]) =>
      catchesLeadingToFail(definition).map((problem) => `${name}: ${problem}`),
    );
    expect(problems).toEqual([]);
  });

  it('has no Fail state but those that raise bad data for the quarantine', () => {
    for (const [, definition] of definitions) {
      const text = JSON.stringify(definition);
      for (const match of text.matchAll(/"([^"]+)":\{"Type":"Fail"/g)) expect(match[1]).toMatch(/ raise$/);
    }
  });
});

describe('the checks themselves', () => {
  /** A Task whose failure is caught, recorded, and raised again: the shape redrive cannot resume. */
  const catchAndRaise: StateMachineDefinition = {
    StartAt: 'work',
    States: {
      work: {
        Type: 'Task',
        Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:work',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'record' }],
        End: true,
      },
      record: {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:updateItem',
        Parameters: { TableName: 't', Key: {}, UpdateExpression: 'SET x = :x' },
        Next: 'raise',
      },
      raise: { Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' },
    },
  };

  it('fails when a caught States.ALL reaches a Fail state through a ledger write', () => {
    expect(catchesLeadingToFail(catchAndRaise)).toEqual([
      "'work' catches States.ALL into 'record', which reaches Fail 'raise'",
    ]);
  });

  it('fails when a definition breaks the States Language', () => {
    const broken = {
      ...catchAndRaise,
      States: { ...catchAndRaise.States, raise: { Type: 'Fail', Next: 'work' } },
    };
    expect(aslValidatorErrors(broken as never).length).toBeGreaterThan(0);
    expect(aslValidatorErrors(catchAndRaise)).toEqual([]);
  });
});
