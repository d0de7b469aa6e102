import { RUN_FINISHED } from '../names.ts';
import { compilePattern, EventPatternError } from './event-pattern-match.ts';

/** EventBridge's default quota on the size of one rule's pattern, in characters. */
export const EVENT_PATTERN_MAX_CHARS = 2048;

export interface EventPatternProblem {
  /** Path inside the pattern, such as `['detail', 'table']`. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * What EventBridge or stepwise would refuse in an `onEvent` pattern, checked offline: an empty
 * pattern or list, a detail field that is not a list, a pattern longer than the default quota, and the
 * patterns that would loop, starting a run from the end of a run.
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 */
export function checkEventPattern(pattern: Readonly<Record<string, unknown>>): EventPatternProblem[] {
  const problems: EventPatternProblem[] = [];
  const fields = Object.entries(pattern).filter(([, value]) => value !== undefined);
  if (fields.length === 0) {
    return [
      {
        path: [],
        message:
          "an empty pattern would match every event on the bus; give at least a source, like onEvent({ source: ['my.app'], detailType: ['Export Ready'] })",
      },
    ];
  }
  for (const [field, value] of fields) {
    if (field !== 'detail' && Array.isArray(value) && value.length === 0) {
      problems.push({
        path: [field],
        message: 'an empty list matches no event; list a value or leave the field out',
      });
    }
  }
  if (typeof pattern.detail === 'object' && pattern.detail !== null) {
    problems.push(...checkDetail(pattern.detail as Record<string, unknown>, ['detail']));
  }
  problems.push(...checkLoops(pattern));
  const text = JSON.stringify(renderedPattern(pattern));
  // Tokens (aws-cdk-lib's Match helpers) render later and to a different length; check plain patterns.
  if (!text.includes('${Token[') && text.length > EVENT_PATTERN_MAX_CHARS) {
    problems.push({
      path: [],
      message: `the pattern is ${text.length} characters, more than the ${EVENT_PATTERN_MAX_CHARS} EventBridge takes by default; match fewer values, or raise the "Event pattern size" quota`,
    });
  }
  if (problems.length === 0 && !text.includes('${Token[')) problems.push(...checkOperators(pattern));
  return problems;
}

/**
 * The content filters, read by the same matcher the local engine routes events with: an operator
 * EventBridge does not know, or one given the wrong kind of value, fails here rather than at deploy.
 */
function checkOperators(pattern: Readonly<Record<string, unknown>>): EventPatternProblem[] {
  try {
    compilePattern(renderedPattern(pattern));
    return [];
  } catch (error) {
    if (!(error instanceof EventPatternError)) throw error;
    const path = error.path
      .split(/\.|\[(\d+)\]/)
      .filter((part) => part !== undefined && part !== '')
      .map((part) => (/^\d+$/.test(part) ? Number(part) : part === 'detail-type' ? 'detailType' : part));
    return [{ path, message: error.problem }];
  }
}

/** Each field of `detail` is a list of values or filters, or an object of further fields. */
function checkDetail(detail: Record<string, unknown>, path: (string | number)[]): EventPatternProblem[] {
  const problems: EventPatternProblem[] = [];
  for (const [key, value] of Object.entries(detail)) {
    const here = [...path, key];
    if (Array.isArray(value)) {
      if (value.length === 0)
        problems.push({
          path: here,
          message: 'an empty list matches no event; list a value or leave the field out',
        });
    } else if (typeof value === 'object' && value !== null) {
      problems.push(...checkDetail(value as Record<string, unknown>, here));
    } else {
      const shown = typeof value === 'string' ? `'${value}'` : String(value);
      problems.push({
        path: here,
        message: `expected a list of values to match, like [${shown}], or an object of fields, received ${shown}`,
      });
    }
  }
  return problems;
}

/**
 * A run's end must not start a run through a custom pattern: stepwise's own "Run Finished" events have
 * afterPipeline, which dedupes and joins; and a pattern on every Step Functions status change would
 * match this pipeline's own executions, so each run would start the next.
 */
function checkLoops(pattern: Readonly<Record<string, unknown>>): EventPatternProblem[] {
  const sources = listOf(pattern.source);
  const detailTypes = listOf(pattern.detailType);
  const fix = "to run after another pipeline, use afterPipeline('<pipeline>')";
  if (sources?.includes(RUN_FINISHED.source)) {
    return [
      {
        path: ['source', sources.indexOf(RUN_FINISHED.source)],
        message: `'${RUN_FINISHED.source}' is the source of stepwise's own "${RUN_FINISHED.detailType}" events; ${fix}`,
      },
    ];
  }
  if (sources === undefined && detailTypes?.includes(RUN_FINISHED.detailType)) {
    return [
      {
        path: ['detailType', detailTypes.indexOf(RUN_FINISHED.detailType)],
        message: `with no source, this matches stepwise's own "${RUN_FINISHED.detailType}" events; ${fix}, or give the source of the events you mean`,
      },
    ];
  }
  const detail = pattern.detail as Record<string, unknown> | undefined;
  if (sources?.includes('aws.states') && detail?.stateMachineArn === undefined) {
    return [
      {
        path: ['source', sources.indexOf('aws.states')],
        message: `a pattern on Step Functions events must name its state machines in detail.stateMachineArn, or it matches this pipeline's own executions and each run starts the next; add detail: { stateMachineArn: ['<arn>'] }, or ${fix}`,
      },
    ];
  }
  return [];
}

function listOf(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/** The pattern as EventBridge receives it: `detailType` becomes `detail-type`. */
function renderedPattern(pattern: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(pattern)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key === 'detailType' ? 'detail-type' : key, value]),
  );
}
