import { SPLIT_PART_STATE_PREFIX } from '../names.ts';
import type { Step } from './plan.ts';

/**
 * Step Functions takes a definition of at most 1 MB, a hard quota. A definition whose deployed size
 * (placeholders filled in) passes the budget is split into parts, each a state machine of its own.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
 */
export const DEFINITION_LIMIT_BYTES = 1024 * 1024;

/** What a definition may take before it is split: the limit, less room for the deployed names. */
export const DEFINITION_BUDGET = 950_000;

/**
 * DefinitionSubstitutions put an ARN or a name where a `${Key}` placeholder stands. Each is counted at
 * its longest: the partition at `aws-us-gov`, anything else at 256 bytes (a DynamoDB table name takes
 * up to 255; a function or state machine ARN in the longest partition and region, about 150).
 */
const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;
const LONGEST_PARTITION = 'aws-us-gov';
const LONGEST_SUBSTITUTION_BYTES = 256;

/** A definition's size once deployed, each placeholder counted at the longest value it can take. */
export function deployedDefinitionBytes(definition: unknown): number {
  const text = JSON.stringify(definition).replace(PLACEHOLDER, (_, key: string) =>
    key === 'Partition' ? LONGEST_PARTITION : 'x'.repeat(LONGEST_SUBSTITUTION_BYTES),
  );
  return Buffer.byteLength(text, 'utf8');
}

/** A plan cut into parts: the steps (by identity) that run as state machines of their own. */
export interface SplitPlan {
  /** The plan, with each part's tasks grouped under one step: the part. */
  readonly root: Step;
  /** Each part's step, numbered from 1 in plan order. */
  readonly parts: ReadonlyMap<Step, number>;
}

export class SplitError extends Error {
  override readonly name = 'SplitError';
}

/**
 * Cuts a plan into parts of at most `partBudget` bytes each, as `size` measures a step. Consecutive
 * steps of a sequence, or branches of a parallel step, are grouped into one part while they fit; a
 * step too large for a part is cut inside. A retry group stays one step of its parent: its body is
 * cut, so a retry runs the group's parts again. What is left around the parts stays in the parent.
 */
export function splitPlan(root: Step, size: (step: Step) => number, partBudget: number): SplitPlan {
  const parts = new Map<Step, number>();
  const mark = (step: Step): Step => {
    parts.set(step, parts.size + 1);
    return step;
  };
  const group = (children: readonly Step[], join: (members: Step[]) => Step): Step[] => {
    const out: Step[] = [];
    let members: Step[] = [];
    let bytes = 0;
    const flush = () => {
      if (members.length > 0) out.push(mark(members.length === 1 ? (members[0] as Step) : join(members)));
      members = [];
      bytes = 0;
    };
    for (const child of children) {
      const own = size(child);
      if (own > partBudget) {
        flush();
        out.push(cut(child));
        continue;
      }
      if (bytes + own > partBudget) flush();
      members.push(child);
      bytes += own;
    }
    flush();
    return out;
  };
  const cut = (step: Step): Step => {
    switch (step.kind) {
      case 'sequence':
        return { kind: 'sequence', steps: group(step.steps, (steps) => ({ kind: 'sequence', steps })) };
      case 'parallel':
        return {
          kind: 'parallel',
          branches: group(step.branches, (branches) => ({ kind: 'parallel', branches })),
        };
      case 'retryGroup':
        return { ...step, body: size(step.body) <= partBudget ? mark(step.body) : cut(step.body) };
      case 'latched':
        throw new SplitError('a plan with latched chains is not split: plan it without latches first');
      case 'task':
        throw new SplitError(
          `task '${step.task.id}' alone compiles to ${size(step)} bytes, more than a part may take (${partBudget}); shorten its params`,
        );
    }
  };
  return { root: cut(root), parts };
}

/** The name of the Task state that runs part `index` (task ids start lowercase: no collision). */
export function partStateName(index: number): string {
  return `${SPLIT_PART_STATE_PREFIX}${index}`;
}

/** The DefinitionSubstitutions key of part `index`'s state machine ARN. */
export function partSubstitution(index: number): string {
  return `Part_${index}`;
}
