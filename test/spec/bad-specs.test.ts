// A catalogue of malformed specs, each refused by `stepwise validate` with exit 1, every problem at
// once, each as "path: the problem, the value, the fix", and no stack trace. Each entry is a spec
// module as a user would write it; the table reads as the list of what validate refuses.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { STACK_LINE, stepwise } from '../local/stepwise-cli.ts';

const LIBRARY = fileURLToPath(new URL('../../lib/index.ts', import.meta.url));

const scratch = mkdtempSync(join(tmpdir(), 'stepwise-bad-specs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Handler files the specs point at: a good one, one with no `handler` export, one that does not
// parse, and one whose import would throw (validate must not run it), plus a directory.
writeFileSync(join(scratch, 'handler.ts'), 'export const handler = async () => ({ ok: true });\n');
writeFileSync(join(scratch, 'no-export.ts'), 'export default async function run() {\n  return 1;\n}\n');
writeFileSync(join(scratch, 'broken.ts'), 'export const handler = async ( => 1;\n');
writeFileSync(
  join(scratch, 'side-effect.ts'),
  "throw new Error('this module ran at validate');\nexport const run = () => 1;\n",
);
mkdirSync(join(scratch, 'handlers'));

/**
 * One malformed spec: the object given to definePipeline, as source (`h` is lambda('./handler.ts')),
 * and the problems validate prints for it, in order.
 */
interface BadSpec {
  readonly spec: string;
  readonly problems: readonly string[];
}

const BAD_SPECS: Record<string, BadSpec> = {
  // wrong types
  'a spec that is null': {
    spec: 'null',
    problems: [
      "definePipeline takes the pipeline as an object, like definePipeline({ name: 'orders', tasks: { ingest: { run: lambda('./handlers/ingest.ts') } } }); received null",
    ],
  },
  'a name that is a number': {
    spec: '{ name: 42, tasks: { a: { run: h } } }',
    problems: ['name: expected a string, received 42'],
  },
  'tasks given as a list': {
    spec: "{ name: 'bad', tasks: [{ run: h }] }",
    problems: [
      "tasks: expected an object of tasks by id, like tasks: { ingest: { run: lambda('./handlers/ingest.ts') } }, received an array",
    ],
  },
  'after given as a string': {
    spec: "{ name: 'bad', tasks: { a: { run: h }, b: { run: h, after: 'a' } } }",
    problems: ["tasks.b.after: expected a list of task ids, like after: ['ingest'], received 'a'"],
  },
  'gate given as a string': {
    spec: "{ name: 'bad', tasks: { a: { run: h, gate: 'yes' } } }",
    problems: ["tasks.a.gate: expected true or false, received 'yes'"],
  },
  'a run that is a bare path': {
    spec: "{ name: 'bad', tasks: { a: { run: './handler.ts' } } }",
    problems: [
      "tasks.a.run: expected a task adapter, like run: lambda('./handlers/ingest.ts'), received './handler.ts'",
    ],
  },
  'a fractional attempts': {
    spec: "{ name: 'bad', tasks: { a: { run: h, retry: { attempts: 1.5 } } } }",
    problems: ['tasks.a.retry.attempts: expected a whole number, received 1.5'],
  },
  'maxConcurrentRuns of 0': {
    spec: "{ name: 'bad', maxConcurrentRuns: 0, tasks: { a: { run: h } } }",
    problems: ['maxConcurrentRuns: must be at least 1, received 0'],
  },
  'memory below Lambda’s minimum': {
    spec: "{ name: 'bad', tasks: { a: { run: lambda('./handler.ts', { memoryMb: 64 }) } } }",
    problems: ['tasks.a.run.memoryMb: must be at least 128, received 64'],
  },

  // unknown fields, each suggested from its own level
  'a misspelled pipeline field': {
    spec: "{ name: 'bad', maxConcurentRuns: 2, tasks: { a: { run: h } } }",
    problems: ["unknown field 'maxConcurentRuns' (did you mean 'maxConcurrentRuns'?)"],
  },
  'retries for retry': {
    spec: "{ name: 'bad', tasks: { a: { run: h, retries: { attempts: 2 } } } }",
    problems: ["tasks.a: unknown field 'retries' (did you mean 'retry'?)"],
  },
  'a task field nothing is close to': {
    spec: "{ name: 'bad', tasks: { a: { run: h, dependsOn: [] } } }",
    problems: [
      "tasks.a: unknown field 'dependsOn'; the fields here are run, after, gate, retry, critical, timeout, params",
    ],
  },
  'attempt for attempts': {
    spec: "{ name: 'bad', tasks: { a: { run: h, retry: { attempt: 2 } } } }",
    problems: ["tasks.a.retry: unknown field 'attempt' (did you mean 'attempts'?)"],
  },
  'a misspelled trigger field': {
    spec: "{ name: 'bad', triggers: [{ ...s3ObjectCreated({ bucket: 'raw' }), sufix: '.csv' }], tasks: { a: { run: h } } }",
    problems: ["triggers[0]: unknown field 'sufix' (did you mean 'suffix'?)"],
  },
  'a misspelled quarantine field': {
    spec: "{ name: 'bad', quarantine: { prefx: 'bad/' }, tasks: { a: { run: h } } }",
    problems: [
      'quarantine.prefix: is required (expected a string)',
      "quarantine: unknown field 'prefx' (did you mean 'prefix'?)",
    ],
  },
  'a misspelled defaults field': {
    spec: "{ name: 'bad', defaults: { timout: '5m' }, tasks: { a: { run: h } } }",
    problems: ["defaults: unknown field 'timout' (did you mean 'timeout'?)"],
  },

  // names
  'a pipeline name with capitals and underscores': {
    spec: "{ name: 'Orders_Daily', tasks: { a: { run: h } } }",
    problems: [
      "name: 'Orders_Daily' is not a valid pipeline name; use lowercase letters, digits and hyphens, starting with a letter, at most 40 characters (like 'orders' or 'daily-sales')",
    ],
  },
  'a pipeline name over 40 characters': {
    spec: "{ name: 'a-pipeline-name-that-goes-on-for-far-too-long', tasks: { a: { run: h } } }",
    problems: [
      "name: 'a-pipeline-name-that-goes-on-for-far-too-long' is not a valid pipeline name; use lowercase letters, digits and hyphens, starting with a letter, at most 40 characters (like 'orders' or 'daily-sales')",
    ],
  },
  'a task id with a space': {
    spec: "{ name: 'bad', tasks: { 'load data': { run: h } } }",
    problems: [
      "tasks.load data: 'load data' is not a valid task id; use lowercase letters, digits, '-' and '_', starting with a letter, at most 64 characters",
    ],
  },
  'a task id Object.prototype already has': {
    spec: "{ name: 'bad', tasks: { constructor: { run: h } } }",
    problems: [
      "tasks.constructor: 'constructor' is a name every JavaScript object already has, so the compiled definition would hold a second 'constructor' field; choose another task id, like 'constructor-task'",
    ],
  },
  'no tasks': { spec: "{ name: 'bad', tasks: {} }", problems: ['tasks: a pipeline needs at least one task'] },

  // durations and the limits of Lambda and Step Functions
  'a zero task timeout': {
    spec: "{ name: 'bad', tasks: { a: { run: h, timeout: '0s' } } }",
    problems: [
      "tasks.a.timeout: '0s' is shorter than a second; Step Functions counts a task's timeout in whole seconds, at least 1, so write '1s' or more",
    ],
  },
  'a fractional task timeout': {
    spec: "{ name: 'bad', tasks: { a: { run: h, timeout: '1.5s' } } }",
    problems: [
      "tasks.a.timeout: '1.5s' is not a whole number of seconds; Step Functions counts a task's timeout in whole seconds, so write '2s'",
    ],
  },
  'a task timeout over Lambda’s 15 minutes': {
    spec: "{ name: 'bad', tasks: { a: { run: h, timeout: '1h' } } }",
    problems: [
      "tasks.a.timeout: '1h' is longer than Lambda's 15-minute limit on one invocation, so the function would be stopped first; write '15m' or less, and move longer work to Glue, ECS or Batch",
    ],
  },
  'a default task timeout over 15 minutes': {
    spec: "{ name: 'bad', defaults: { timeout: '20m' }, tasks: { a: { run: h } } }",
    problems: [
      "defaults.timeout: '20m' is longer than Lambda's 15-minute limit on one invocation, so the function would be stopped first; write '15m' or less, and move longer work to Glue, ECS or Batch",
    ],
  },
  'a pipeline timeout over a year': {
    spec: "{ name: 'bad', timeout: '400d', tasks: { a: { run: h } } }",
    problems: [
      "timeout: '400d' is longer than a Step Functions Standard execution may run (one year); write '365d' or less",
    ],
  },
  'a retry interval past IntervalSeconds': {
    spec: "{ name: 'bad', tasks: { a: { run: h, retry: { interval: '99999999999d' } } } }",
    problems: [
      "tasks.a.retry.interval: '99999999999d' is longer than Step Functions allows for a retrier's IntervalSeconds, at most 99999999 seconds (about 1157 days); write a shorter one, like '1h'",
    ],
  },
  'a maxDelay past MaxDelaySeconds': {
    spec: "{ name: 'bad', defaults: { retry: { maxDelay: '400d' } }, tasks: { a: { run: h } } }",
    problems: [
      "defaults.retry.maxDelay: '400d' is longer than Step Functions allows for a retrier's MaxDelaySeconds, at most 366 days; write '366d' or less",
    ],
  },
  'a maxDelay shorter than the interval': {
    spec: "{ name: 'bad', tasks: { a: { run: h, retry: { interval: '1m', maxDelay: '10s' } } } }",
    problems: [
      "tasks.a.retry.maxDelay: '10s' is shorter than interval ('1m'); maxDelay caps every wait, so each retry would wait only '10s'; make maxDelay at least '1m', or shorten interval",
    ],
  },
  'an interval longer than the default maxDelay': {
    spec: "{ name: 'bad', defaults: { retry: { interval: '5m' } }, tasks: { a: { run: h } } }",
    problems: [
      "defaults.retry.interval: '5m' is longer than maxDelay ('1m' by default), which caps every wait, so each retry would wait only '1m'; set maxDelay to at least '5m' beside it, or shorten interval",
    ],
  },
  'a duration written in words': {
    spec: "{ name: 'bad', timeout: '10 minutes', tasks: { a: { run: h } } }",
    problems: [
      "timeout: '10 minutes' is not a duration; write it as a number and a unit, like '500ms', '2s', '5m' or '1h'",
    ],
  },
  'an sla not shorter than the timeout': {
    spec: "{ name: 'bad', sla: '3h', tasks: { a: { run: h } } }",
    problems: [
      "sla: '3h' is not shorter than the pipeline timeout ('2h' by default); a run is stopped at its timeout, so this alarm could never fire; shorten sla or lengthen timeout",
    ],
  },
  'a retention under a day': {
    spec: "{ name: 'bad', retention: '12h', tasks: { a: { run: h } } }",
    problems: [
      "retention: '12h' is shorter than a day; the ledger keeps runs for whole days, so write '1d' or more",
    ],
  },

  // schedules and time zones
  'a cron step of zero': {
    spec: "{ name: 'bad', triggers: [schedule('cron(0/0 * * * ? *)')], tasks: { a: { run: h } } }",
    problems: [
      "triggers[0].expression: 'cron(0/0 * * * ? *)': minutes field '0/0': step '/0' never advances; use /1 or more, like 0/15",
    ],
  },
  'a cron with five fields': {
    spec: "{ name: 'bad', triggers: [schedule('cron(0 2 * * *)')], tasks: { a: { run: h } } }",
    problems: [
      "triggers[0].expression: 'cron(0 2 * * *)' has 5 fields but needs 6: minutes hours day-of-month month day-of-week year, like cron(0 2 * * ? *)",
    ],
  },
  'a cron with no ? day': {
    spec: "{ name: 'bad', triggers: [schedule('cron(0 2 * * * *)')], tasks: { a: { run: h } } }",
    problems: [
      "triggers[0].expression: 'cron(0 2 * * * *)': exactly one of day-of-month and day-of-week must be '?', like cron(0 2 * * ? *)",
    ],
  },
  'a rate with a plural unit for 1': {
    spec: "{ name: 'bad', triggers: [schedule('rate(1 hours)')], tasks: { a: { run: h } } }",
    problems: ["triggers[0].expression: 'rate(1 hours)' takes the singular unit; write rate(1 hour)"],
  },
  'a rate of zero': {
    spec: "{ name: 'bad', triggers: [schedule('rate(0 minutes)')], tasks: { a: { run: h } } }",
    problems: ["triggers[0].expression: 'rate(0 minutes)' must be at least 1; write rate(1 minute) or more"],
  },
  'an at() with month 13': {
    spec: "{ name: 'bad', triggers: [schedule('at(2026-13-01T00:00:00)')], tasks: { a: { run: h } } }",
    problems: [
      "triggers[0].expression: 'at(2026-13-01T00:00:00)' is not a valid one-time schedule; write at(yyyy-mm-ddThh:mm:ss)",
    ],
  },
  'a schedule in words': {
    spec: "{ name: 'bad', triggers: [schedule('every day at 2')], tasks: { a: { run: h } } }",
    problems: [
      "triggers[0].expression: 'every day at 2' is not a schedule expression; write cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)",
    ],
  },
  'a misspelled time zone': {
    spec: "{ name: 'bad', triggers: [schedule('cron(0 2 * * ? *)', { timezone: 'Europe/Berlinn' })], tasks: { a: { run: h } } }",
    problems: [
      "triggers[0].timezone: 'Europe/Berlinn' is not an IANA time zone (did you mean 'Europe/Berlin'?); write one like 'UTC' or 'Europe/Berlin'",
    ],
  },

  // the task graph
  'a dependency cycle': {
    spec: "{ name: 'bad', tasks: { a: { run: h, after: ['c'] }, b: { run: h, after: ['a'] }, c: { run: h, after: ['b'] } } }",
    problems: ['tasks.b.after: dependency cycle: b -> c -> a -> b; remove one of these dependencies'],
  },
  'a misspelled dependency': {
    spec: "{ name: 'bad', tasks: { transform: { run: h }, publish: { run: h, after: ['transfrom'] } } }",
    problems: ["tasks.publish.after[0]: unknown task 'transfrom' (did you mean 'transform'?)"],
  },
  'a task after itself': {
    spec: "{ name: 'bad', tasks: { a: { run: h, after: ['a'] } } }",
    problems: ["tasks.a.after[0]: task 'a' depends on itself; remove 'a' from its own after list"],
  },
  'a dependency listed twice': {
    spec: "{ name: 'bad', tasks: { a: { run: h }, b: { run: h, after: ['a', 'a'] } } }",
    problems: ["tasks.b.after[1]: 'a' is listed twice; list each dependency once"],
  },
  'retry.from an unknown task': {
    spec: "{ name: 'bad', tasks: { load: { run: h }, publish: { run: h, after: ['load'], retry: { from: 'lod' } } } }",
    problems: ["tasks.publish.retry.from: unknown task 'lod' (did you mean 'load'?)"],
  },
  'retry.from a task that is not upstream': {
    spec: "{ name: 'bad', tasks: { a: { run: h }, b: { run: h }, c: { run: h, after: ['b'], retry: { from: 'a' } } } }",
    problems: [
      "tasks.c.retry.from: 'a' is not upstream of 'c'; retry.from must name a task that 'c' depends on, directly or through others",
    ],
  },
  'retry groups that overlap': {
    spec: "{ name: 'bad', tasks: { a: { run: h }, b: { run: h, after: ['a'] }, c: { run: h, after: ['b'], retry: { from: 'a' } }, d: { run: h, after: ['c'], retry: { from: 'b' } } } }",
    problems: [
      "tasks.d.retry.from: its retry group overlaps the one of 'c' at 'c', 'b'; retry groups must nest or stay apart",
    ],
  },
  'a gate that is not critical': {
    spec: "{ name: 'bad', tasks: { a: { run: h, gate: true, critical: false } } }",
    problems: [
      'tasks.a.critical: a gate cannot be non-critical: its verdict decides whether the run goes on; remove critical: false or gate: true',
    ],
  },

  // triggers and quarantine
  'an S3 trigger on an invalid bucket name': {
    spec: "{ name: 'bad', triggers: [s3ObjectCreated({ bucket: 'Raw_Data' })], tasks: { a: { run: h } } }",
    problems: [
      "triggers[0].bucket: is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens), received 'Raw_Data'",
    ],
  },
  'a pipeline after itself': {
    spec: "{ name: 'bad', triggers: [afterPipeline('bad')], tasks: { a: { run: h } } }",
    problems: [
      "triggers[0].upstreams[0]: a pipeline cannot run after itself; name another pipeline, or use schedule(...) to run 'bad' repeatedly",
    ],
  },
  'afterPipeline of nothing': {
    spec: "{ name: 'bad', triggers: [afterPipeline([])], tasks: { a: { run: h } } }",
    problems: [
      "triggers[0].upstreams: names no pipeline; write afterPipeline('orders') or afterPipeline(['orders', 'sales'])",
    ],
  },
  'an empty event pattern': {
    spec: "{ name: 'bad', triggers: [onEvent({})], tasks: { a: { run: h } } }",
    problems: [
      "triggers[0].pattern: an empty pattern would match every event on the bus; give at least a source, like onEvent({ source: ['my.app'], detailType: ['Export Ready'] })",
    ],
  },
  'a trigger of an unknown kind': {
    spec: "{ name: 'bad', triggers: [{ kind: 'cron', expression: 'cron(0 2 * * ? *)' }], tasks: { a: { run: h } } }",
    problems: [
      "triggers[0].kind: expected a trigger such as schedule('cron(0 2 * * ? *)'), s3ObjectCreated({ bucket, prefix }), afterPipeline('orders') or onEvent({ source: ['my.app'] }), received 'cron'",
    ],
  },
  'a quarantine its own trigger watches': {
    spec: "{ name: 'bad', triggers: [s3ObjectCreated({ bucket: 'landing', suffix: '.csv' })], tasks: { a: { run: h } } }",
    problems: [
      `quarantine.prefix: objects quarantined to 'landing' would start this pipeline again: its trigger triggers[0] (s3ObjectCreated '*.csv') watches the quarantine's keys, and S3 sends "Object Created" for the quarantine's copy; give the trigger a prefix the quarantine's keys do not start with (such as prefix: 'incoming/'), or set quarantine.bucket to a bucket no trigger watches`,
    ],
  },
  'an empty quarantine prefix': {
    spec: "{ name: 'bad', quarantine: { prefix: '' }, tasks: { a: { run: h } } }",
    problems: ["quarantine.prefix: is empty; give the key prefix bad objects move under, like 'quarantine/'"],
  },
  'a quarantine bucket with an invalid name': {
    spec: "{ name: 'bad', quarantine: { prefix: 'bad/', bucket: 'Quarantine' }, tasks: { a: { run: h } } }",
    problems: [
      "quarantine.bucket: is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens), received 'Quarantine'",
    ],
  },

  // handlers and params
  'a handler file that does not exist': {
    spec: "{ name: 'bad', tasks: { a: { run: lambda('./missing.ts') } } }",
    problems: [
      "tasks.a.run: handler file './missing.ts' not found (looked at <scratch>/missing.ts); paths are relative to the spec file",
    ],
  },
  'a handler path that is a directory': {
    spec: "{ name: 'bad', tasks: { a: { run: lambda('./handlers') } } }",
    problems: [
      "tasks.a.run: handler path './handlers' is a directory (<scratch>/handlers); name the handler file in it, like './handlers/ingest.ts'",
    ],
  },
  'a handler file with no handler export': {
    spec: "{ name: 'bad', tasks: { a: { run: lambda('./no-export.ts') } } }",
    problems: [
      "tasks.a.run: handler file './no-export.ts' exports 'default' but Lambda calls its 'handler' export; write export const handler = defineTask(async (ctx) => ...)",
    ],
  },
  'a handler file that does not parse': {
    spec: "{ name: 'bad', tasks: { a: { run: lambda('./broken.ts') } } }",
    problems: [
      'tasks.a.run: handler file \'./broken.ts\' cannot be bundled: Unexpected "=>" (line 1, column 32); fix the file so esbuild can build it',
    ],
  },
  'a handler module that would throw if run': {
    spec: "{ name: 'bad', tasks: { a: { run: lambda('./side-effect.ts') } } }",
    problems: [
      "tasks.a.run: handler file './side-effect.ts' exports 'run' but Lambda calls its 'handler' export; write export const handler = defineTask(async (ctx) => ...)",
    ],
  },
  'a param key ending in .$ below the top level': {
    spec: "{ name: 'bad', tasks: { a: { run: h, params: { source: { 'bucket.$': '$.trigger.bucket' } } } } }",
    problems: [
      "tasks.a.params.source.bucket.$: param names cannot end in '.$', which Step Functions reads as a path; rename it",
    ],
  },

  // several at once
  'five problems in one spec': {
    spec: "{ name: 'Bad', tasks: { a: { run: h, timeout: '0s', retries: 3 }, b: { run: h, after: ['c'] } }, timeout: '2 hours' }",
    problems: [
      "tasks.a: unknown field 'retries' (did you mean 'retry'?)",
      "timeout: '2 hours' is not a duration; write it as a number and a unit, like '500ms', '2s', '5m' or '1h'",
      "name: 'Bad' is not a valid pipeline name; use lowercase letters, digits and hyphens, starting with a letter, at most 40 characters (like 'orders' or 'daily-sales')",
      "tasks.b.after[0]: unknown task 'c'",
      "tasks.a.timeout: '0s' is shorter than a second; Step Functions counts a task's timeout in whole seconds, at least 1, so write '1s' or more",
    ],
  },
};

let written = 0;
/** Writes the spec module into the scratch dir and returns its path. */
function specModule(spec: string): string {
  const file = join(scratch, `spec-${++written}.ts`);
  writeFileSync(
    file,
    `import { afterPipeline, definePipeline, lambda, onEvent, s3ObjectCreated, schedule } from ${JSON.stringify(LIBRARY)};\n` +
      `void [afterPipeline, lambda, onEvent, s3ObjectCreated, schedule];\n` +
      "const h = lambda('./handler.ts');\n" +
      'void h;\n' +
      `export default definePipeline(${spec} as never);\n`,
  );
  return file;
}

describe('stepwise validate, given a malformed spec', () => {
  it.each(Object.entries(BAD_SPECS))('fails on %s', async (_, bad) => {
    const result = await stepwise('validate', specModule(bad.spec));
    const problems = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('  - '))
      .map((line) => line.slice(4).replaceAll(scratch, '<scratch>'));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(problems).toEqual(bad.problems);
    expect(result.stderr).not.toMatch(STACK_LINE);
  });
});
