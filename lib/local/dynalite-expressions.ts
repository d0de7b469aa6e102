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
 * Each repeat gets its own copy of the tree (dynalite rewrites a key condition's tree in place). A
 * parse that throws (a malformed expression) is not kept: the next one throws the same way.
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
      try {
        if (kept.size >= MAX_KEPT) kept.clear();
        kept.set(key, { ...parsed, tree: structuredClone(tree) });
      } catch {
        // A tree that is not plain data cannot be copied: it is not kept.
      }
      return tree;
    }
    strike(context, parsed);
    return structuredClone(parsed.tree);
  };
}

function everyKey(record: Record<string, unknown> | undefined): Record<string, true> {
  return Object.fromEntries(Object.keys(record ?? {}).map((key) => [key, true]));
}

function strike(context: ParseContext, parsed: Parsed): void {
  for (const name of parsed.names) delete context.unusedAttrNames?.[name];
  for (const value of parsed.values) delete context.unusedAttrVals?.[value];
}
