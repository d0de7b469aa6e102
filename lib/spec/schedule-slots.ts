import { checkScheduleExpression, checkTimezone } from './schedule-expression.ts';

/**
 * The times an EventBridge Scheduler schedule fires in a range, so `stepwise backfill --from --to` can
 * send the dispatcher one schedule event per slot, with the time the schedule itself would have sent.
 *
 * - The range is half-open: `from` is included, `to` is not, so consecutive backfills
 *   (`--from A --to B`, then `--from B --to C`) never send a slot twice.
 * - `cron(...)` is read on the wall clock of `timezone`, as EventBridge Scheduler reads it. On the night
 *   the clocks go forward, a wall time that does not exist never fires (a daily 02:30 Europe/Berlin
 *   schedule skips that day). On the night they go back, a wall time that happens twice fires once, at
 *   its first occurrence (a daily 02:00 fires at 02:00 summer time; a minutely schedule is silent for
 *   the repeated hour).
 * - `rate(n unit)` has no anchor a backfill could know: a deployed rate schedule counts from when it was
 *   created. Its slots here count from `from`, every n units of fixed length (a day is 24 hours, as
 *   EventBridge Scheduler counts it); `timezone` does not matter.
 * - `at(yyyy-mm-ddThh:mm:ss)` is one wall time in `timezone`: one slot when it falls in the range (none
 *   when the clocks skip it).
 *
 * Refuses more than `limit` slots with a {@link TooManySlotsError} that says how many there are and
 * where to cut the range. Works a day at a time: a year of minutely slots costs one offset lookup per
 * day, not per minute.
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 */
export function scheduleSlots(
  expression: string,
  timezone: string,
  from: Date,
  to: Date,
  options: ScheduleSlotsOptions = {},
): Date[] {
  const limit = options.limit ?? DEFAULT_SLOT_LIMIT;
  checkArguments(expression, timezone, from, to, limit);
  const range: Range = { from: from.getTime(), to: to.getTime() };
  const slots = new SlotCollector(limit);
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression.trim());
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(expression.trim());
  const cron = /^cron\((.*)\)$/.exec(expression.trim());
  if (rate) rateSlots(Number(rate[1]) * UNIT_MS[rate[2] as keyof typeof UNIT_MS], range, slots);
  else if (at) atSlot(at.slice(1).map(Number), timezone, range, slots);
  else cronSlots(parseCron(cron?.[1] ?? '', expression), timezone, range, slots);
  if (slots.firstBeyondLimit !== undefined) {
    const narrowedTo = new Date(slots.firstBeyondLimit);
    throw new TooManySlotsError({ expression, timezone, from, to, limit, count: slots.count, narrowedTo });
  }
  return slots.slots.map((t) => new Date(t));
}

/**
 * A slot as EventBridge Scheduler writes `<aws.scheduler.scheduled-time>`, like `2026-11-01T01:00:00Z`
 * (no milliseconds). A backfill sends its slots in this form, so the dispatcher receives exactly what the
 * schedule itself sends and derives the same run key, the one that dedupes a slot that already ran.
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html
 */
export function scheduledTimeText(slot: Date): string {
  return `${slot.toISOString().slice(0, 19)}Z`;
}

export const DEFAULT_SLOT_LIMIT = 10_000;

export interface ScheduleSlotsOptions {
  /**
   * The most slots to return; more is refused, so a typo in a range cannot start a million runs.
   * @default 10000
   */
  readonly limit?: number;
}

/** The arguments cannot give a list of slots: a bad expression, time zone or range. */
export class ScheduleSlotsError extends Error {
  override readonly name: string = 'ScheduleSlotsError';
}

/** The range holds more slots than the limit. Says how many, and where a range of `limit` slots ends. */
export class TooManySlotsError extends ScheduleSlotsError {
  override readonly name = 'TooManySlotsError';
  /** How many slots the whole range holds. */
  readonly count: number;
  readonly limit: number;
  /** An exclusive `to` that keeps exactly the first `limit` slots: the slot after them. */
  readonly narrowedTo: Date;

  constructor(request: {
    expression: string;
    timezone: string;
    from: Date;
    to: Date;
    limit: number;
    count: number;
    narrowedTo: Date;
  }) {
    const { narrowedTo } = request;
    super(
      `${request.expression} (${request.timezone}) fires ${request.count} times from ` +
        `${request.from.toISOString()} to ${request.to.toISOString()}, more than the limit of ${request.limit}; ` +
        `narrow the range: to ${narrowedTo.toISOString()} covers the first ${request.limit}, ` +
        `then continue from there`,
    );
    this.count = request.count;
    this.limit = request.limit;
    this.narrowedTo = narrowedTo;
  }
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UNIT_MS = { minute: MINUTE, hour: HOUR, day: DAY } as const;

interface Range {
  readonly from: number;
  readonly to: number;
}

/** Keeps the first `limit` slots, added in time order, and counts the rest without storing them. */
class SlotCollector {
  readonly slots: number[] = [];
  count = 0;
  firstBeyondLimit: number | undefined;

  constructor(private readonly limit: number) {}

  add(time: number): void {
    if (this.count < this.limit) this.slots.push(time);
    else if (this.count === this.limit) this.firstBeyondLimit = time;
    this.count++;
  }

  /** Once past the limit, a run of slots only needs counting. */
  get full(): boolean {
    return this.count > this.limit;
  }
}

function checkArguments(expression: string, timezone: string, from: Date, to: Date, limit: number): void {
  const problem = checkScheduleExpression(expression.trim()) ?? checkTimezone(timezone);
  if (problem) throw new ScheduleSlotsError(problem);
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!(value instanceof Date) || Number.isNaN(value.getTime()))
      throw new ScheduleSlotsError(
        `${name} is not a valid time (got ${String(value)}); give an ISO 8601 time like 2026-11-01T00:00:00Z`,
      );
  }
  if (from.getTime() >= to.getTime()) {
    throw new ScheduleSlotsError(
      `the range is empty: from ${from.toISOString()} is not before to ${to.toISOString()}; ` +
        `to is exclusive, so to include the slot at ${from.toISOString()} give to ${new Date(from.getTime() + MINUTE).toISOString()}`,
    );
  }
  if (!Number.isInteger(limit) || limit < 1)
    throw new ScheduleSlotsError(`the slot limit must be a whole number of at least 1, got ${limit}`);
}

function rateSlots(step: number, range: Range, slots: SlotCollector): void {
  const count = Math.ceil((range.to - range.from) / step);
  for (let i = 0; i < count && !slots.full; i++) slots.add(range.from + i * step);
  slots.count = count;
}

function atSlot(fields: number[], timezone: string, range: Range, slots: SlotCollector): void {
  const [year, month, day, hour, minute, second] = fields as [number, number, number, number, number, number];
  const time = wallToInstant(timezone, Date.UTC(year, month - 1, day, hour, minute, second));
  if (time !== undefined && time >= range.from && time < range.to) slots.add(time);
}

// ---- cron ------------------------------------------------------------------------------------------

interface CalendarDay {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** 1 = Sunday ... 7 = Saturday, as EventBridge numbers days of the week. */
  readonly weekday: number;
  readonly daysInMonth: number;
}

interface Cron {
  /** Offsets from the wall-clock midnight of a day, ascending. */
  readonly timesOfDay: readonly number[];
  /** Indexed by month, 1-12. */
  readonly months: readonly boolean[];
  readonly years: readonly boolean[];
  readonly matchesDay: (day: CalendarDay) => boolean;
}

interface CronField {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MINUTES: CronField = { min: 0, max: 59 };
const HOURS: CronField = { min: 0, max: 23 };
const DAYS_OF_MONTH: CronField = { min: 1, max: 31 };
const MONTHS: CronField = {
  min: 1,
  max: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
const WEEKDAYS: CronField = { min: 1, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] };
const YEARS: CronField = { min: 1970, max: 2199 };
const SATURDAY = 7;
const SUNDAY = 1;

/** Parses a cron body that checkScheduleExpression has accepted. */
function parseCron(body: string, expression: string): Cron {
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = body.trim().split(/\s+/) as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const minuteSet = members(fieldSet(minutes, MINUTES, expression), MINUTES);
  const hourSet = members(fieldSet(hours, HOURS, expression), HOURS);
  return {
    timesOfDay: hourSet.flatMap((h) => minuteSet.map((m) => h * HOUR + m * MINUTE)),
    months: fieldSet(month, MONTHS, expression),
    years: fieldSet(year, YEARS, expression),
    matchesDay:
      dayOfMonth === '?' ? dayOfWeekRule(dayOfWeek, expression) : dayOfMonthRule(dayOfMonth, expression),
  };
}

/**
 * A field's values as a lookup table indexed by value. A range whose end is below its start wraps
 * around, as in Quartz, whose syntax EventBridge follows: hours `22-2` are 22, 23, 0, 1, 2.
 */
function fieldSet(text: string, field: CronField, expression: string): boolean[] {
  const set = new Array<boolean>(field.max + 1).fill(false);
  const size = field.max - field.min + 1;
  for (const item of text.split(',')) {
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1)
      throw new ScheduleSlotsError(`'${expression}': step '/${stepText}' never advances; use /1 or more`);
    let start = field.min;
    let end = field.max;
    if (range !== '*') {
      const [first = '', last] = range.split('-');
      start = fieldValue(first, field);
      end = last !== undefined ? fieldValue(last, field) : stepText === undefined ? start : field.max;
    }
    const span = end >= start ? end - start : end - start + size;
    for (let i = 0; i <= span; i += step) set[((start - field.min + i) % size) + field.min] = true;
  }
  return set;
}

function fieldValue(text: string, field: CronField): number {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  return named >= 0 ? named + field.min : Number(text);
}

function members(set: readonly boolean[], field: CronField): number[] {
  const values: number[] = [];
  for (let value = field.min; value <= field.max; value++) if (set[value]) values.push(value);
  return values;
}

/** Day-of-month: a list, `L` (last day), `LW` (last weekday) or `nW` (the weekday nearest day n). */
function dayOfMonthRule(text: string, expression: string): (day: CalendarDay) => boolean {
  if (text === 'L') return (d) => d.day === d.daysInMonth;
  if (text === 'LW') return (d) => d.day === nearestWeekday(d, d.daysInMonth);
  const weekdayNear = /^(\d{1,2})W$/.exec(text);
  if (weekdayNear) {
    const n = Number(weekdayNear[1]);
    return (d) => n <= d.daysInMonth && d.day === nearestWeekday(d, n);
  }
  const set = fieldSet(text, DAYS_OF_MONTH, expression);
  return (d) => set[d.day] === true;
}

/** Day-of-week: a list, `L` (Saturday), `nL` (the last weekday n of the month) or `n#k` (the k-th). */
function dayOfWeekRule(text: string, expression: string): (day: CalendarDay) => boolean {
  if (text === 'L') return (d) => d.weekday === SATURDAY;
  const last = /^(\w+)L$/.exec(text);
  if (last) {
    const weekday = fieldValue(last[1] as string, WEEKDAYS);
    return (d) => d.weekday === weekday && d.day + 7 > d.daysInMonth;
  }
  const nth = /^(\w+)#(\d)$/.exec(text);
  if (nth) {
    const weekday = fieldValue(nth[1] as string, WEEKDAYS);
    const k = Number(nth[2]);
    return (d) => d.weekday === weekday && Math.ceil(d.day / 7) === k;
  }
  const set = fieldSet(text, WEEKDAYS, expression);
  return (d) => set[d.weekday] === true;
}

/**
 * The Monday-to-Friday day nearest day n of d's month, never leaving the month: a Saturday moves back to
 * Friday (or on the 1st forward to Monday the 3rd), a Sunday forward to Monday (or on the last day back
 * to Friday).
 */
function nearestWeekday(d: CalendarDay, n: number): number {
  const weekday = new Date(Date.UTC(d.year, d.month - 1, n)).getUTCDay() + 1;
  if (weekday === SATURDAY) return n === 1 ? 3 : n - 1;
  if (weekday === SUNDAY) return n === d.daysInMonth ? n - 2 : n + 1;
  return n;
}

/**
 * Walks the wall-clock days that can hold a slot in the range, skipping years and months the
 * expression excludes, and emits each matching day's times in order.
 */
function cronSlots(cron: Cron, timezone: string, range: Range, slots: SlotCollector): void {
  // A wall-clock day is at most 14 hours from its UTC day, so one day either side covers the range.
  const last = floorDay(range.to - 1) + DAY;
  let day = floorDay(range.from) - DAY;
  while (day <= last) {
    const date = new Date(day);
    const year = date.getUTCFullYear();
    const month = date.getUTCMonth() + 1;
    if (!cron.years[year]) {
      if (year > YEARS.max) return;
      day = Date.UTC(year + 1, 0, 1);
      continue;
    }
    if (!cron.months[month]) {
      day = Date.UTC(year, month, 1);
      continue;
    }
    const calendarDay: CalendarDay = {
      year,
      month,
      day: date.getUTCDate(),
      weekday: date.getUTCDay() + 1,
      daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
    };
    if (cron.matchesDay(calendarDay)) emitDay(day, cron.timesOfDay, timezone, range, slots);
    day += DAY;
  }
}

/**
 * Emits one wall-clock day's slots. Most days have one UTC offset throughout, and every slot is the
 * wall time minus that offset. A day near a clock change resolves each wall time on its own.
 */
function emitDay(
  wallMidnight: number,
  timesOfDay: readonly number[],
  timezone: string,
  range: Range,
  slots: SlotCollector,
): void {
  // Every instant whose wall time falls on this day lies between these two (offsets are -12h to +14h).
  const before = offsetAt(timezone, wallMidnight - 14 * HOUR);
  const after = offsetAt(timezone, wallMidnight + DAY + 12 * HOUR);
  if (before === after) {
    const first = wallMidnight + (timesOfDay[0] ?? 0) - before;
    const lastOfDay = wallMidnight + (timesOfDay.at(-1) ?? 0) - before;
    if (slots.full && first >= range.from && lastOfDay < range.to) {
      slots.count += timesOfDay.length;
      return;
    }
    for (const time of timesOfDay) {
      const instant = wallMidnight + time - before;
      if (instant >= range.from && instant < range.to) slots.add(instant);
    }
    return;
  }
  for (const time of timesOfDay) {
    const instant = wallToInstant(timezone, wallMidnight + time);
    if (instant !== undefined && instant >= range.from && instant < range.to) slots.add(instant);
  }
}

function floorDay(time: number): number {
  return Math.floor(time / DAY) * DAY;
}

// ---- time zones --------------------------------------------------------------------------------------

/**
 * The instant a wall-clock time (given as if it were UTC) happens in the zone: undefined in a
 * spring-forward gap, the first of the two in a fall-back overlap.
 */
function wallToInstant(timezone: string, wall: number): number | undefined {
  // An instant with this wall time is within 14 hours before or 12 hours after the wall time read as
  // UTC; the offsets at the two ends are the only candidates, as zones change offset at most once a day.
  const candidates = new Set([offsetAt(timezone, wall - 14 * HOUR), offsetAt(timezone, wall + 12 * HOUR)]);
  let earliest: number | undefined;
  for (const offset of candidates) {
    const instant = wall - offset;
    if (offsetAt(timezone, instant) === offset && (earliest === undefined || instant < earliest))
      earliest = instant;
  }
  return earliest;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset at an instant, in milliseconds (Europe/Berlin in summer: +7 200 000). */
function offsetAt(timezone: string, instant: number): number {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, formatter);
  }
  const part: Record<string, number> = {};
  for (const { type, value } of formatter.formatToParts(instant)) part[type] = Number(value);
  const wall = Date.UTC(
    part.year as number,
    (part.month as number) - 1,
    part.day as number,
    part.hour as number,
    part.minute as number,
    part.second as number,
  );
  return wall - (instant - (((instant % 1000) + 1000) % 1000));
}
