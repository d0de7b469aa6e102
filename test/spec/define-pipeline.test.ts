import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_CONCURRENT_RUNS,
  DEFAULT_PIPELINE_TIMEOUT_MS,
  DEFAULT_RETRY,
  DEFAULT_TASK_TIMEOUT_MS,
  definePipeline,
} from '../../lib/spec/define-pipeline.ts';
import { SpecError } from '../../lib/spec/errors.ts';
import {
  afterPipeline,
  lambda,
  onEvent,
  type PipelineSpec,
  s3ObjectCreated,
  schedule,
} from '../../lib/spec/index.ts';
import type { TaskRun } from '../../lib/spec/types.ts';
import sales from '../fixtures/sales/pipeline.ts';
import { specIssues, untyped } from '../private/specs.ts';

const step = lambda('../fixtures/handlers/step.ts');
const here = { specFile: import.meta.url };

/** A valid spec to break one piece at a time. */
function spec(overrides: Partial<PipelineSpec> = {}): PipelineSpec {
  return {
    name: 'orders',
    tasks: {
      ingest: { run: step },
      validate: { run: step, after: ['ingest'], gate: true },
      transform: { run: step, after: ['validate'] },
      publish: { run: step, after: ['transform'] },
    },
    ...overrides,
  };
}

describe('definePipeline', () => {
  describe('dependencies', () => {
    it('fails when a task depends on an unknown task, and suggests the close one', () => {
      const tasks = { ...spec().tasks, publish: { run: step, after: ['transfrom'] } };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.publish.after[0]: unknown task 'transfrom' (did you mean 'transform'?)",
        ]
      `);
    });

    it('fails when a task depends on an unknown task with nothing close to it', () => {
      const tasks = { ...spec().tasks, publish: { run: step, after: ['warehouse'] } };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.publish.after[0]: unknown task 'warehouse'",
        ]
      `);
    });

    it('fails when the dependencies form a cycle, naming every task on it in order', () => {
      const tasks = {
        ingest: { run: step },
        validate: { run: step, after: ['ingest', 'publish'] },
        transform: { run: step, after: ['validate'] },
        publish: { run: step, after: ['transform'] },
      };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.transform.after: dependency cycle: transform -> publish -> validate -> transform; remove one of these dependencies",
        ]
      `);
    });

    it('fails when a task depends on itself', () => {
      const tasks = { ...spec().tasks, transform: { run: step, after: ['validate', 'transform'] } };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.transform.after[1]: task 'transform' depends on itself; remove 'transform' from its own after list",
        ]
      `);
    });

    it('fails when a task lists the same dependency twice', () => {
      const tasks = { ...spec().tasks, publish: { run: step, after: ['transform', 'ingest', 'transform'] } };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.publish.after[2]: 'transform' is listed twice; list each dependency once",
        ]
      `);
    });
  });

  describe('names', () => {
    it('fails when the pipeline name is not lowercase letters, digits and hyphens', () => {
      expect(specIssues(() => definePipeline(spec({ name: 'Daily_Orders' }), here))).toMatchInlineSnapshot(`
        [
          "name: 'Daily_Orders' is not a valid pipeline name; use lowercase letters, digits and hyphens, starting with a letter, at most 40 characters (like 'orders' or 'daily-sales')",
        ]
      `);
    });

    it('fails when the pipeline name is longer than 40 characters', () => {
      expect(
        specIssues(() => definePipeline(spec({ name: `orders-${'x'.repeat(34)}` }), here)),
      ).toMatchInlineSnapshot(`
          [
            "name: 'orders-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is not a valid pipeline name; use lowercase letters, digits and hyphens, starting with a letter, at most 40 characters (like 'orders' or 'daily-sales')",
          ]
        `);
    });

    it('fails when a task id is not a valid id', () => {
      const tasks = { ...spec().tasks, 'Load Warehouse': { run: step, after: ['publish'] } };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.Load Warehouse: 'Load Warehouse' is not a valid task id; use lowercase letters, digits, '-' and '_', starting with a letter, at most 64 characters",
        ]
      `);
    });

    it('fails when a task id is longer than 64 characters', () => {
      const tasks = { [`t${'a'.repeat(64)}`]: { run: step } };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.taaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 'taaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is not a valid task id; use lowercase letters, digits, '-' and '_', starting with a letter, at most 64 characters",
        ]
      `);
    });

    it('fails when there are no tasks', () => {
      expect(specIssues(() => definePipeline(spec({ tasks: {} }), here))).toMatchInlineSnapshot(`
        [
          "tasks: a pipeline needs at least one task",
        ]
      `);
    });
  });

  describe('retry groups', () => {
    it('fails when retry.from names a task that is not upstream', () => {
      const tasks = {
        ingest: { run: step },
        left: { run: step, after: ['ingest'] },
        right: { run: step, after: ['ingest'], retry: { from: 'left' } },
      };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.right.retry.from: 'left' is not upstream of 'right'; retry.from must name a task that 'right' depends on, directly or through others",
        ]
      `);
    });

    it('fails when retry.from names a downstream task', () => {
      const tasks = {
        ...spec().tasks,
        transform: { run: step, after: ['validate'], retry: { from: 'publish' } },
      };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.transform.retry.from: 'publish' is not upstream of 'transform'; retry.from must name a task that 'transform' depends on, directly or through others",
        ]
      `);
    });

    it('fails when retry.from names an unknown task, and suggests the close one', () => {
      const tasks = {
        ...spec().tasks,
        publish: { run: step, after: ['transform'], retry: { from: 'transfrom' } },
      };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.publish.retry.from: unknown task 'transfrom' (did you mean 'transform'?)",
        ]
      `);
    });

    it('fails when two retry groups overlap without nesting', () => {
      const tasks = {
        ingest: { run: step },
        validate: { run: step, after: ['ingest'] },
        transform: { run: step, after: ['validate'], retry: { from: 'ingest' } },
        publish: { run: step, after: ['transform'], retry: { from: 'validate' } },
      };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.publish.retry.from: its retry group overlaps the one of 'transform' at 'transform', 'validate'; retry groups must nest or stay apart",
        ]
      `);
    });

    it('accepts retry groups that nest', () => {
      const tasks = {
        ingest: { run: step },
        validate: { run: step, after: ['ingest'] },
        transform: { run: step, after: ['validate'], retry: { from: 'validate' } },
        publish: { run: step, after: ['transform'], retry: { from: 'ingest' } },
      };
      const pipeline = definePipeline(spec({ tasks }), here);
      expect(pipeline.tasks.map((t) => [t.id, t.retryFrom])).toEqual([
        ['ingest', undefined],
        ['validate', undefined],
        ['transform', 'validate'],
        ['publish', 'ingest'],
      ]);
    });
  });

  describe('task rules', () => {
    it('fails when a handler file does not exist', () => {
      const tasks = {
        ...spec().tasks,
        publish: { run: lambda('./handlers/publish.ts'), after: ['transform'] },
      };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.publish.run: handler file './handlers/publish.ts' not found (looked at <repo>/test/spec/handlers/publish.ts); paths are relative to the spec file",
        ]
      `);
    });

    it('fails when a gate is marked non-critical', () => {
      const tasks = {
        ...spec().tasks,
        validate: { run: step, after: ['ingest'], gate: true, critical: false },
      };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.validate.critical: a gate cannot be non-critical: its verdict decides whether the run goes on; remove critical: false or gate: true",
        ]
      `);
    });

    it("fails when a param name ends in '.$'", () => {
      const tasks = {
        ...spec().tasks,
        ingest: { run: step, params: { 'bucket.$': '$.run.trigger.bucket' } },
      };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.ingest.params.bucket.$: param names cannot end in '.$', which Step Functions reads as a path; rename it",
        ]
      `);
    });

    it('fails when retry.attempts is below 1', () => {
      const tasks = { ...spec().tasks, ingest: { run: step, retry: { attempts: 0 } } };
      expect(specIssues(() => definePipeline(spec({ tasks }), here))).toMatchInlineSnapshot(`
        [
          "tasks.ingest.retry.attempts: must be at least 1, received 0",
        ]
      `);
    });
  });

  describe('durations', () => {
    it('fails when a duration has no unit or an unknown one', () => {
      const bad = untyped({
        ...spec(),
        defaults: { retry: { interval: '2 seconds', maxDelay: '90' }, timeout: '15min' },
        timeout: 'two hours',
      });
      expect(specIssues(() => definePipeline(bad, here))).toMatchInlineSnapshot(`
        [
          "defaults.retry.interval: '2 seconds' is not a duration; write it as a number and a unit, like '500ms', '2s', '5m' or '1h'",
          "defaults.retry.maxDelay: '90' is not a duration; write it as a number and a unit, like '500ms', '2s', '5m' or '1h'",
          "defaults.timeout: '15min' is not a duration; write it as a number and a unit, like '500ms', '2s', '5m' or '1h'",
          "timeout: 'two hours' is not a duration; write it as a number and a unit, like '500ms', '2s', '5m' or '1h'",
        ]
      `);
    });
  });

  describe('fields', () => {
    it('fails when a field is unknown, and suggests the close one', () => {
      const bad = untyped({
        ...spec(),
        tasks: { ...spec().tasks, publish: { run: step, afterr: ['transform'] } },
        maxConcurentRuns: 3,
      });
      expect(specIssues(() => definePipeline(bad, here))).toMatchInlineSnapshot(`
        [
          "tasks.publish: unknown field 'afterr' (did you mean 'after'?)",
          "unknown field 'maxConcurentRuns' (did you mean 'maxConcurrentRuns'?)",
        ]
      `);
    });

    it('fails when a field has the wrong type', () => {
      const bad = untyped({
        ...spec(),
        maxConcurrentRuns: '5',
        tasks: { ingest: { run: step, gate: 'yes' } },
      });
      expect(specIssues(() => definePipeline(bad, here))).toMatchInlineSnapshot(`
        [
          "tasks.ingest.gate: expected true or false, received 'yes'",
          "maxConcurrentRuns: expected a number, received '5'",
        ]
      `);
    });

    it('fails when a task has no adapter', () => {
      const bad = untyped({ ...spec(), tasks: { ingest: { run: './handlers/ingest.ts' } } });
      expect(specIssues(() => definePipeline(bad, here))).toMatchInlineSnapshot(`
        [
          "tasks.ingest.run: expected a task adapter, like run: lambda('./handlers/ingest.ts'), received './handlers/ingest.ts'",
        ]
      `);
    });
  });

  describe('triggers', () => {
    it('fails when a schedule has a bad cron and a bad timezone', () => {
      const triggers = [schedule('cron(0 2 * * *)', { timezone: 'Berlin/Europe' })];
      expect(specIssues(() => definePipeline(spec({ triggers }), here))).toMatchInlineSnapshot(`
        [
          "triggers[0].expression: 'cron(0 2 * * *)' has 5 fields but needs 6: minutes hours day-of-month month day-of-week year, like cron(0 2 * * ? *)",
          "triggers[0].timezone: 'Berlin/Europe' is not an IANA time zone; write one like 'UTC' or 'Europe/Berlin'",
        ]
      `);
    });

    it('fails when a schedule has a bad rate', () => {
      const triggers = [schedule('rate(1 hours)')];
      expect(specIssues(() => definePipeline(spec({ triggers }), here))).toMatchInlineSnapshot(`
        [
          "triggers[0].expression: 'rate(1 hours)' takes the singular unit; write rate(1 hour)",
        ]
      `);
    });

    it('fails when an S3 trigger names an invalid bucket', () => {
      const triggers = [s3ObjectCreated({ bucket: 'Raw_Data', prefix: 'orders/' })];
      expect(specIssues(() => definePipeline(spec({ triggers }), here))).toMatchInlineSnapshot(`
        [
          "triggers[0].bucket: is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens), received 'Raw_Data'",
        ]
      `);
    });

    it('keeps afterPipeline and onEvent triggers as written', () => {
      const pattern = { source: ['my.exports'], detailType: ['Export Ready'], detail: { table: ['orders'] } };
      const pipeline = definePipeline(
        spec({ triggers: [afterPipeline('ingest'), afterPipeline(['eu', 'us']), onEvent(pattern)] }),
        here,
      );
      expect(pipeline.triggers).toEqual([
        { kind: 'afterPipeline', upstreams: ['ingest'] },
        { kind: 'afterPipeline', upstreams: ['eu', 'us'] },
        { kind: 'onEvent', pattern },
      ]);
    });

    it('fails when afterPipeline names no pipeline, an invalid name, or one twice', () => {
      const triggers = [afterPipeline([]), afterPipeline(['Daily_Sales', 'eu', 'eu'])];
      expect(specIssues(() => definePipeline(spec({ triggers }), here))).toMatchInlineSnapshot(`
        [
          "triggers[0].upstreams: names no pipeline; write afterPipeline('orders') or afterPipeline(['orders', 'sales'])",
          "triggers[1].upstreams[0]: 'Daily_Sales' is not a valid pipeline name; name the upstream pipeline as its spec does (lowercase letters, digits and hyphens, starting with a letter, at most 40 characters)",
          "triggers[1].upstreams[2]: 'eu' is listed twice; list each upstream pipeline once",
        ]
      `);
    });

    it('fails when a pipeline runs after itself, or names an upstream in two triggers', () => {
      const triggers = [afterPipeline(['orders', 'eu']), afterPipeline('eu')];
      expect(specIssues(() => definePipeline(spec({ triggers }), here))).toMatchInlineSnapshot(`
        [
          "triggers[0].upstreams[0]: a pipeline cannot run after itself; name another pipeline, or use schedule(...) to run 'orders' repeatedly",
          "triggers[1].upstreams[0]: 'eu' is already an upstream in triggers[0]; name each upstream pipeline in one afterPipeline trigger",
        ]
      `);
    });

    it("fails when an onEvent pattern matches stepwise's own Run Finished events, pointing at afterPipeline", () => {
      const triggers = [
        onEvent({ source: ['stepwise'], detailType: ['Run Finished'] }),
        onEvent({ detailType: ['Run Finished'] }),
      ];
      expect(specIssues(() => definePipeline(spec({ triggers }), here))).toMatchInlineSnapshot(`
        [
          "triggers[0].pattern.source[0]: 'stepwise' is the source of stepwise's own "Run Finished" events; to run after another pipeline, use afterPipeline('<pipeline>')",
          "triggers[1].pattern.detailType[0]: with no source, this matches stepwise's own "Run Finished" events; to run after another pipeline, use afterPipeline('<pipeline>'), or give the source of the events you mean",
        ]
      `);
    });

    it('fails when an onEvent pattern on Step Functions events names no state machine, so a run would start the next', () => {
      const loop = onEvent({ source: ['aws.states'], detail: { status: ['SUCCEEDED'] } });
      expect(specIssues(() => definePipeline(spec({ triggers: [loop] }), here))).toMatchInlineSnapshot(`
        [
          "triggers[0].pattern.source[0]: a pattern on Step Functions events must name its state machines in detail.stateMachineArn, or it matches this pipeline's own executions and each run starts the next; add detail: { stateMachineArn: ['<arn>'] }, or to run after another pipeline, use afterPipeline('<pipeline>')",
        ]
      `);
      const named = onEvent({
        source: ['aws.states'],
        detail: { stateMachineArn: ['arn:aws:states:eu-west-1:123456789012:stateMachine:legacy'] },
      });
      expect(definePipeline(spec({ triggers: [named] }), here).triggers).toHaveLength(1);
    });

    it('fails when an onEvent pattern uses a content filter EventBridge does not know, naming where', () => {
      const triggers = [
        onEvent({ source: ['acme.billing'], detail: { invoice: { id: [{ contains: 'INV-' }] } } } as never),
      ];
      expect(specIssues(() => definePipeline(spec({ triggers }), here))).toMatchInlineSnapshot(`
        [
          "triggers[0].pattern.detail.invoice.id[0]: unknown operator 'contains'; EventBridge event patterns support prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr and $or",
        ]
      `);
    });

    it('fails when an onEvent pattern is empty, has an empty list, or a detail field that is not a list', () => {
      const triggers = [
        onEvent({}),
        onEvent({ source: [], detail: { table: 'orders', export: { format: [] } } }),
      ];
      expect(specIssues(() => definePipeline(spec({ triggers }), here))).toMatchInlineSnapshot(`
        [
          "triggers[0].pattern: an empty pattern would match every event on the bus; give at least a source, like onEvent({ source: ['my.app'], detailType: ['Export Ready'] })",
          "triggers[1].pattern.source: an empty list matches no event; list a value or leave the field out",
          "triggers[1].pattern.detail.table: expected a list of values to match, like ['orders'], or an object of fields, received 'orders'",
          "triggers[1].pattern.detail.export.format: an empty list matches no event; list a value or leave the field out",
        ]
      `);
    });

    it('fails when an onEvent pattern uses a field name EventBridge spells differently here, or a bare value', () => {
      const bad = untyped({
        ...spec(),
        triggers: [{ kind: 'onEvent', pattern: { 'detail-type': ['Export Ready'], source: 'my.exports' } }],
      });
      expect(specIssues(() => definePipeline(bad, here))).toMatchInlineSnapshot(`
        [
          "triggers[0].pattern.source: expected a list, received 'my.exports'",
          "triggers[0].pattern: unknown field 'detail-type' (did you mean 'detailType'?)",
        ]
      `);
    });

    it('fails when an onEvent pattern is longer than EventBridge takes', () => {
      const tables = Array.from({ length: 200 }, (_, i) => `table-${i}`);
      const triggers = [onEvent({ source: ['my.exports'], detail: { table: tables } })];
      expect(specIssues(() => definePipeline(spec({ triggers }), here))).toMatchInlineSnapshot(`
        [
          "triggers[0].pattern: the pattern is 2336 characters, more than the 2048 EventBridge takes by default; match fewer values, or raise the "Event pattern size" quota",
        ]
      `);
    });
  });

  describe('sla and retention', () => {
    it('resolves sla to milliseconds and retention to whole days, rounding up', () => {
      const pipeline = definePipeline(spec({ sla: '30m', retention: '36h' }), here);
      expect([pipeline.slaMs, pipeline.retentionDays]).toEqual([1_800_000, 2]);
      expect(definePipeline(spec({ retention: '90d' }), here).retentionDays).toBe(90);
    });

    it('fails when the sla is not shorter than the timeout, its own or the default', () => {
      expect(specIssues(() => definePipeline(spec({ sla: '3h' }), here))).toMatchInlineSnapshot(`
        [
          "sla: '3h' is not shorter than the pipeline timeout ('2h' by default); a run is stopped at its timeout, so this alarm could never fire; shorten sla or lengthen timeout",
        ]
      `);
      expect(
        specIssues(() => definePipeline(spec({ sla: '30m', timeout: '30m' }), here)),
      ).toMatchInlineSnapshot(`
        [
          "sla: '30m' is not shorter than the pipeline timeout ('30m'); a run is stopped at its timeout, so this alarm could never fire; shorten sla or lengthen timeout",
        ]
      `);
    });

    it('fails when the sla is zero', () => {
      expect(specIssues(() => definePipeline(spec({ sla: '0s' }), here))).toMatchInlineSnapshot(`
        [
          "sla: must be longer than 0; write one like '30m'",
        ]
      `);
    });

    it('fails when retention is shorter than a day, or not a duration', () => {
      expect(specIssues(() => definePipeline(spec({ retention: '12h' }), here))).toMatchInlineSnapshot(`
        [
          "retention: '12h' is shorter than a day; the ledger keeps runs for whole days, so write '1d' or more",
        ]
      `);
      expect(
        specIssues(() => definePipeline(untyped({ ...spec(), retention: '1 year' }), here)),
      ).toMatchInlineSnapshot(`
        [
          "retention: '1 year' is not a duration; write it as a number and a unit, like '500ms', '2s', '5m' or '1h'",
        ]
      `);
    });
  });

  describe('several problems', () => {
    it('fails with every problem at once, each with its path', () => {
      const bad = untyped({
        name: 'Orders',
        triggers: [schedule('cron(0 2 * * ? *)', { timezone: 'Mars/Olympus' })],
        defaults: { timeout: '15 minutes' },
        tasks: {
          ingest: { run: step, after: ['ingest'] },
          validate: { run: step, after: ['ingset'], gate: true, critical: false },
          publish: { run: step, after: ['validate'], retry: { attempts: 2, from: 'transform' } },
          monitor: { run: lambda('./handlers/monitor.ts'), after: ['publish'] },
        },
        maxConcurrentRuns: 0,
      });
      expect(specIssues(() => definePipeline(bad, here))).toMatchInlineSnapshot(`
        [
          "triggers[0].timezone: 'Mars/Olympus' is not an IANA time zone; write one like 'UTC' or 'Europe/Berlin'",
          "defaults.timeout: '15 minutes' is not a duration; write it as a number and a unit, like '500ms', '2s', '5m' or '1h'",
          "maxConcurrentRuns: must be at least 1, received 0",
          "name: 'Orders' is not a valid pipeline name; use lowercase letters, digits and hyphens, starting with a letter, at most 40 characters (like 'orders' or 'daily-sales')",
          "tasks.ingest.after[0]: task 'ingest' depends on itself; remove 'ingest' from its own after list",
          "tasks.validate.after[0]: unknown task 'ingset' (did you mean 'ingest'?)",
          "tasks.publish.retry.from: unknown task 'transform'",
          "tasks.monitor.run: handler file './handlers/monitor.ts' not found (looked at <repo>/test/spec/handlers/monitor.ts); paths are relative to the spec file",
          "tasks.validate.critical: a gate cannot be non-critical: its verdict decides whether the run goes on; remove critical: false or gate: true",
        ]
      `);
    });

    it('throws a SpecError whose message lists every problem under the pipeline name', () => {
      const tasks = {
        ingest: { run: step, after: ['ingest'] },
        publish: { run: step, after: ['transfrom'] },
      };
      expect(() => definePipeline(spec({ tasks }), here)).toThrowErrorMatchingInlineSnapshot(`
        [SpecError: pipeline 'orders' has 2 problems:
          - tasks.ingest.after[0]: task 'ingest' depends on itself; remove 'ingest' from its own after list
          - tasks.publish.after[0]: unknown task 'transfrom']
      `);
    });

    it('throws a SpecError that keeps the issues as data', () => {
      const tasks = { ingest: { run: step, after: ['nothing'] } };
      let caught: unknown;
      try {
        definePipeline(spec({ tasks }), here);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SpecError);
      expect((caught as SpecError).pipeline).toBe('orders');
      expect((caught as SpecError).issues).toMatchInlineSnapshot(`
        [
          {
            "message": "unknown task 'nothing'",
            "path": "tasks.ingest.after[0]",
          },
        ]
      `);
    });
  });

  describe('defaults', () => {
    it('settles every default a spec leaves out', () => {
      const pipeline = definePipeline({ name: 'minimal', tasks: { only: { run: step } } }, here);
      expect(pipeline).toEqual({
        name: 'minimal',
        description: undefined,
        specFile: fileURLToPath(import.meta.url),
        triggers: [],
        tasks: [
          {
            id: 'only',
            run: {
              kind: 'lambda',
              entry: fileURLToPath(new URL('../fixtures/handlers/step.ts', import.meta.url)),
            },
            after: [],
            gate: false,
            critical: true,
            retry: { attempts: 3, intervalMs: 2_000, backoff: 2, maxDelayMs: 60_000, jitter: 'full' },
            retryFrom: undefined,
            timeoutMs: 15 * 60_000,
            params: {},
          },
        ],
        quarantine: { prefix: 'quarantine/' },
        maxConcurrentRuns: 10,
        timeoutMs: 2 * 3_600_000,
        slaMs: undefined,
        retentionDays: 365,
      });
      expect([
        DEFAULT_RETRY,
        DEFAULT_TASK_TIMEOUT_MS,
        DEFAULT_PIPELINE_TIMEOUT_MS,
        DEFAULT_MAX_CONCURRENT_RUNS,
      ]).toMatchInlineSnapshot(`
          [
            {
              "attempts": 3,
              "backoff": 2,
              "intervalMs": 2000,
              "jitter": "full",
              "maxDelayMs": 60000,
            },
            900000,
            7200000,
            10,
          ]
        `);
    });

    it('lets pipeline defaults override the built-in ones and tasks override those, field by field', () => {
      const pipeline = definePipeline(
        {
          name: 'layered',
          defaults: { retry: { attempts: 5, interval: '3s', jitter: 'none' }, timeout: '5m' },
          tasks: {
            inherits: { run: step },
            overrides: {
              run: step,
              after: ['inherits'],
              retry: { attempts: 1, backoff: 3, maxDelay: '1h', from: 'inherits' },
              timeout: '90s',
            },
          },
          timeout: '1d',
          maxConcurrentRuns: 2,
        },
        here,
      );
      expect(
        pipeline.tasks.map(({ id, retry, retryFrom, timeoutMs }) => ({ id, retry, retryFrom, timeoutMs })),
      ).toEqual([
        {
          id: 'inherits',
          retry: { attempts: 5, intervalMs: 3_000, backoff: 2, maxDelayMs: 60_000, jitter: 'none' },
          retryFrom: undefined,
          timeoutMs: 300_000,
        },
        {
          id: 'overrides',
          retry: { attempts: 1, intervalMs: 3_000, backoff: 3, maxDelayMs: 3_600_000, jitter: 'none' },
          retryFrom: 'inherits',
          timeoutMs: 90_000,
        },
      ]);
      expect([pipeline.timeoutMs, pipeline.maxConcurrentRuns]).toEqual([86_400_000, 2]);
    });

    it('keeps triggers, quarantine and params as written', () => {
      const pipeline = definePipeline(
        spec({
          triggers: [
            s3ObjectCreated({ bucket: 'raw', prefix: 'orders/', suffix: '.csv' }),
            schedule('cron(0 2 * * ? *)', { timezone: 'Europe/Berlin' }),
            schedule('rate(5 minutes)'),
          ],
          quarantine: { prefix: 'bad/', bucket: 'quarantine-bucket' },
          tasks: { ingest: { run: step, params: { table: 'orders', limit: 10 } } },
        }),
        here,
      );
      expect(pipeline.triggers).toEqual([
        { kind: 's3ObjectCreated', bucket: 'raw', prefix: 'orders/', suffix: '.csv' },
        { kind: 'schedule', expression: 'cron(0 2 * * ? *)', timezone: 'Europe/Berlin' },
        { kind: 'schedule', expression: 'rate(5 minutes)', timezone: 'UTC' },
      ]);
      expect(pipeline.quarantine).toEqual({ prefix: 'bad/', bucket: 'quarantine-bucket' });
      expect(pipeline.tasks[0]?.params).toEqual({ table: 'orders', limit: 10 });
    });
  });

  describe('handler paths', () => {
    it('resolves handler entries against the spec file given as a file URL', () => {
      const pipeline = definePipeline(spec(), here);
      expect(entryOf(pipeline.tasks[0]?.run)).toBe(
        fileURLToPath(new URL('../fixtures/handlers/step.ts', import.meta.url)),
      );
    });

    it('resolves handler entries against the spec module that calls definePipeline', () => {
      const handlers = new URL('../fixtures/sales/handlers/', import.meta.url);
      expect(sales.specFile).toBe(fileURLToPath(new URL('../fixtures/sales/pipeline.ts', import.meta.url)));
      expect(sales.tasks.map((t) => [t.id, entryOf(t.run)])).toEqual([
        ['extract-eu', fileURLToPath(new URL('extract.ts', handlers))],
        ['extract-us', fileURLToPath(new URL('extract.ts', handlers))],
        ['load', fileURLToPath(new URL('load.ts', handlers))],
      ]);
    });

    it('keeps lambda options with the resolved entry', () => {
      const run = lambda('../fixtures/handlers/step.ts', { env: { MODE: 'strict' }, memoryMb: 1024 });
      const pipeline = definePipeline(spec({ tasks: { ingest: { run } } }), here);
      expect(pipeline.tasks[0]?.run).toEqual({
        kind: 'lambda',
        entry: fileURLToPath(new URL('../fixtures/handlers/step.ts', import.meta.url)),
        env: { MODE: 'strict' },
        memoryMb: 1024,
      });
    });
  });
});

/** A Lambda task's handler entry. */
function entryOf(run: TaskRun | undefined): string | undefined {
  return run?.kind === 'lambda' ? run.entry : undefined;
}
