// Rules and schedules read from a real synthesized template route events locally as EventBridge would:
// the pattern CDK renders, the target ARN as a local Lambda ARN, and each kind of target input.
import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import { Template as CdkTemplate } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EventBridgeEvent,
  InputTransformError,
  type LocalRule,
  type LocalScheduledRule,
  readRules,
  routeEvent,
  scheduledRuleEvent,
} from '../../lib/local/event-rules.ts';
import { type LocalSchedule, readSchedules } from '../../lib/local/schedules.ts';
import { functionArn, resolver, type Template } from '../../lib/local/template.ts';
import { removeOutdir, testApp } from '../private/synth.ts';

function s3Event(bucket: string, key: string): EventBridgeEvent {
  return {
    version: '0',
    id: 'f0e1d2c3-0000-4000-8000-000000000001',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time: '2026-11-01T02:00:00Z',
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: { key, size: 5, etag: 'abc' },
      reason: 'PutObject',
    },
  };
}

function runFinished(detail: Record<string, unknown>): EventBridgeEvent {
  return {
    version: '0',
    id: 'f0e1d2c3-0000-4000-8000-000000000002',
    'detail-type': 'Run Finished',
    source: 'stepwise',
    account: '000000000000',
    time: '2026-11-01T02:05:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

describe('a synthesized stack', () => {
  let outdir: string;
  let template: Template;
  let ids: Record<
    'dispatcher' | 's3' | 'disabled' | 'nightly' | 'finished' | 'bus' | 'schedule' | 'paused',
    string
  >;
  let rules: LocalRule[];
  let scheduled: LocalScheduledRule[];
  let schedules: LocalSchedule[];

  beforeAll(() => {
    // Only the template is read here; test/constructs/cfn-validate.test.ts runs the (slow) validator.
    const created = testApp({ bundle: false, props: { builtinCloudFormationValidation: false } });
    outdir = created.outdir;
    const stack = new Stack(created.app, 'Events');
    const dispatcher = new lambda.Function(stack, 'Dispatcher', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async (event) => event;'),
    });
    // As lib/constructs/triggers.ts wires an s3ObjectCreated trigger.
    const s3Pattern: events.EventPattern = {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: { bucket: { name: ['raw'] }, object: { key: [{ wildcard: 'orders/*.csv' }] } },
    };
    const s3Input = events.RuleTargetInput.fromObject({
      kind: 's3',
      pipeline: 'p',
      event: events.EventField.fromPath('$'),
    });
    const s3 = new events.Rule(stack, 'S3Trigger', {
      eventPattern: s3Pattern,
      targets: [new targets.LambdaFunction(dispatcher, { event: s3Input, retryAttempts: 8 })],
    });
    const disabled = new events.Rule(stack, 'Disabled', {
      enabled: false,
      eventPattern: s3Pattern,
      targets: [new targets.LambdaFunction(dispatcher)],
    });
    const nightly = new events.Rule(stack, 'Nightly', {
      schedule: events.Schedule.rate(Duration.days(1)),
      targets: [new targets.LambdaFunction(dispatcher)],
    });
    const bus = new events.EventBus(stack, 'Ops', { eventBusName: 'ops' });
    const finished = new events.Rule(stack, 'Finished', {
      eventBus: bus,
      eventPattern: { source: ['stepwise'], detailType: ['Run Finished'], detail: { status: ['SUCCEEDED'] } },
      targets: [
        new targets.LambdaFunction(dispatcher, {
          event: events.RuleTargetInput.fromText(
            `run ${events.EventField.fromPath('$.detail.runId')} finished`,
          ),
        }),
        new targets.LambdaFunction(dispatcher, { event: events.RuleTargetInput.fromEventPath('$.detail') }),
        new targets.LambdaFunction(dispatcher, {
          event: events.RuleTargetInput.fromObject({ kind: 'ping' }),
        }),
      ],
    });
    // As lib/constructs/triggers.ts wires a schedule trigger.
    const schedule = new scheduler.Schedule(stack, 'Schedule', {
      schedule: scheduler.ScheduleExpression.expression('cron(0 2 * * ? *)', TimeZone.of('Europe/Berlin')),
      target: new schedulerTargets.LambdaInvoke(dispatcher, {
        input: scheduler.ScheduleTargetInput.fromObject({
          kind: 'schedule',
          pipeline: 'p',
          time: scheduler.ContextAttribute.scheduledTime,
          expression: 'cron(0 2 * * ? *)',
          execution: scheduler.ContextAttribute.executionId,
          attempt: scheduler.ContextAttribute.attemptNumber,
          schedule: scheduler.ContextAttribute.scheduleArn,
        }),
      }),
    });
    const paused = new scheduler.Schedule(stack, 'Paused', {
      schedule: scheduler.ScheduleExpression.rate(Duration.hours(1)),
      enabled: false,
      target: new schedulerTargets.LambdaInvoke(dispatcher, {}),
    });
    const idOf = (construct: { node: { defaultChild?: unknown } }) =>
      stack.getLogicalId(construct.node.defaultChild as never);
    ids = {
      dispatcher: idOf(dispatcher),
      s3: idOf(s3),
      disabled: idOf(disabled),
      nightly: idOf(nightly),
      finished: idOf(finished),
      bus: idOf(bus),
      schedule: idOf(schedule),
      paused: idOf(paused),
    };
    template = CdkTemplate.fromStack(stack).toJSON() as Template;
    ({ rules, scheduled } = readRules(template, resolver(template)));
    schedules = readSchedules(template, resolver(template));
  });

  afterAll(() => removeOutdir(outdir));

  const ruleById = (id: string) => rules.find((rule) => rule.logicalId === id) as LocalRule;

  it('reads the event pattern CDK renders for a wildcard key, exactly', () => {
    expect(ruleById(ids.s3).pattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: ['raw'] }, object: { key: [{ wildcard: 'orders/*.csv' }] } },
    });
  });

  it('resolves each target to the local ARN of its Lambda function, with its retry policy', () => {
    expect(ruleById(ids.s3)).toMatchObject({
      name: ids.s3,
      arn: `arn:aws:events:us-east-1:000000000000:rule/${ids.s3}`,
      eventBusName: 'default',
      enabled: true,
      targets: [
        { id: 'Target0', arn: functionArn(ids.dispatcher), retryPolicy: { maximumRetryAttempts: 8 } },
      ],
    });
    expect(ruleById(ids.disabled).enabled).toBe(false);
  });

  it('routes an S3 event to the dispatcher with the envelope CDK renders around the whole event', () => {
    const event = s3Event('raw', 'orders/2026-11-01.csv');
    expect(routeEvent(rules, event)).toEqual([
      {
        rule: ids.s3,
        targetArn: functionArn(ids.dispatcher),
        payload: { kind: 's3', pipeline: 'p', event },
      },
    ]);
  });

  it('routes nothing for an object the pattern does not match', () => {
    expect(routeEvent(rules, s3Event('raw', 'orders/2026-11-01.json'))).toEqual([]);
    expect(routeEvent(rules, s3Event('curated', 'orders/2026-11-01.csv'))).toEqual([]);
  });

  it('routes an event only to rules on the bus it was put on', () => {
    const event = runFinished({ runId: 'r-1', status: 'SUCCEEDED', warnings: ['monitor'] });
    expect(ruleById(ids.finished).eventBusName).toBe(ids.bus);
    expect(routeEvent(rules, event)).toEqual([]);
    const deliveries = routeEvent(rules, event, { eventBusName: ids.bus });
    expect(deliveries.map((d) => ('payload' in d ? d.payload : d.error))).toEqual([
      'run r-1 finished',
      { runId: 'r-1', status: 'SUCCEEDED', warnings: ['monitor'] },
      { kind: 'ping' },
    ]);
    expect(
      routeEvent(rules, runFinished({ runId: 'r-2', status: 'FAILED' }), { eventBusName: ids.bus }),
    ).toEqual([]);
  });

  it('returns schedule-expression rules apart, and builds the event they send', () => {
    expect(rules.map((rule) => rule.logicalId)).not.toContain(ids.nightly);
    expect(scheduled).toHaveLength(1);
    const nightly = scheduled[0] as LocalScheduledRule;
    expect(nightly).toMatchObject({
      logicalId: ids.nightly,
      scheduleExpression: 'rate(1 day)',
      enabled: true,
    });
    const event = scheduledRuleEvent(nightly, '2026-11-01T00:00:00Z', 'e-1');
    expect(event).toEqual({
      version: '0',
      id: 'e-1',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2026-11-01T00:00:00Z',
      region: 'us-east-1',
      resources: [`arn:aws:events:us-east-1:000000000000:rule/${ids.nightly}`],
      detail: {},
    });
    expect(nightly.targets[0]?.input(event)).toEqual(event);
  });

  it('reads an EventBridge Scheduler schedule: expression, time zone, target, and the input it sends', () => {
    const schedule = schedules.find((s) => s.logicalId === ids.schedule) as LocalSchedule;
    expect(schedule).toMatchObject({
      name: ids.schedule,
      groupName: 'default',
      arn: `arn:aws:scheduler:us-east-1:000000000000:schedule/default/${ids.schedule}`,
      expression: 'cron(0 2 * * ? *)',
      timezone: 'Europe/Berlin',
      enabled: true,
      targetArn: functionArn(ids.dispatcher),
    });
    expect(schedule.input('2026-11-01T01:00:00Z', { executionId: 'x-1', attemptNumber: 2 })).toEqual({
      kind: 'schedule',
      pipeline: 'p',
      time: '2026-11-01T01:00:00Z',
      expression: 'cron(0 2 * * ? *)',
      execution: 'x-1',
      attempt: '2',
      schedule: schedule.arn,
    });
    const defaults = schedule.input('2026-11-02T01:00:00Z') as { execution: string; attempt: string };
    expect(defaults.attempt).toBe('1');
    expect(defaults.execution).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reads a disabled schedule with no input', () => {
    const paused = schedules.find((s) => s.logicalId === ids.paused) as LocalSchedule;
    expect(paused).toMatchObject({ expression: 'rate(1 hour)', enabled: false });
    expect(paused.input('2026-11-01T01:00:00Z')).toEqual({});
  });
});

/** A template holding one rule on the default bus with one target, for the input-transformer cases. */
function ruleWith(target: Record<string, unknown>, pattern: unknown = { source: ['stepwise'] }): Template {
  return {
    Resources: {
      Rule: {
        Type: 'AWS::Events::Rule',
        Properties: { EventPattern: pattern, Targets: [{ Id: 'T', Arn: 'arn:t', ...target }] },
      },
    },
  };
}

function deliver(template: Template, event: EventBridgeEvent = runFinished({})): unknown {
  const { rules } = readRules(template, resolver(template));
  const [delivery, ...more] = routeEvent(rules, event, { ingestionTime: '2026-11-01T02:05:01Z' });
  expect(more).toEqual([]);
  if (!delivery) throw new Error('the event reached no target');
  if ('error' in delivery) throw delivery.error;
  return delivery.payload;
}

function transform(paths: Record<string, string>, inputTemplate: string, event?: EventBridgeEvent): unknown {
  return deliver(
    ruleWith({ InputTransformer: { InputPathsMap: paths, InputTemplate: inputTemplate } }),
    event,
  );
}

describe('target input', () => {
  const event = runFinished({
    runId: 'r-1',
    status: 'SUCCEEDED',
    attempts: 3,
    tasks: ['a', 'b'],
    note: 'say "hi"',
  });

  it('is the event itself when the target sets none', () => {
    expect(deliver(ruleWith({}), event)).toEqual(event);
  });

  it('is the constant Input, a fresh copy each time', () => {
    const template = ruleWith({ Input: '{"kind":"ping","n":[1]}' });
    const first = deliver(template) as { n: number[] };
    first.n.push(2);
    expect(deliver(template)).toEqual({ kind: 'ping', n: [1] });
  });

  it('is what InputPath selects: a field, an array element, or a wildcard', () => {
    expect(deliver(ruleWith({ InputPath: '$.detail.runId' }), event)).toBe('r-1');
    expect(deliver(ruleWith({ InputPath: '$.detail.tasks[1]' }), event)).toBe('b');
    expect(deliver(ruleWith({ InputPath: "$['detail-type']" }), event)).toBe('Run Finished');
    const items = runFinished({ items: [{ id: 1 }, { id: 2 }, { other: 3 }] });
    expect(deliver(ruleWith({ InputPath: '$.detail.items[*].id' }), items)).toEqual([1, 2]);
  });

  it('fails the delivery when InputPath selects nothing', () => {
    expect(() =>
      deliver(ruleWith({ InputPath: '$.detail.missing' }), event),
    ).toThrowErrorMatchingInlineSnapshot(
      `[InputTransformError: rule 'Rule' target 'T': InputPath '$.detail.missing' selects nothing in event f0e1d2c3-0000-4000-8000-000000000002]`,
    );
  });
});

describe('InputTransformer', () => {
  const event = runFinished({
    runId: 'r-1',
    attempts: 3,
    ok: true,
    tasks: ['a', 'b'],
    note: 'say "hi"',
    none: null,
  });
  const paths = {
    runId: '$.detail.runId',
    attempts: '$.detail.attempts',
    ok: '$.detail.ok',
    tasks: '$.detail.tasks',
    detail: '$.detail',
    none: '$.detail.none',
    missing: '$.detail.missing',
  };

  it('puts JSON values outside quotes: strings gain quotes, the rest is JSON', () => {
    expect(
      transform(
        paths,
        '{"id": <runId>, "n": <attempts>, "ok": <ok>, "tasks": <tasks>, "none": <none>}',
        event,
      ),
    ).toEqual({ id: 'r-1', n: 3, ok: true, tasks: ['a', 'b'], none: null });
  });

  it('inserts values raw inside quotes, stripping the quotes of objects and arrays', () => {
    expect(transform(paths, '{"text": "run <runId>: <attempts> tries, <tasks>, <ok>"}', event)).toEqual({
      text: 'run r-1: 3 tries, [a,b], true',
    });
    expect(transform({ state: '$.detail.ok' }, '{"s": "<state>"}', event)).toEqual({ s: 'true' });
  });

  it('leaves out a variable whose path selects nothing', () => {
    expect(transform(paths, '{"text": "run <runId><missing>"}', event)).toEqual({ text: 'run r-1' });
  });

  it('fails the delivery when a missing variable stands outside quotes, naming it', () => {
    expect(() =>
      transform(paths, '{"id": <runId>, "m": <missing>}', event),
    ).toThrowErrorMatchingInlineSnapshot(
      `[InputTransformError: rule 'Rule' target 'T': the InputTemplate does not render to valid JSON for event f0e1d2c3-0000-4000-8000-000000000002: <missing> selected nothing and EventBridge leaves such variables out. Rendered: {"id": "r-1", "m": }]`,
    );
  });

  it('fails the delivery when a raw string inside quotes carries a quote', () => {
    expect(() => transform({ note: '$.detail.note' }, '{"n": "<note>"}', event)).toThrow(
      /a string inserted inside quotes is not escaped.*Rendered: \{"n": "say "hi""\}/,
    );
  });

  it('renders a text template as text, with every value raw', () => {
    expect(transform(paths, '<runId> took <attempts> attempts: <tasks>', event)).toBe(
      'r-1 took 3 attempts: [a,b]',
    );
    expect(transform(paths, '"<runId> is in state \\"<ok>\\""', event)).toBe('r-1 is in state "true"');
  });

  it('provides the predefined variables', () => {
    const { detail: _, ...withoutDetail } = event;
    expect(
      transform(
        {},
        '{"arn": <aws.events.rule-arn>, "name": "<aws.events.rule-name>", "at": <aws.events.event.ingestion-time>, "event": <aws.events.event>, "full": <aws.events.event.json>}',
        event,
      ),
    ).toEqual({
      arn: 'arn:aws:events:us-east-1:000000000000:rule/Rule',
      name: 'Rule',
      at: '2026-11-01T02:05:01Z',
      event: withoutDetail,
      full: event,
    });
  });

  it('leaves text in angle brackets that names no variable alone', () => {
    expect(transform({ id: '$.detail.runId' }, '{"a": "<b> and <id>"}', event)).toEqual({ a: '<b> and r-1' });
  });
});

describe('reading rules', () => {
  it('accepts an EventPattern written as JSON text, as CloudFormation allows for null values', () => {
    const template = ruleWith({}, JSON.stringify({ source: ['stepwise'], detail: { error: [null] } }));
    const { rules } = readRules(template, resolver(template));
    expect(rules[0]?.matches(runFinished({ error: null }))).toBe(true);
    expect(rules[0]?.matches(runFinished({ error: 'x' }))).toBe(false);
  });

  it('fails when a pattern uses an operator EventBridge does not know, naming the rule', () => {
    const template = ruleWith({}, { detail: { key: [{ contains: 'orders' }] } });
    expect(() => readRules(template, resolver(template))).toThrowErrorMatchingInlineSnapshot(
      `[EventPatternError: rule 'Rule': detail.key[0]: unknown operator 'contains'; EventBridge event patterns support prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr and $or]`,
    );
  });

  it('fails when a constant Input is not JSON, a path is not one EventBridge reads, or a variable is reserved', () => {
    const read = (target: Record<string, unknown>) => {
      const template = ruleWith(target);
      return () => readRules(template, resolver(template));
    };
    expect(read({ Input: 'ping' })).toThrow(InputTransformError);
    expect(read({ Input: 'ping' })).toThrow("rule 'Rule' target 'T': Input must be JSON text; got ping");
    expect(read({ InputPath: 'detail.runId' })).toThrowErrorMatchingInlineSnapshot(
      `[InputTransformError: rule 'Rule' target 'T': InputPath: 'detail.runId' is not a JSON path EventBridge supports ($, .name, ['name'], [0], .* or [*])]`,
    );
    expect(
      read({ InputTransformer: { InputPathsMap: { 'aws.events.event': '$.detail' }, InputTemplate: '<x>' } }),
    ).toThrowErrorMatchingInlineSnapshot(
      `[InputTransformError: rule 'Rule' target 'T': InputPathsMap may not define 'aws.events.event', a predefined variable]`,
    );
  });

  it('skips a disabled rule when routing', () => {
    const template: Template = {
      Resources: {
        Rule: {
          Type: 'AWS::Events::Rule',
          Properties: {
            State: 'DISABLED',
            EventPattern: { source: ['stepwise'] },
            Targets: [{ Id: 'T', Arn: 'arn:t' }],
          },
        },
      },
    };
    const { rules } = readRules(template, resolver(template));
    expect(routeEvent(rules, runFinished({}))).toEqual([]);
  });
});
