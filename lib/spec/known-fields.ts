import type * as z from 'zod';

/** The parts of a zod schema's definition this walk reads. */
interface SchemaDef {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly discriminator?: string;
}

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/**
 * The field names the schema allows for the object at `path` of `input`, so an unknown field can be
 * matched against its own level's fields: 'retries' on a task suggests 'retry', not a trigger field.
 * A discriminated union (a task's `run`, a trigger) is resolved by the input's discriminator.
 * Undefined when the path leads to no object schema.
 */
export function fieldsAt(
  schema: z.ZodType,
  path: readonly PropertyKey[],
  input: unknown,
): string[] | undefined {
  let current: z.ZodType | undefined = schema;
  let value = input;
  for (const key of path) {
    current = pickOption(unwrap(current), value);
    if (current === undefined) return undefined;
    const def = defOf(current);
    if (def.type === 'object') current = def.shape?.[String(key)];
    else if (def.type === 'record') current = def.valueType;
    else if (def.type === 'array') current = def.element;
    else return undefined;
    value =
      typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  const target = pickOption(unwrap(current), value);
  if (target === undefined) return undefined;
  const def = defOf(target);
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  while (current !== undefined) {
    const def = defOf(current);
    if (def.innerType === undefined || def.type === 'object') return current;
    current = def.innerType;
  }
  return current;
}

/** For a discriminated union, the option the input's discriminator names; otherwise the schema itself. */
function pickOption(schema: z.ZodType | undefined, value: unknown): z.ZodType | undefined {
  if (schema === undefined) return undefined;
  const def = defOf(schema);
  if (def.type !== 'union' || def.discriminator === undefined || def.options === undefined) return schema;
  const tag =
    typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)[def.discriminator]
      : undefined;
  return def.options.find((option) => {
    const literal = defOf(option).shape?.[def.discriminator as string];
    const values = literal ? (defOf(literal) as { values?: readonly unknown[] }).values : undefined;
    return values?.includes(tag) ?? false;
  });
}
