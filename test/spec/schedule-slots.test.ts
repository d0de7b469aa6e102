import { describe, expect, it } from 'vitest';
import {
  ScheduleSlotsError,
  scheduledTimeText,
  scheduleSlots,
  TooManySlotsError,
} from '../../lib/spec/schedule-slots.ts';

const MINUTE = 60_000;

/** Slots in UTC as compact ISO text (`2026-10-25T00:00`), the easiest form to read in a failure. */
function slots(expression: string, timezone: string, from: string, to: string, limit?: number): string[] {
  return scheduleSlots(
    expression,
    timezone,
    new Date(from),
    new Date(to),
    limit === undefined ? {} : { limit },
  ).map((d) => d.toISOString().slice(0, 16));
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ScheduleSlotsError);
    return (error as Error).message;
  }
  throw new Error('expected scheduleSlots to refuse');
}

describe('scheduleSlots', () => {
  describe('cron in UTC', () => {
    it('gives an hourly schedule twelve slots in twelve hours: from included, to excluded', () => {
      expect(slots('cron(0 * * * ? *)', 'UTC', '2026-11-01T00:00:00Z', '2026-11-01T12:00:00Z')).toEqual(
        Array.from({ length: 12 }, (_, h) => `2026-11-01T${String(h).padStart(2, '0')}:00`),
      );
    });

    it('starts at the first slot at or after from', () => {
      expect(slots('cron(0 * * * ? *)', 'UTC', '2026-11-01T00:00:01Z', '2026-11-01T03:00:00Z')).toEqual([
        '2026-11-01T01:00',
        '2026-11-01T02:00',
      ]);
    });

    it('reads minute steps, hour ranges and day-of-week names', () => {
      expect(slots('cron(0/20 9 * * ? *)', 'UTC', '2026-11-02T00:00:00Z', '2026-11-03T00:00:00Z')).toEqual([
        '2026-11-02T09:00',
        '2026-11-02T09:20',
        '2026-11-02T09:40',
      ]);
      // 2026-11-01 is a Sunday: five weekdays of ten hours each
      const weekdays = slots(
        'cron(0 8-17 ? * MON-FRI *)',
        'UTC',
        '2026-11-01T00:00:00Z',
        '2026-11-08T00:00:00Z',
      );
      expect(weekdays).toHaveLength(50);
      expect(weekdays[0]).toBe('2026-11-02T08:00');
      expect(weekdays.at(-1)).toBe('2026-11-06T17:00');
    });

    it('reads numeric days of the week as 1 = SUN ... 7 = SAT', () => {
      expect(slots('cron(30 9 ? * 2,4,6 *)', 'UTC', '2026-11-01T00:00:00Z', '2026-11-08T00:00:00Z')).toEqual([
        '2026-11-02T09:30',
        '2026-11-04T09:30',
        '2026-11-06T09:30',
      ]);
    });

    it('wraps a range whose end is below its start, as Quartz does', () => {
      expect(slots('cron(0 22-1 * * ? *)', 'UTC', '2026-11-01T12:00:00Z', '2026-11-02T12:00:00Z')).toEqual([
        '2026-11-01T22:00',
        '2026-11-01T23:00',
        '2026-11-02T00:00',
        '2026-11-02T01:00',
      ]);
    });

    it('reads month names in any case, lists, day-of-month steps and year steps', () => {
      expect(slots('cron(0 0 1 JAN,jul ? *)', 'UTC', '2026-01-01T00:00:00Z', '2028-01-01T00:00:00Z')).toEqual(
        ['2026-01-01T00:00', '2026-07-01T00:00', '2027-01-01T00:00', '2027-07-01T00:00'],
      );
      expect(slots('cron(0 0 1/10 JAN ? *)', 'UTC', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')).toEqual([
        '2026-01-01T00:00',
        '2026-01-11T00:00',
        '2026-01-21T00:00',
        '2026-01-31T00:00',
      ]);
      expect(slots('cron(0 0 1 1 ? 2027/2)', 'UTC', '2026-01-01T00:00:00Z', '2032-01-01T00:00:00Z')).toEqual([
        '2027-01-01T00:00',
        '2029-01-01T00:00',
        '2031-01-01T00:00',
      ]);
    });

    it('skips day 31 in months without one', () => {
      expect(slots('cron(0 0 31 * ? *)', 'UTC', '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z')).toEqual([
        '2026-01-31T00:00',
        '2026-03-31T00:00',
        '2026-05-31T00:00',
      ]);
    });

    it('reads L in day-of-month as the last day, February 29 in a leap year', () => {
      const last = slots('cron(0 12 L * ? *)', 'UTC', '2028-01-01T00:00:00Z', '2029-01-01T00:00:00Z');
      expect(last).toHaveLength(12);
      expect(last.slice(0, 4)).toEqual([
        '2028-01-31T12:00',
        '2028-02-29T12:00',
        '2028-03-31T12:00',
        '2028-04-30T12:00',
      ]);
    });

    it('reads LW as the last weekday of the month', () => {
      // 2026-01-31 is a Saturday, 2026-05-31 a Sunday, 2026-03-31 a Tuesday
      expect(slots('cron(0 12 LW * ? *)', 'UTC', '2026-01-01T00:00:00Z', '2026-06-01T00:00:00Z')).toEqual([
        '2026-01-30T12:00',
        '2026-02-27T12:00',
        '2026-03-31T12:00',
        '2026-04-30T12:00',
        '2026-05-29T12:00',
      ]);
    });

    it('reads nW as the weekday nearest day n, never leaving the month', () => {
      const year = ['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'] as const;
      // the 15th is a Saturday in August (-> Friday 14th) and a Sunday in November (-> Monday 16th)
      const fifteenth = slots('cron(0 12 15W * ? *)', 'UTC', ...year);
      expect(fifteenth).toContain('2026-08-14T12:00');
      expect(fifteenth).toContain('2026-11-16T12:00');
      expect(fifteenth).toContain('2026-10-15T12:00');
      // the 1st is a Saturday in August: Monday the 3rd, not Friday July 31st
      expect(slots('cron(0 12 1W * ? *)', 'UTC', ...year)).toContain('2026-08-03T12:00');
      // the 31st is a Sunday in May: Friday the 29th, not Monday June 1st; no 31st, no slot
      expect(slots('cron(0 12 31W * ? *)', 'UTC', ...year)).toEqual([
        '2026-01-30T12:00',
        '2026-03-31T12:00',
        '2026-05-29T12:00',
        '2026-07-31T12:00',
        '2026-08-31T12:00',
        '2026-10-30T12:00',
        '2026-12-31T12:00',
      ]);
    });

    it('reads n#k as the k-th weekday n of the month, and skips months without one', () => {
      expect(slots('cron(0 10 ? * 3#2 *)', 'UTC', '2026-10-01T00:00:00Z', '2027-01-01T00:00:00Z')).toEqual([
        '2026-10-13T10:00',
        '2026-11-10T10:00',
        '2026-12-08T10:00',
      ]);
      expect(slots('cron(0 10 ? * 2#5 *)', 'UTC', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z')).toEqual([
        '2026-03-30T10:00',
        '2026-06-29T10:00',
        '2026-08-31T10:00',
        '2026-11-30T10:00',
      ]);
    });

    it('reads nL as the last weekday n of the month, and L in day-of-week as Saturday', () => {
      expect(slots('cron(0 10 ? * 6L *)', 'UTC', '2026-10-01T00:00:00Z', '2027-01-01T00:00:00Z')).toEqual([
        '2026-10-30T10:00',
        '2026-11-27T10:00',
        '2026-12-25T10:00',
      ]);
      expect(slots('cron(0 10 ? * L *)', 'UTC', '2026-11-01T00:00:00Z', '2026-11-15T00:00:00Z')).toEqual([
        '2026-11-07T10:00',
        '2026-11-14T10:00',
      ]);
    });

    it('stops at the last year a cron can name', () => {
      expect(slots('cron(0 0 1 1 ? *)', 'UTC', '2198-06-01T00:00:00Z', '2300-01-01T00:00:00Z')).toEqual([
        '2199-01-01T00:00',
      ]);
    });
  });

  describe('cron in a time zone with daylight saving time', () => {
    it('fires a daily 02:00 Europe/Berlin once on the night the clocks go back, at summer time', () => {
      // 2026-10-25 03:00 CEST becomes 02:00 CET: 02:00 happens at 00:00Z and again at 01:00Z
      expect(
        slots('cron(0 2 * * ? *)', 'Europe/Berlin', '2026-10-23T00:00:00Z', '2026-10-28T00:00:00Z'),
      ).toEqual([
        '2026-10-23T00:00',
        '2026-10-24T00:00',
        '2026-10-25T00:00',
        '2026-10-26T01:00',
        '2026-10-27T01:00',
      ]);
    });

    it('skips a daily 02:00 and 02:30 Europe/Berlin on the night the clocks go forward', () => {
      // 2026-03-29 02:00 CET becomes 03:00 CEST: no 02:xx that night
      for (const minute of ['0', '30']) {
        expect(
          slots(`cron(${minute} 2 * * ? *)`, 'Europe/Berlin', '2026-03-27T00:00:00Z', '2026-04-01T00:00:00Z'),
        ).toEqual(
          ['2026-03-27T01:', '2026-03-28T01:', '2026-03-30T00:', '2026-03-31T00:'].map(
            (prefix) => `${prefix}${minute.padStart(2, '0')}`,
          ),
        );
      }
    });

    it('keeps a daily 03:00 Europe/Berlin on both nights', () => {
      expect(
        slots('cron(0 3 * * ? *)', 'Europe/Berlin', '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z'),
      ).toEqual(['2026-03-28T02:00', '2026-03-29T01:00', '2026-03-30T01:00']);
      expect(
        slots('cron(0 3 * * ? *)', 'Europe/Berlin', '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z'),
      ).toEqual(['2026-10-24T01:00', '2026-10-25T02:00', '2026-10-26T02:00']);
    });

    it('runs an hourly Europe/Berlin schedule once per wall-clock hour across both changes', () => {
      // March: local 01:00 (00:00Z), then 03:00 (01:00Z); the hour in between does not exist
      expect(
        slots('cron(0 * * * ? *)', 'Europe/Berlin', '2026-03-28T23:00:00Z', '2026-03-29T03:00:00Z'),
      ).toEqual(['2026-03-28T23:00', '2026-03-29T00:00', '2026-03-29T01:00', '2026-03-29T02:00']);
      // October: local 02:00 fires at its first occurrence (00:00Z) and not again at 01:00Z
      expect(
        slots('cron(0 * * * ? *)', 'Europe/Berlin', '2026-10-24T23:00:00Z', '2026-10-25T04:00:00Z'),
      ).toEqual(['2026-10-24T23:00', '2026-10-25T00:00', '2026-10-25T02:00', '2026-10-25T03:00']);
    });

    it('follows America/New_York, whose clocks change at 02:00 local on other dates', () => {
      // 2026-03-08: 02:00 EST -> 03:00 EDT; 2026-11-01: 02:00 EDT -> 01:00 EST
      expect(
        slots('cron(30 1 * * ? *)', 'America/New_York', '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z'),
      ).toEqual(['2026-10-31T05:30', '2026-11-01T05:30', '2026-11-02T06:30']);
      expect(
        slots('cron(30 2 * * ? *)', 'America/New_York', '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z'),
      ).toEqual(['2026-03-07T07:30', '2026-03-09T06:30']);
    });

    it('matches a minute-by-minute reading of the wall clock in zones with odd offsets and changes', () => {
      const cases = [
        // Lord Howe Island moves its clocks by 30 minutes
        ['Australia/Lord_Howe', '2026-04-04T12:00:00Z', '2026-04-05T18:00:00Z'],
        ['Australia/Lord_Howe', '2026-10-03T12:00:00Z', '2026-10-04T18:00:00Z'],
        // Chatham is +12:45/+13:45; Kolkata +05:30 with no changes
        ['Pacific/Chatham', '2026-04-04T10:00:00Z', '2026-04-05T18:00:00Z'],
        ['Asia/Kolkata', '2026-03-28T00:00:00Z', '2026-03-29T12:00:00Z'],
        // Sao Paulo went forward at midnight: 2018-11-04 00:00 became 01:00
        ['America/Sao_Paulo', '2018-11-03T00:00:00Z', '2018-11-05T00:00:00Z'],
        // Nuuk changes at 01:00Z, late in its local day: 2026-03-28 23:00 becomes 2026-03-29 00:00
        ['America/Nuuk', '2026-03-28T12:00:00Z', '2026-03-29T12:00:00Z'],
        ['America/Nuuk', '2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z'],
        ['Europe/Berlin', '2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z'],
        ['America/New_York', '2026-03-07T12:00:00Z', '2026-03-09T00:00:00Z'],
      ] as const;
      const expressions = [
        'cron(*/7 * * * ? *)',
        'cron(0,15,30,45 0-3 * * ? *)',
        'cron(30 2 * * ? *)',
        'cron(0 0 * * ? *)',
      ];
      for (const [timezone, from, to] of cases) {
        const wallClock = firstWallTimes(timezone, from, to);
        for (const expression of expressions) {
          expect({ timezone, expression, slots: slots(expression, timezone, from, to) }).toEqual({
            timezone,
            expression,
            slots: wallClockReading(expression, wallClock),
          });
        }
      }
    });

    it('counts a year of minutely Europe/Berlin slots: one hour fewer, for the repeated hour', () => {
      let error: TooManySlotsError | undefined;
      try {
        scheduleSlots(
          'cron(* * * * ? *)',
          'Europe/Berlin',
          new Date('2026-01-01T00:00:00Z'),
          new Date('2027-01-01T00:00:00Z'),
        );
      } catch (thrown) {
        error = thrown as TooManySlotsError;
      }
      expect(error?.count).toBe(365 * 24 * 60 - 60);
    });

    it('gives a month of minutely slots across the October change in strictly increasing order', () => {
      const month = scheduleSlots(
        'cron(* * * * ? *)',
        'Europe/Berlin',
        new Date('2026-10-01T00:00:00Z'),
        new Date('2026-11-01T00:00:00Z'),
        { limit: 50_000 },
      );
      expect(month).toHaveLength(31 * 24 * 60 - 60);
      expect(month.every((slot, i) => i === 0 || slot.getTime() > (month[i - 1] as Date).getTime())).toBe(
        true,
      );
    });
  });

  describe('rate', () => {
    it('counts from from, since a rate schedule has no anchor of its own', () => {
      expect(slots('rate(5 minutes)', 'UTC', '2026-11-01T00:02:00Z', '2026-11-01T00:20:00Z')).toEqual([
        '2026-11-01T00:02',
        '2026-11-01T00:07',
        '2026-11-01T00:12',
        '2026-11-01T00:17',
      ]);
      expect(slots('rate(1 hour)', 'UTC', '2026-11-01T00:00:00Z', '2026-11-01T02:00:01Z')).toEqual([
        '2026-11-01T00:00',
        '2026-11-01T01:00',
        '2026-11-01T02:00',
      ]);
    });

    it('counts a day as 24 hours, whatever the time zone does', () => {
      expect(slots('rate(1 day)', 'Europe/Berlin', '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z')).toEqual([
        '2026-10-24T00:00',
        '2026-10-25T00:00',
        '2026-10-26T00:00',
      ]);
    });
  });

  describe('at', () => {
    it('gives the one wall time in the time zone when it is in the range', () => {
      expect(
        slots('at(2026-12-01T09:00:00)', 'Europe/Berlin', '2026-11-01T00:00:00Z', '2027-01-01T00:00:00Z'),
      ).toEqual(['2026-12-01T08:00']);
      expect(
        slots('at(2026-12-01T09:00:00)', 'Europe/Berlin', '2026-12-01T08:00:01Z', '2027-01-01T00:00:00Z'),
      ).toEqual([]);
    });

    it('gives nothing for a wall time the clocks skip', () => {
      expect(
        slots('at(2026-03-29T02:30:00)', 'Europe/Berlin', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'),
      ).toEqual([]);
    });
  });

  describe('limit', () => {
    it('allows exactly the limit', () => {
      expect(
        slots('cron(* * * * ? *)', 'UTC', '2026-11-01T00:00:00Z', '2026-11-01T00:10:00Z', 10),
      ).toHaveLength(10);
    });

    it('fails when the range holds more slots than the limit, saying how many and where to cut', () => {
      const from = new Date('2026-01-01T00:00:00Z');
      const to = new Date('2027-01-01T00:00:00Z');
      let error: TooManySlotsError | undefined;
      try {
        scheduleSlots('cron(* * * * ? *)', 'UTC', from, to);
      } catch (thrown) {
        error = thrown as TooManySlotsError;
      }
      expect(error).toBeInstanceOf(TooManySlotsError);
      expect(error?.message).toMatchInlineSnapshot(
        `"cron(* * * * ? *) (UTC) fires 525600 times from 2026-01-01T00:00:00.000Z to 2027-01-01T00:00:00.000Z, more than the limit of 10000; narrow the range: to 2026-01-07T22:40:00.000Z covers the first 10000, then continue from there"`,
      );
      expect(error?.count).toBe(525_600);
      expect(scheduleSlots('cron(* * * * ? *)', 'UTC', from, error?.narrowedTo as Date)).toHaveLength(10_000);
    });

    it('fails when a rate over a long range exceeds the limit, with the count', () => {
      expect(
        refusal(() =>
          scheduleSlots(
            'rate(1 minute)',
            'UTC',
            new Date('2020-01-01T00:00:00Z'),
            new Date('2030-01-01T00:00:00Z'),
            {
              limit: 100,
            },
          ),
        ),
      ).toMatchInlineSnapshot(
        `"rate(1 minute) (UTC) fires 5260320 times from 2020-01-01T00:00:00.000Z to 2030-01-01T00:00:00.000Z, more than the limit of 100; narrow the range: to 2020-01-01T01:40:00.000Z covers the first 100, then continue from there"`,
      );
    });
  });

  describe('fails when', () => {
    const day = [new Date('2026-11-01T00:00:00Z'), new Date('2026-11-02T00:00:00Z')] as const;

    it('fails when from is not before to', () => {
      expect(refusal(() => scheduleSlots('cron(0 2 * * ? *)', 'UTC', day[1], day[0]))).toMatchInlineSnapshot(
        `"the range is empty: from 2026-11-02T00:00:00.000Z is not before to 2026-11-01T00:00:00.000Z; to is exclusive, so to include the slot at 2026-11-02T00:00:00.000Z give to 2026-11-02T00:01:00.000Z"`,
      );
      expect(refusal(() => scheduleSlots('cron(0 2 * * ? *)', 'UTC', day[0], day[0]))).toMatch(
        /range is empty/,
      );
    });

    it('fails when a time is not a valid date', () => {
      expect(
        refusal(() => scheduleSlots('cron(0 2 * * ? *)', 'UTC', new Date('yesterday'), day[1])),
      ).toMatchInlineSnapshot(
        `"from is not a valid time (got Invalid Date); give an ISO 8601 time like 2026-11-01T00:00:00Z"`,
      );
    });

    it('fails when the expression or the time zone is not valid, with the checker message', () => {
      expect(refusal(() => scheduleSlots('cron(0 2 * * *)', 'UTC', ...day))).toMatchInlineSnapshot(
        `"'cron(0 2 * * *)' has 5 fields but needs 6: minutes hours day-of-month month day-of-week year, like cron(0 2 * * ? *)"`,
      );
      expect(
        refusal(() => scheduleSlots('cron(0 2 * * ? *)', 'Europe/Berlni', ...day)),
      ).toMatchInlineSnapshot(
        `"'Europe/Berlni' is not an IANA time zone (did you mean 'Europe/Berlin'?); write one like 'UTC' or 'Europe/Berlin'"`,
      );
    });

    it('fails when a step is zero', () => {
      expect(refusal(() => scheduleSlots('cron(0/0 * * * ? *)', 'UTC', ...day))).toMatchInlineSnapshot(
        `"'cron(0/0 * * * ? *)': minutes field '0/0': step '/0' never advances; use /1 or more, like 0/15"`,
      );
    });

    it('fails when the limit is not a positive whole number', () => {
      expect(
        refusal(() => scheduleSlots('cron(0 2 * * ? *)', 'UTC', ...day, { limit: 0 })),
      ).toMatchInlineSnapshot(`"the slot limit must be a whole number of at least 1, got 0"`);
    });
  });
});

describe('scheduledTimeText', () => {
  it('writes a slot as EventBridge Scheduler writes <aws.scheduler.scheduled-time>', () => {
    expect(scheduledTimeText(new Date('2026-11-01T01:00:00.000Z'))).toBe('2026-11-01T01:00:00Z');
  });
});

interface WallClock {
  readonly from: number;
  readonly to: number;
  /** Each minute of the range whose wall time had not been seen before, with that wall time (as UTC). */
  readonly firsts: readonly { readonly instant: number; readonly wall: number }[];
}

/** Reads the zone's wall clock minute by minute, keeping the first instant of each wall time. */
function firstWallTimes(timezone: string, from: string, to: string): WallClock {
  const day = 86_400_000;
  const start = Date.parse(from);
  const end = Date.parse(to);
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  const seen = new Set<number>();
  const firsts: { instant: number; wall: number }[] = [];
  // Start a day early, so a wall time first seen before the range is not taken as new inside it.
  for (let instant = start - day; instant < end; instant += MINUTE) {
    const p = Object.fromEntries(
      format.formatToParts(instant).map((part) => [part.type, Number(part.value)]),
    );
    const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
    if (seen.has(wall)) continue;
    seen.add(wall);
    if (instant >= start) firsts.push({ instant, wall });
  }
  return { from: start, to: end, firsts };
}

/**
 * An independent reading of the same semantics: the schedule's wall-clock times (computed in UTC, where
 * wall time and instant agree), then each instant in the range that first shows one of them.
 */
function wallClockReading(expression: string, clock: WallClock): string[] {
  const day = 86_400_000;
  const wallTimes = new Set(
    scheduleSlots(expression, 'UTC', new Date(clock.from - 2 * day), new Date(clock.to + 2 * day), {
      limit: 100_000,
    }).map((d) => d.getTime()),
  );
  return clock.firsts
    .filter(({ wall }) => wallTimes.has(wall))
    .map(({ instant }) => new Date(instant).toISOString().slice(0, 16));
}
