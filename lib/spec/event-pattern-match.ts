/**
 * EventBridge event-pattern matching, so the rules a template deploys route events locally exactly as
 * they would on AWS. Semantics follow EventBridge (and aws/event-ruler, the library behind it):
 *
 * - every field a pattern names must match (AND); a field's array lists alternatives (OR);
 * - an event array matches when any of its elements does, and objects inside arrays are matched
 *   element by element, so two fields of one pattern never match across different elements;
 * - leaf filters see only leaf values (strings, numbers, booleans, null); an object is not a leaf, so
 *   `exists: true` does not match it and `exists: false` does.
 *
 * A pattern is compiled once, up front: an operator EventBridge does not know, or a malformed one,
 * raises `EventPatternError` naming the rule, the place in the pattern and the operator, instead of
 * matching or not matching in silence.
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */

/** An event pattern as written in a rule's `EventPattern`: field names mapping to value arrays or nested patterns. */
export type EventPattern = { readonly [field: string]: unknown };

/** A pattern EventBridge would refuse: it names the rule, where in the pattern, and what is wrong. */
export class EventPatternError extends Error {
  override readonly name = 'EventPatternError';
  readonly rule: string | undefined;
  /** Where in the pattern, as `detail.object.key[0]`. */
  readonly path: string;
  /** What is wrong there, and the fix, without the rule and the path. */
  readonly problem: string;

  constructor(problem: string, options: { rule?: string | undefined; path: string }) {
    const rule = options.rule ? `rule '${options.rule}'` : 'event pattern';
    super(`${rule}: ${options.path ? `${options.path}: ` : ''}${problem}`);
    this.rule = options.rule;
    this.path = options.path;
    this.problem = problem;
  }
}

export interface PatternOptions {
  /** The rule the pattern belongs to, named in errors. */
  readonly rule?: string;
}

/** Compiles a pattern into a predicate over events, checking every operator first. */
export function compilePattern(pattern: unknown, options: PatternOptions = {}): (event: unknown) => boolean {
  const match = compileObject(pattern, [], options.rule);
  return (event) => match(event);
}

/** Whether an event matches a pattern. Throws `EventPatternError` if the pattern is not one EventBridge accepts. */
export function matchesPattern(pattern: unknown, event: unknown, options: PatternOptions = {}): boolean {
  return compilePattern(pattern, options)(event);
}

/** The operators EventBridge supports inside a value array, as `[{ "<operator>": ... }]`. */
export const PATTERN_OPERATORS = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
] as const;

type Leaf = string | number | boolean | null;
type Path = readonly (string | number)[];
/** Matches the leaf values found at one field of the event (none when the field is absent). */
type LeafMatcher = (values: readonly Leaf[]) => boolean;
type NodeMatcher = (node: unknown) => boolean;

function compileObject(pattern: unknown, path: Path, rule: string | undefined): NodeMatcher {
  const fail = (problem: string, at: Path = path) =>
    new EventPatternError(problem, { rule, path: formatPath(at) });
  if (!isObject(pattern)) {
    throw fail(`a pattern must be a JSON object of fields; got ${describe(pattern)}`);
  }
  const entries = Object.entries(pattern);
  if (entries.length === 0) throw fail('a pattern must name at least one field; got {}');
  const fields = entries.map(([key, value]): NodeMatcher => {
    const at = [...path, key];
    if (key === '$or' && Array.isArray(value)) {
      if (value.length < 2)
        throw fail(`'$or' needs at least two alternative patterns; got ${value.length}`, at);
      const alternatives = value.map((alternative, i) => compileObject(alternative, [...at, i], rule));
      return (node) => alternatives.some((alternative) => alternative(node));
    }
    if (Array.isArray(value)) {
      const leaf = compileValues(value, at, rule);
      return (node) => leaf(leafValues(node, key));
    }
    if (isObject(value)) {
      const child = compileObject(value, at, rule);
      return (node) => objectsAt(node, key).some(child);
    }
    throw fail(
      `a field's value must be an array of values to match or an object of nested fields; got ${describe(value)} (write [${JSON.stringify(value)}] to match it exactly)`,
      at,
    );
  });
  return (node) => fields.every((field) => field(node));
}

function compileValues(values: readonly unknown[], path: Path, rule: string | undefined): LeafMatcher {
  if (values.length === 0) {
    throw new EventPatternError('an empty array matches nothing; list at least one value', {
      rule,
      path: formatPath(path),
    });
  }
  const matchers = values.map((value, i): LeafMatcher => {
    if (isLeaf(value)) return (leaves) => leaves.some((leaf) => leaf === value);
    if (isObject(value)) return compileOperator(value, [...path, i], rule);
    throw new EventPatternError(
      `a value to match must be a string, number, boolean, null or an operator object; got ${describe(value)}`,
      { rule, path: formatPath([...path, i]) },
    );
  });
  return (leaves) => matchers.some((matcher) => matcher(leaves));
}

function compileOperator(filter: Record<string, unknown>, path: Path, rule: string | undefined): LeafMatcher {
  const at = formatPath(path);
  const fail = (problem: string) => new EventPatternError(problem, { rule, path: at });
  const keys = Object.keys(filter);
  if (keys.length !== 1) {
    throw fail(`an operator object holds exactly one operator; got ${describe(filter)}`);
  }
  const operator = keys[0] as string;
  const argument = filter[operator];
  const anyString = (test: (value: string) => boolean): LeafMatcher => {
    return (leaves) => leaves.some((leaf) => typeof leaf === 'string' && test(leaf));
  };
  switch (operator) {
    case 'prefix':
    case 'suffix': {
      const test = affixTest(operator, argument, fail);
      return anyString(test);
    }
    case 'equals-ignore-case': {
      if (typeof argument !== 'string')
        throw fail(`'equals-ignore-case' takes a string; got ${describe(argument)}`);
      const folded = argument.toLowerCase();
      return anyString((value) => value.toLowerCase() === folded);
    }
    case 'wildcard': {
      if (typeof argument !== 'string') throw fail(`'wildcard' takes a string; got ${describe(argument)}`);
      const regex = wildcardRegex(argument, fail);
      return anyString((value) => regex.test(value));
    }
    case 'anything-but':
      return anythingBut(argument, fail);
    case 'numeric': {
      const test = numericTest(argument, fail);
      return (leaves) => leaves.some((leaf) => typeof leaf === 'number' && test(leaf));
    }
    case 'exists': {
      if (typeof argument !== 'boolean')
        throw fail(`'exists' takes true or false; got ${describe(argument)}`);
      return (leaves) => leaves.length > 0 === argument;
    }
    case 'cidr': {
      if (typeof argument !== 'string')
        throw fail(`'cidr' takes a CIDR block string; got ${describe(argument)}`);
      const block = parseCidr(argument);
      if (!block)
        throw fail(`'cidr' takes a block such as "10.0.0.0/24" or "2001:db8::/32"; got "${argument}"`);
      return anyString((value) => inCidr(block, value));
    }
    default:
      throw fail(
        `unknown operator '${operator}'; EventBridge event patterns support ${PATTERN_OPERATORS.join(', ')} and $or`,
      );
  }
}

type Fail = (problem: string) => EventPatternError;

/** `prefix` and `suffix`: a string, or `{ "equals-ignore-case": string }` to ignore case. */
function affixTest(operator: 'prefix' | 'suffix', argument: unknown, fail: Fail): (value: string) => boolean {
  const has = (value: string, affix: string) =>
    operator === 'prefix' ? value.startsWith(affix) : value.endsWith(affix);
  if (typeof argument === 'string') return (value) => has(value, argument);
  if (isObject(argument) && Object.keys(argument).length === 1) {
    const ignoringCase = argument['equals-ignore-case'];
    if (typeof ignoringCase === 'string') {
      const folded = ignoringCase.toLowerCase();
      return (value) => has(value.toLowerCase(), folded);
    }
  }
  throw fail(`'${operator}' takes a string or { "equals-ignore-case": string }; got ${describe(argument)}`);
}

/**
 * `anything-but`: a value, a list of values (all strings or all numbers), or one of `prefix`, `suffix`,
 * `equals-ignore-case` and `wildcard` (the last two with a string or a list of strings). Like every
 * filter other than `exists: false`, it needs the field to be present.
 */
function anythingBut(argument: unknown, fail: Fail): LeafMatcher {
  const anyLeaf = (test: (leaf: Leaf) => boolean): LeafMatcher => {
    return (leaves) => leaves.some(test);
  };
  if (typeof argument === 'string' || typeof argument === 'number')
    return anyLeaf((leaf) => leaf !== argument);
  if (Array.isArray(argument)) {
    const allStrings = argument.every((v) => typeof v === 'string');
    const allNumbers = argument.every((v) => typeof v === 'number');
    if (argument.length === 0 || !(allStrings || allNumbers)) {
      throw fail(`'anything-but' takes a list of only strings or only numbers; got ${describe(argument)}`);
    }
    const excluded = new Set<unknown>(argument);
    return anyLeaf((leaf) => !excluded.has(leaf));
  }
  if (isObject(argument) && Object.keys(argument).length === 1) {
    const [operator, inner] = Object.entries(argument)[0] as [string, unknown];
    const stringsOf = (): string[] | undefined => {
      if (typeof inner === 'string') return [inner];
      if (Array.isArray(inner) && inner.length > 0 && inner.every((v) => typeof v === 'string')) return inner;
      return undefined;
    };
    const noneOf = (tests: ((value: string) => boolean)[]): LeafMatcher =>
      anyLeaf((leaf) => typeof leaf === 'string' && !tests.some((test) => test(leaf)));
    switch (operator) {
      case 'prefix':
        if (typeof inner === 'string') return noneOf([(value) => value.startsWith(inner)]);
        break;
      case 'suffix':
        if (typeof inner === 'string') return noneOf([(value) => value.endsWith(inner)]);
        break;
      case 'equals-ignore-case': {
        const strings = stringsOf();
        if (strings) {
          const folded = new Set(strings.map((s) => s.toLowerCase()));
          return noneOf([(value) => folded.has(value.toLowerCase())]);
        }
        break;
      }
      case 'wildcard': {
        const strings = stringsOf();
        if (strings) {
          const regexes = strings.map((s) => wildcardRegex(s, fail));
          return noneOf(regexes.map((regex) => (value: string) => regex.test(value)));
        }
        break;
      }
      default:
        throw fail(
          `unknown operator '${operator}' inside 'anything-but'; it supports prefix, suffix, equals-ignore-case and wildcard`,
        );
    }
    throw fail(
      `'anything-but' with '${operator}' takes a string${operator === 'prefix' || operator === 'suffix' ? '' : ' or a list of strings'}; got ${describe(inner)}`,
    );
  }
  throw fail(
    `'anything-but' takes a string, a number, a list of them, or an object such as { "prefix": "..." }; got ${describe(argument)}`,
  );
}

const LOWER_BOUNDS = new Set(['>', '>=']);
const UPPER_BOUNDS = new Set(['<', '<=']);

/** `numeric`: `["=", n]`, one bound such as `[">=", n]`, or a lower then an upper bound: `[">", 0, "<=", 5]`. */
function numericTest(argument: unknown, fail: Fail): (value: number) => boolean {
  const shape = `'numeric' takes ["<op>", number] or [">"|">=", number, "<"|"<=", number]`;
  if (!Array.isArray(argument) || (argument.length !== 2 && argument.length !== 4)) {
    throw fail(`${shape}; got ${describe(argument)}`);
  }
  const tests: ((value: number) => boolean)[] = [];
  for (let i = 0; i < argument.length; i += 2) {
    const op = argument[i];
    const bound = argument[i + 1];
    if (typeof bound !== 'number' || !Number.isFinite(bound))
      throw fail(`${shape}; got ${describe(argument)}`);
    const allowed =
      argument.length === 2 ? ['=', '<', '<=', '>', '>='] : i === 0 ? [...LOWER_BOUNDS] : [...UPPER_BOUNDS];
    if (typeof op !== 'string' || !allowed.includes(op)) throw fail(`${shape}; got ${describe(argument)}`);
    tests.push(comparison(op, bound));
  }
  return (value) => tests.every((test) => test(value));
}

function comparison(op: string, bound: number): (value: number) => boolean {
  switch (op) {
    case '=':
      return (value) => value === bound;
    case '<':
      return (value) => value < bound;
    case '<=':
      return (value) => value <= bound;
    case '>':
      return (value) => value > bound;
    default:
      return (value) => value >= bound;
  }
}

/**
 * `*` matches any run of characters, `\*` a literal star and `\\` a backslash. EventBridge refuses
 * consecutive stars and any other escape, so this does too.
 */
function wildcardRegex(pattern: string, fail: Fail): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') {
      if (pattern[i + 1] === '*') throw fail(`'wildcard' does not allow consecutive '*'; got "${pattern}"`);
      source += '.*';
    } else if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') {
        throw fail(`'wildcard' allows a backslash only before '*' or '\\'; got "${pattern}"`);
      }
      source += escapeRegex(next);
      i++;
    } else {
      source += escapeRegex(c);
    }
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

interface CidrBlock {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly mask: bigint;
}

function parseCidr(text: string): CidrBlock | undefined {
  const [address, bits, ...rest] = text.split('/');
  if (rest.length > 0 || address === undefined || bits === undefined || !/^\d+$/.test(bits)) return undefined;
  const ip = parseIp(address);
  if (!ip) return undefined;
  const width = ip.family === 4 ? 32 : 128;
  const prefix = Number(bits);
  if (prefix > width) return undefined;
  const all = (1n << BigInt(width)) - 1n;
  const mask = all ^ ((1n << BigInt(width - prefix)) - 1n);
  return { family: ip.family, network: ip.value & mask, mask };
}

function inCidr(block: CidrBlock, text: string): boolean {
  const ip = parseIp(text);
  return ip !== undefined && ip.family === block.family && (ip.value & block.mask) === block.network;
}

function parseIp(text: string): { family: 4 | 6; value: bigint } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((value, part) => (value << 8n) | BigInt(part), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string | undefined): string[] => (half ? half.split(':') : []);
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  // An embedded IPv4 tail (::ffff:10.0.0.1) stands for the last two groups.
  const last = (halves.length === 2 ? tail : head).at(-1);
  if (last?.includes('.')) {
    const v4 = parseIpv4(last);
    if (v4 === undefined) return undefined;
    const groups = [(v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)];
    (halves.length === 2 ? tail : head).splice(-1, 1, ...groups);
  }
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n);
}

/** The leaf values at one field of an event node: a scalar, or the scalars of an array (nested arrays flattened). */
function leafValues(node: unknown, key: string): Leaf[] {
  if (!isObject(node) || !Object.hasOwn(node, key)) return [];
  const value = node[key];
  if (Array.isArray(value)) return value.flat(Number.POSITIVE_INFINITY).filter(isLeaf);
  return isLeaf(value) ? [value] : [];
}

/**
 * The objects a nested pattern is matched against: the field's object, or each object in its array.
 * With none there, an empty object stands in, so `exists: false` below it still matches.
 */
function objectsAt(node: unknown, key: string): unknown[] {
  const value = isObject(node) && Object.hasOwn(node, key) ? node[key] : undefined;
  const objects = (Array.isArray(value) ? value.flat(Number.POSITIVE_INFINITY) : [value]).filter(isObject);
  return objects.length > 0 ? objects : [{}];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLeaf(value: unknown): value is Leaf {
  return (
    value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
  );
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text;
}

function formatPath(path: Path): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${key}` : key;
  return out;
}
