import conditionParser from 'dynalite/db/conditionParser.js';
import updateParser from 'dynalite/db/updateParser.js';

/** What dynalite's expression parsers read and change: see `memoizeExpressionParsers`. */
interface ParseContext {
  attrNames?: Record<string, unknown>;
  attrVals?: Record<string, unknown>;
  unusedAttrNames?: Record<string, unknown>;
  unusedAttrVals?: Record<string, unknown>;
  [other: string]: unknown;
}

type Parse = (input: string, options?: { context?: ParseContext }) => unknown;

interface ExpressionParser {
  parse: Parse;
  [UNMEMOIZED]?: Parse;
}

/**
 * dynalite's own `parse`, kept on the parser's module when memoized: the mark that it is (once per
 * process, however often this module loads), and what the tests compare the memo with.
 */
export const UNMEMOIZED = Symbol.for('stepwise.dynaliteExpressionParse');

/** Parses kept per parser; past this many the memo starts over. */
const MAX_KEPT = 1_000;

interface Parsed {
  /** The parse tree as the parser returned it (copied, so that no caller's change reaches it). */
  readonly tree: unknown;
  /** The `#names` and `:values` the expression uses, which the parser strikes from the unused ones. */
  readonly names: readonly string[];
  readonly values: readonly string[];
}

/**
 * dynalite parses a request's UpdateExpression and ConditionExpression with a PEG parser on every
 * call, most of the CPU of an UpdateItem and, by far, most of what it allocates. The dispatcher sends
 * the same few expressions again and again, often with the same values (a claim retried, a release),
 * so each parse is kept, keyed by the expression and the request's ExpressionAttributeNames and
 * ExpressionAttributeValues, which are all a parse reads besides two constant functions (`isReserved`,
 * `compare`). A parse has one effect besides its tree: it strikes each name and value it uses from
 * `unusedAttrNames` / `unusedAttrVals`, which dynalite then reports as unused. A parse is therefore run
 * on a copy of the context whose unused sets hold every name and value, which tells which ones it used,
 * and those are struck from the request's own context, on the first parse and on every repeat alike.
 * Each repeat gets its own copy of the tree (dynalite rewrites a key condition's tree in place), with
 * each object's prototype as the parser made it. A parse that throws (a malformed expression) is not
 * kept: the next one throws the same way.
 *
 * dynalite's validations call `parser.parse(...)` on the parser module's exports, so replacing `parse`
 * there serves every dynalite in this process (all of them the local engine's); no file in
 * node_modules is changed. Should a later dynalite read anything else, the copies would differ from
 * its own answers: test/local/dynalite-expressions.test.ts compares the two on the expressions the
 * platform sends.
 */
export function memoizeExpressionParsers(): void {
  for (const parser of [conditionParser, updateParser] as ExpressionParser[]) memoize(parser);
}

function memoize(parser: ExpressionParser): void {
  if (parser[UNMEMOIZED]) return;
  const parse = parser.parse.bind(parser);
  parser[UNMEMOIZED] = parse;
  const kept = new Map<string, Parsed>();
  parser.parse = (input, options) => {
    const context = options?.context;
    if (typeof input !== 'string' || context === undefined) return parse(input, options);
    const key = `${input}\u0000${JSON.stringify(context.attrNames ?? null)}\u0000${JSON.stringify(context.attrVals ?? null)}`;
    let parsed = kept.get(key);
    if (parsed === undefined) {
      const probe: ParseContext = {
        ...context,
        unusedAttrNames: everyKey(context.attrNames),
        unusedAttrVals: everyKey(context.attrVals),
      };
      const tree = parse(input, { ...options, context: probe });
      parsed = {
        tree,
        names: Object.keys(context.attrNames ?? {}).filter(
          (name) => !(name in (probe.unusedAttrNames ?? {})),
        ),
        values: Object.keys(context.attrVals ?? {}).filter(
          (value) => !(value in (probe.unusedAttrVals ?? {})),
        ),
      };
      strike(context, parsed);
      if (isPlainTree(tree)) {
        if (kept.size >= MAX_KEPT) kept.clear();
        kept.set(key, { ...parsed, tree: copyOf(tree) });
      }
      return tree;
    }
    strike(context, parsed);
    return copyOf(parsed.tree);
  };
}

/** Whether a tree holds only what `copyOf` copies exactly: arrays, plain objects and primitives. */
function isPlainTree(value: unknown): boolean {
  if (value === null || typeof value !== 'object')
    return typeof value !== 'function' && typeof value !== 'symbol';
  if (Array.isArray(value)) return value.every(isPlainTree);
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  return Object.values(value).every(isPlainTree);
}

/**
 * A deep copy of a plain tree, each object with the prototype it had: the parsers return some maps
 * without one (`Object.create(null)`, such as `nestedPaths`), which dynalite then reads by attribute
 * name, and a copy with Object.prototype would answer for an attribute named `constructor`.
 */
function copyOf(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyOf);
  const copy: Record<string, unknown> = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
  for (const [key, item] of Object.entries(value)) {
    // An own "__proto__" (a path of that name) is a key like any other, never the prototype's setter.
    if (key === '__proto__')
      Object.defineProperty(copy, key, {
        value: copyOf(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else copy[key] = copyOf(item);
  }
  return copy;
}

function everyKey(record: Record<string, unknown> | undefined): Record<string, true> {
  return Object.fromEntries(Object.keys(record ?? {}).map((key) => [key, true]));
}

function strike(context: ParseContext, parsed: Parsed): void {
  for (const name of parsed.names) delete context.unusedAttrNames?.[name];
  for (const value of parsed.values) delete context.unusedAttrVals?.[value];
}
