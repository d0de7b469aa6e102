import { didYouMean } from './did-you-mean.ts';

/**
 * Checks EventBridge Scheduler expressions offline, so a typo fails at `stepwise validate` rather than
 * at `cdk deploy`. Returns the problem in words, or undefined when the expression is valid.
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 */
export function checkScheduleExpression(expression: string): string | undefined {
  const rate = /^rate\((.*)\)$/.exec(expression);
  if (rate) return checkRate(rate[1] ?? '');
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return checkCron(cron[1] ?? '');
  const at = /^at\((.*)\)$/.exec(expression);
  if (at) {
    return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(at[1] ?? '') && !Number.isNaN(Date.parse(`${at[1]}Z`))
      ? undefined
      : `'${expression}' is not a valid one-time schedule; write at(yyyy-mm-ddThh:mm:ss)`;
  }
  return `'${expression}' is not a schedule expression; write cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)`;
}

function checkRate(body: string): string | undefined {
  const match = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body.trim());
  if (!match)
    return `'rate(${body})' is not a valid rate; write rate(5 minutes), rate(1 hour) or rate(2 days)`;
  const value = Number(match[1]);
  const unit = match[2] ?? '';
  if (value < 1) return `'rate(${body})' must be at least 1; write rate(1 ${unit.replace(/s$/, '')}) or more`;
  const plural = unit.endsWith('s');
  if (value === 1 && plural)
    return `'rate(${body})' takes the singular unit; write rate(1 ${unit.slice(0, -1)})`;
  if (value > 1 && !plural) return `'rate(${body})' takes the plural unit; write rate(${value} ${unit}s)`;
  return undefined;
}

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly extra: RegExp;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59, extra: /^$/ },
  { name: 'hours', min: 0, max: 23, extra: /^$/ },
  { name: 'day-of-month', min: 1, max: 31, extra: /^(\?|L|LW|\d{1,2}W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS, extra: /^$/ },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, extra: /^(\?|L|\d#[1-5]|\dL)$/ },
  { name: 'year', min: 1970, max: 2199, extra: /^$/ },
];

function checkCron(body: string): string | undefined {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) {
    return `'cron(${body})' has ${parts.length} fields but needs 6: minutes hours day-of-month month day-of-week year, like cron(0 2 * * ? *)`;
  }
  for (const [index, field] of CRON_FIELDS.entries()) {
    const value = parts[index] ?? '';
    const zeroStep = value.split(',').find((item) => /\/0+$/.test(item));
    if (zeroStep) {
      return `'cron(${body})': ${field.name} field '${value}': step '/${zeroStep.split('/')[1]}' never advances; use /1 or more, like ${field.name === 'minutes' ? '0/15' : '*/2'}`;
    }
    if (!cronFieldIsValid(value, field)) {
      return `'cron(${body})': ${field.name} field '${value}' is not valid (allowed: ${field.min}-${field.max}${field.names ? `, ${field.names[0]}-${field.names.at(-1)}` : ''}, *, lists, ranges and /steps)`;
    }
  }
  const dayOfMonth = parts[2];
  const dayOfWeek = parts[4];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return `'cron(${body})': exactly one of day-of-month and day-of-week must be '?', like cron(0 2 * * ? *)`;
  }
  return undefined;
}

function cronFieldIsValid(value: string, field: CronField): boolean {
  if (field.extra.test(value)) return true;
  return value.split(',').every((item) => {
    const [range, step] = item.split('/');
    if (step !== undefined && !/^\d+$/.test(step)) return false;
    if (range === '*') return true;
    const bounds = (range ?? '').split('-');
    if (bounds.length > 2) return false;
    return bounds.every((bound) => cronValueIsValid(bound, field));
  });
}

function cronValueIsValid(bound: string, field: CronField): boolean {
  if (field.names?.includes(bound.toUpperCase())) return true;
  if (!/^\d+$/.test(bound)) return false;
  const number = Number(bound);
  return number >= field.min && number <= field.max;
}

export function checkTimezone(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return undefined;
  } catch {
    const close = didYouMean(timezone, Intl.supportedValuesOf('timeZone'));
    return `'${timezone}' is not an IANA time zone${close}; write one like 'UTC' or 'Europe/Berlin'`;
  }
}
