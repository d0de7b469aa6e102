import { describe, expect, it } from 'vitest';
import { definePipeline } from '../../lib/spec/define-pipeline.ts';
import { lambda, schedule } from '../../lib/spec/index.ts';
import { checkScheduleExpression, checkTimezone } from '../../lib/spec/schedule-expression.ts';
import { specIssues } from '../private/specs.ts';

describe('checkScheduleExpression', () => {
  describe('cron', () => {
    it('fails when a cron has five fields, as Unix cron does', () => {
      expect(checkScheduleExpression('cron(0 2 * * *)')).toMatchInlineSnapshot(
        `"'cron(0 2 * * *)' has 5 fields but needs 6: minutes hours day-of-month month day-of-week year, like cron(0 2 * * ? *)"`,
      );
    });

    it('fails when a cron has seven fields', () => {
      expect(checkScheduleExpression('cron(0 0 2 * * ? *)')).toMatchInlineSnapshot(
        `"'cron(0 0 2 * * ? *)' has 7 fields but needs 6: minutes hours day-of-month month day-of-week year, like cron(0 2 * * ? *)"`,
      );
    });

    it('fails when both day-of-month and day-of-week are set', () => {
      expect(checkScheduleExpression('cron(0 2 1 * MON *)')).toMatchInlineSnapshot(
        `"'cron(0 2 1 * MON *)': exactly one of day-of-month and day-of-week must be '?', like cron(0 2 * * ? *)"`,
      );
    });

    it('fails when neither day-of-month nor day-of-week is set', () => {
      expect(checkScheduleExpression('cron(0 2 ? * ? *)')).toMatchInlineSnapshot(
        `"'cron(0 2 ? * ? *)': exactly one of day-of-month and day-of-week must be '?', like cron(0 2 * * ? *)"`,
      );
    });

    it('fails when a field is out of range', () => {
      expect([
        checkScheduleExpression('cron(60 2 * * ? *)'),
        checkScheduleExpression('cron(0 24 * * ? *)'),
        checkScheduleExpression('cron(0 2 32 * ? *)'),
        checkScheduleExpression('cron(0 2 * 13 ? *)'),
        checkScheduleExpression('cron(0 2 ? * 0 *)'),
        checkScheduleExpression('cron(0 2 * * ? 1969)'),
      ]).toMatchInlineSnapshot(`
        [
          "'cron(60 2 * * ? *)': minutes field '60' is not valid (allowed: 0-59, *, lists, ranges and /steps)",
          "'cron(0 24 * * ? *)': hours field '24' is not valid (allowed: 0-23, *, lists, ranges and /steps)",
          "'cron(0 2 32 * ? *)': day-of-month field '32' is not valid (allowed: 1-31, *, lists, ranges and /steps)",
          "'cron(0 2 * 13 ? *)': month field '13' is not valid (allowed: 1-12, JAN-DEC, *, lists, ranges and /steps)",
          "'cron(0 2 ? * 0 *)': day-of-week field '0' is not valid (allowed: 1-7, SUN-SAT, *, lists, ranges and /steps)",
          "'cron(0 2 * * ? 1969)': year field '1969' is not valid (allowed: 1970-2199, *, lists, ranges and /steps)",
        ]
      `);
    });

    it('fails when a range or step is malformed', () => {
      expect([
        checkScheduleExpression('cron(0 1-2-3 * * ? *)'),
        checkScheduleExpression('cron(*/x 2 * * ? *)'),
        checkScheduleExpression('cron(0 2 * FOO ? *)'),
      ]).toMatchInlineSnapshot(`
        [
          "'cron(0 1-2-3 * * ? *)': hours field '1-2-3' is not valid (allowed: 0-23, *, lists, ranges and /steps)",
          "'cron(*/x 2 * * ? *)': minutes field '*/x' is not valid (allowed: 0-59, *, lists, ranges and /steps)",
          "'cron(0 2 * FOO ? *)': month field 'FOO' is not valid (allowed: 1-12, JAN-DEC, *, lists, ranges and /steps)",
        ]
      `);
    });

    it('accepts the cron forms EventBridge Scheduler documents', () => {
      const valid = [
        'cron(0 2 * * ? *)',
        'cron(0/15 * * * ? *)',
        'cron(0 8-17 ? * MON-FRI *)',
        'cron(30 9 ? * 2,4,6 *)',
        'cron(0 12 L * ? *)',
        'cron(0 12 15W * ? *)',
        'cron(0 10 ? * 6L 2026-2030)',
        'cron(0 10 ? * 3#2 *)',
        'cron(0 0 1 JAN,jul ? *)',
      ];
      expect(valid.map((e) => [e, checkScheduleExpression(e)])).toEqual(valid.map((e) => [e, undefined]));
    });
  });

  describe('rate', () => {
    it('fails when a rate of 1 takes a plural unit', () => {
      expect(checkScheduleExpression('rate(1 hours)')).toMatchInlineSnapshot(
        `"'rate(1 hours)' takes the singular unit; write rate(1 hour)"`,
      );
    });

    it('fails when a rate above 1 takes a singular unit', () => {
      expect(checkScheduleExpression('rate(5 minute)')).toMatchInlineSnapshot(
        `"'rate(5 minute)' takes the plural unit; write rate(5 minutes)"`,
      );
    });

    it('fails when a rate is zero', () => {
      expect(checkScheduleExpression('rate(0 minutes)')).toMatchInlineSnapshot(
        `"'rate(0 minutes)' must be at least 1; write rate(1 minute) or more"`,
      );
    });

    it('fails when a rate has an unknown unit', () => {
      expect(checkScheduleExpression('rate(30 seconds)')).toMatchInlineSnapshot(
        `"'rate(30 seconds)' is not a valid rate; write rate(5 minutes), rate(1 hour) or rate(2 days)"`,
      );
    });

    it('accepts singular and plural rates', () => {
      expect(
        ['rate(1 minute)', 'rate(5 minutes)', 'rate(1 hour)', 'rate(2 days)'].map(checkScheduleExpression),
      ).toEqual([undefined, undefined, undefined, undefined]);
    });
  });

  describe('at and others', () => {
    it('fails when a one-time schedule is not a date and time', () => {
      expect([
        checkScheduleExpression('at(2026-12-01)'),
        checkScheduleExpression('at(2026-13-01T00:00:00)'),
      ]).toMatchInlineSnapshot(`
        [
          "'at(2026-12-01)' is not a valid one-time schedule; write at(yyyy-mm-ddThh:mm:ss)",
          "'at(2026-13-01T00:00:00)' is not a valid one-time schedule; write at(yyyy-mm-ddThh:mm:ss)",
        ]
      `);
    });

    it('accepts a one-time schedule', () => {
      expect(checkScheduleExpression('at(2026-12-01T00:00:00)')).toBeUndefined();
    });

    it('fails when the expression is none of cron, rate or at', () => {
      expect(checkScheduleExpression('0 2 * * *')).toMatchInlineSnapshot(
        `"'0 2 * * *' is not a schedule expression; write cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)"`,
      );
    });
  });
});

describe('checkTimezone', () => {
  it('fails when the time zone is not an IANA name', () => {
    expect([checkTimezone('Berlin/Europe'), checkTimezone('CEST+1')]).toMatchInlineSnapshot(`
      [
        "'Berlin/Europe' is not an IANA time zone; write one like 'UTC' or 'Europe/Berlin'",
        "'CEST+1' is not an IANA time zone; write one like 'UTC' or 'Europe/Berlin'",
      ]
    `);
  });

  it('accepts IANA time zones', () => {
    expect(['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires'].map(checkTimezone)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('schedule triggers in a spec', () => {
  const tasks = { only: { run: lambda('../fixtures/handlers/step.ts') } };
  const here = { specFile: import.meta.url };

  it('fails with the path of each bad trigger field', () => {
    const triggers = [
      schedule('cron(0 2 * * ? *)', { timezone: 'Europe/Berlin' }),
      schedule('rate(1 hours)'),
      schedule('cron(0 2 1 * MON *)', { timezone: 'Europe/Berln' }),
    ];
    expect(
      specIssues(() => definePipeline({ name: 'nightly', triggers, tasks }, here)),
    ).toMatchInlineSnapshot(`
      [
        "triggers[1].expression: 'rate(1 hours)' takes the singular unit; write rate(1 hour)",
        "triggers[2].expression: 'cron(0 2 1 * MON *)': exactly one of day-of-month and day-of-week must be '?', like cron(0 2 * * ? *)",
        "triggers[2].timezone: 'Europe/Berln' is not an IANA time zone (did you mean 'Europe/Berlin'?); write one like 'UTC' or 'Europe/Berlin'",
      ]
    `);
  });
});
