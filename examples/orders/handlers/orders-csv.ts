// The orders file format, shared by the handlers: parsing, validation and totals are pure functions.

/** The header every orders file starts with, exactly. */
export const ordersHeader = 'order_id,customer_id,order_date,amount,currency';

const columnCount = ordersHeader.split(',').length;

export interface Order {
  readonly orderId: string;
  readonly customerId: string;
  /** YYYY-MM-DD */
  readonly orderDate: string;
  /** In the currency's minor unit (cents), so sums are exact. */
  readonly amountCents: number;
  /** ISO 4217, such as EUR. */
  readonly currency: string;
}

export type ParsedOrders =
  | { readonly ok: true; readonly orders: readonly Order[] }
  | { readonly ok: false; readonly problems: readonly string[]; readonly reason: string };

/** What ingest found: one orders object, or every object of a scheduled day. */
export type OrdersSource =
  | {
      readonly bucket: string;
      readonly key: string;
      readonly versionId?: string;
      readonly rows: number;
      readonly bytes: number;
    }
  | {
      readonly bucket: string;
      readonly day: string;
      readonly keys: readonly string[];
      readonly rows: number;
      readonly bytes: number;
    };

export interface SourceObject {
  readonly key: string;
  readonly versionId?: string;
}

export function sourceObjects(source: OrdersSource): readonly SourceObject[] {
  if ('keys' in source) return source.keys.map((key) => ({ key }));
  return [
    source.versionId === undefined ? { key: source.key } : { key: source.key, versionId: source.versionId },
  ];
}

/** The number of order rows: lines after the header that are not blank. */
export function countOrderRows(text: string): number {
  return Math.max(0, contentLines(text).length - 1);
}

/**
 * Parses an orders file and checks every row: the header exactly, a unique order_id, a real date,
 * an amount with at most two decimals, and a three-letter currency code.
 */
export function parseOrdersCsv(text: string): ParsedOrders {
  const [header, ...rows] = contentLines(text);
  if (header === undefined)
    return failed([`line 1: the file is empty, expected the header "${ordersHeader}"`]);
  if (header.text !== ordersHeader) {
    return failed([`line ${header.number}: header is "${header.text}", expected "${ordersHeader}"`]);
  }
  const orders: Order[] = [];
  const problems: string[] = [];
  const firstLineOf = new Map<string, number>();
  for (const { number, text: line } of rows) {
    const fields = splitCsvLine(line);
    if (fields === undefined) {
      problems.push(`line ${number}: a quoted field is not closed`);
      continue;
    }
    if (fields.length !== columnCount) {
      problems.push(`line ${number}: expected ${columnCount} fields, found ${fields.length}`);
      continue;
    }
    const [orderId = '', customerId = '', orderDate = '', amount = '', currency = ''] = fields;
    const rowProblems = [
      orderIdProblem(orderId, firstLineOf),
      customerId === '' ? 'customer_id is empty' : undefined,
      isCalendarDate(orderDate) ? undefined : `order_date "${orderDate}" is not a date (YYYY-MM-DD)`,
      amountProblem(amount),
      /^[A-Z]{3}$/.test(currency) ? undefined : `currency "${currency}" is not a 3-letter code like EUR`,
    ].filter((problem) => problem !== undefined);
    if (!firstLineOf.has(orderId)) firstLineOf.set(orderId, number);
    problems.push(...rowProblems.map((problem) => `line ${number}: ${problem}`));
    if (rowProblems.length === 0) {
      orders.push({ orderId, customerId, orderDate, amountCents: toCents(amount), currency });
    }
  }
  return problems.length === 0 ? { ok: true, orders } : failed(problems);
}

export interface DailyTotal {
  readonly day: string;
  readonly currency: string;
  readonly orders: number;
  readonly amount: number;
}

/** Order count and amount per day and currency, sorted by day, then currency. */
export function dailyTotals(orders: readonly Order[]): DailyTotal[] {
  const groups = new Map<string, { day: string; currency: string; orders: number; cents: number }>();
  for (const order of orders) {
    const id = `${order.orderDate} ${order.currency}`;
    const group = groups.get(id) ?? { day: order.orderDate, currency: order.currency, orders: 0, cents: 0 };
    group.orders += 1;
    group.cents += order.amountCents;
    groups.set(id, group);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, { day, currency, orders: count, cents }]) => ({
      day,
      currency,
      orders: count,
      amount: cents / 100,
    }));
}

/** The amount per currency over all days. */
export function currencyTotals(daily: readonly DailyTotal[]): Record<string, number> {
  const cents: Record<string, number> = {};
  for (const { currency, amount } of daily)
    cents[currency] = (cents[currency] ?? 0) + Math.round(amount * 100);
  return Object.fromEntries(Object.entries(cents).map(([currency, total]) => [currency, total / 100]));
}

// A gate reason lands in the ledger and in alerts, so it names the first few problems only.
const reasonLimit = 3;

function failed(problems: readonly string[]): ParsedOrders {
  const shown = problems.slice(0, reasonLimit).join('; ');
  const more = problems.length - reasonLimit;
  return { ok: false, problems, reason: more > 0 ? `${shown}; and ${more} more` : shown };
}

function contentLines(text: string): { number: number; text: string }[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line, index) => ({ number: index + 1, text: line }))
    .filter((line) => line.text.trim() !== '');
}

/** Splits one CSV line (RFC 4180 quoting, no line breaks inside fields); undefined if a quote is open. */
function splitCsvLine(line: string): string[] | undefined {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"' && field === '') {
      quoted = true;
    } else if (char === ',') {
      fields.push(field);
      field = '';
    } else {
      field += char;
    }
  }
  if (quoted) return undefined;
  fields.push(field);
  return fields;
}

function orderIdProblem(orderId: string, firstLineOf: ReadonlyMap<string, number>): string | undefined {
  if (orderId === '') return 'order_id is empty';
  const first = firstLineOf.get(orderId);
  return first === undefined ? undefined : `order_id "${orderId}" repeats line ${first}`;
}

function amountProblem(amount: string): string | undefined {
  if (!/^-?\d+(\.\d+)?$/.test(amount)) return `amount "${amount}" is not a number`;
  if (!/^-?\d+(\.\d{1,2})?$/.test(amount)) return `amount "${amount}" has more than 2 decimals`;
  return undefined;
}

function toCents(amount: string): number {
  const [whole = '0', fraction = ''] = amount.replace('-', '').split('.');
  const cents = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  return amount.startsWith('-') ? -cents : cents;
}

function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}
