import * as z from 'zod/mini';
import { explainIssue } from './issues.ts';

/**
 * What the dispatcher needs to know about one pipeline. The platform construct writes it into the
 * dispatcher's environment, one variable per pipeline, so one dispatcher serves many pipelines without
 * reading anything at startup.
 */
export interface PipelineConfig {
  /** The pipeline's state machine: the dispatcher starts every run of the pipeline here. */
  readonly stateMachineArn: string;
  /** Runs allowed at once; further triggers wait in the ledger's queue until a run finishes. */
  readonly maxConcurrentRuns: number;
  /** How long ledger rows of a run are kept: the run's `expiresAt` is its start plus this. */
  readonly retentionDays: number;
}

const pipelineConfigSchema = z.object({
  stateMachineArn: z.string().check(z.minLength(1)),
  maxConcurrentRuns: z.int().check(z.positive()),
  retentionDays: z.number().check(z.positive()),
});

/** A pipeline's variable is set, but not to a configuration the dispatcher can use. */
export class PipelineConfigError extends Error {
  override readonly name = 'PipelineConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** `orders-eu` -> `STEPWISE_PIPELINE_ORDERS_EU`: pipeline names allow `-`, environment variable names do not. */
export function pipelineVariable(name: string): string {
  return `${VARIABLE_PREFIX}${name.toUpperCase().replace(/-/g, '_')}`;
}

/** The value of a pipeline's variable. */
export function pipelineConfigJson(config: PipelineConfig): string {
  return JSON.stringify({
    stateMachineArn: config.stateMachineArn,
    maxConcurrentRuns: config.maxConcurrentRuns,
    retentionDays: config.retentionDays,
  });
}

/**
 * The configuration of pipeline `name`, or undefined when this dispatcher does not serve it.
 * Throws {@link PipelineConfigError} when the variable is set but malformed: that is a deployment
 * mistake, not a bad event, so it must not be mistaken for "unknown pipeline".
 */
export function pipelineConfig(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): PipelineConfig | undefined {
  const variable = pipelineVariable(name);
  const text = env[variable];
  if (text === undefined || text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PipelineConfigError(
      `${variable} is not JSON (${(error as Error).message}); set it to pipelineConfigJson({ stateMachineArn, maxConcurrentRuns, retentionDays })`,
      { cause: error },
    );
  }
  const parsed = pipelineConfigSchema.safeParse(value, { error: explainIssue });
  if (!parsed.success)
    throw new PipelineConfigError(
      `${variable} is not a pipeline configuration: ${z.prettifyError(parsed.error)}; set it to pipelineConfigJson({ stateMachineArn, maxConcurrentRuns, retentionDays })`,
    );
  return parsed.data;
}

const VARIABLE_PREFIX = 'STEPWISE_PIPELINE_';

/**
 * Every pipeline the environment configures, by name. Pipeline names are `[a-z][a-z0-9-]*`, so the
 * variable name maps back to exactly one of them. Throws {@link PipelineConfigError} for a malformed one.
 */
export function pipelineConfigs(
  env: Readonly<Record<string, string | undefined>>,
): Map<string, PipelineConfig> {
  const configs = new Map<string, PipelineConfig>();
  for (const variable of Object.keys(env)) {
    if (!variable.startsWith(VARIABLE_PREFIX)) continue;
    const name = variable.slice(VARIABLE_PREFIX.length).toLowerCase().replace(/_/g, '-');
    const config = pipelineConfig(env, name);
    if (config) configs.set(name, config);
  }
  return configs;
}
