import { TaskEnvironmentError } from './errors.ts';

/**
 * The environment variable through which a task function learns its data buckets' real names: a JSON
 * object from each name its tasks declared in `reads` or `writes` to the deployed bucket's name.
 * `Pipeline` sets it; the task runtime reads it. Imports nothing, so both sides can share it.
 */
export const BUCKETS_VARIABLE = 'STEPWISE_BUCKETS';

let parsed:
  | { readonly text: string | undefined; readonly buckets: Readonly<Record<string, string>> }
  | undefined;

/**
 * The real bucket names from {@link BUCKETS_VARIABLE}; `{}` when it is unset (the function's tasks
 * declared no bucket).
 *
 * @throws TaskEnvironmentError when the variable is not a JSON object of non-empty strings.
 */
export function bucketsFromEnvironment(
  text: string | undefined = process.env[BUCKETS_VARIABLE],
): Readonly<Record<string, string>> {
  if (parsed !== undefined && parsed.text === text) return parsed.buckets;
  const buckets = Object.freeze(parseBuckets(text));
  parsed = { text, buckets };
  return buckets;
}

function parseBuckets(text: string | undefined): Record<string, string> {
  if (text === undefined || text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.every(([, name]) => typeof name === 'string' && name !== '')) {
      return Object.fromEntries(entries) as Record<string, string>;
    }
  }
  throw new TaskEnvironmentError(
    `${BUCKETS_VARIABLE} must be a JSON object from bucket names to real bucket names, such as ` +
      `{"raw":"orders-raw-1a2b3c"}; received ${text.length > 80 ? `${text.slice(0, 77)}...` : text}. ` +
      'Pipeline sets it from the spec: deploy the handler and the pipeline from the same stepwise version.',
  );
}
