import { preview } from './event.ts';

/**
 * The Standard Schema v1 interface, which zod 4 (and `zod/mini`), valibot and arktype schemas
 * implement. A types-only spec, copied here so the runtime depends on no schema library: the schemas a
 * handler passes to `defineTask` bring their own.
 *
 * @see https://standardschema.dev
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1.Props<Input, Output>;
}

export declare namespace StandardSchemaV1 {
  interface Props<Input = unknown, Output = Input> {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    readonly types?: Types<Input, Output> | undefined;
  }
  type Result<Output> = SuccessResult<Output> | FailureResult;
  interface SuccessResult<Output> {
    readonly value: Output;
    readonly issues?: undefined;
  }
  interface FailureResult {
    readonly issues: ReadonlyArray<Issue>;
  }
  interface Issue {
    readonly message: string;
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  interface PathSegment {
    readonly key: PropertyKey;
  }
  interface Types<Input = unknown, Output = Input> {
    readonly input: Input;
    readonly output: Output;
  }
  type InferInput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['input'];
  type InferOutput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['output'];
}

/** What a value checked against a schema came to: the schema's value, or one line per problem. */
export type SchemaCheck =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Checks `value` against `schema` and describes each problem as `<root><path>: <what is wrong>`, such
 * as `inputs.ingest.rows: expected number, received string`.
 */
export async function checkSchema(
  schema: StandardSchemaV1,
  value: unknown,
  root: string,
): Promise<SchemaCheck> {
  const result = await schema['~standard'].validate(value);
  if (result.issues === undefined) return { ok: true, value: result.value };
  return {
    ok: false,
    problems: result.issues.map((issue) => {
      const keys = (issue.path ?? []).map((segment) =>
        typeof segment === 'object' && segment !== null ? segment.key : segment,
      );
      let received = value;
      for (const key of keys) received = isObject(received) ? received[key as string] : undefined;
      return `${root}${keys.map(pathSegment).join('')}: ${describeIssue(issue, received)}`;
    }),
  };
}

/** True for an object that Standard Schema checks can be called on. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return isObject(value) || typeof value === 'function'
    ? typeof (value as Partial<StandardSchemaV1>)['~standard']?.validate === 'function'
    : false;
}

// zod/mini ships no messages (every issue says "Invalid input") but keeps each issue's details, so
// the wording for its common issues lives here. Any other library's own message is used as it is.
function describeIssue(standardIssue: StandardSchemaV1.Issue, received: unknown): string {
  if (standardIssue.message !== 'Invalid input') return standardIssue.message;
  const issue = standardIssue as StandardSchemaV1.Issue & Record<string, unknown>;
  const kind = typeName(received);
  switch (issue.code) {
    case 'invalid_type':
      return received === undefined
        ? `missing, expected ${issue.expected}`
        : `expected ${issue.expected}, received ${kind}`;
    case 'invalid_value':
      return `expected ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(' or ')}, received ${preview(received)}`;
    case 'too_small':
    case 'too_big': {
      const bound = `${issue.code === 'too_small' ? 'at least' : 'at most'} ${issue.inclusive === false ? '(exclusive) ' : ''}${issue.code === 'too_small' ? issue.minimum : issue.maximum}`;
      return issue.origin === 'string' || issue.origin === 'array'
        ? `expected ${bound} ${issue.origin === 'string' ? 'characters' : 'items'}, received ${(received as { length: number }).length}`
        : `expected ${bound}, received ${preview(received)}`;
    }
    case 'invalid_format': {
      const wanted =
        issue.prefix !== undefined
          ? `to start with ${JSON.stringify(issue.prefix)}`
          : issue.suffix !== undefined
            ? `to end with ${JSON.stringify(issue.suffix)}`
            : issue.includes !== undefined
              ? `to include ${JSON.stringify(issue.includes)}`
              : issue.format === 'regex'
                ? `to match ${issue.pattern}`
                : `${issue.format} format`;
      return `expected ${wanted}, received ${preview(received)}`;
    }
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}, received ${preview(received)}`;
    case 'unrecognized_keys':
      return `unknown ${(issue.keys as string[]).length === 1 ? 'key' : 'keys'} ${(issue.keys as string[]).map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_union':
      return `matches none of the allowed shapes, received ${kind === 'object' || kind === 'array' ? kind : preview(received)}`;
    default:
      return `${issue.message}${typeof issue.code === 'string' ? ` (${issue.code})` : ''}`;
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  return typeof value;
}

/** One step of a field path: `.name`, `["odd name"]` or `[0]`. */
export function pathSegment(key: PropertyKey): string {
  if (typeof key === 'number') return `[${key}]`;
  const name = String(key);
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

function isObject(value: unknown): value is Record<PropertyKey, unknown> {
  return typeof value === 'object' && value !== null;
}
