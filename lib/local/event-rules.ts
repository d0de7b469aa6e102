import { compilePattern, type EventPattern } from '../spec/event-pattern-match.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, type Template } from './template.ts';

/** An event as EventBridge delivers it to a rule's targets. */
export interface EventBridgeEvent {
  readonly version: string;
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
}

/** What a target is given besides the event: the values of EventBridge's predefined input variables. */
export interface DeliveryContext {
  /** `aws.events.event.ingestion-time`. @default - now */
  readonly ingestionTime?: string;
}

export interface LocalRuleTarget {
  /** The target's `Id` within its rule. */
  readonly id: string;
  /** The target's ARN, resolved to a local name (a Lambda function's local ARN, for instance). */
  readonly arn: string;
  /**
   * What the target receives for an event: the event itself, the constant `Input`, the part `InputPath`
   * selects, or the `InputTransformer`'s rendering. Throws `InputTransformError` where EventBridge
   * would fail the invocation.
   */
  readonly input: (event: EventBridgeEvent, context?: DeliveryContext) => unknown;
  /** The target's `RetryPolicy`, for a runtime that retries failed deliveries. */
  readonly retryPolicy?: { readonly maximumRetryAttempts?: number; readonly maximumEventAgeSeconds?: number };
}

interface RuleBase {
  readonly logicalId: string;
  /** The rule's name: its `Name` property, or locally its logical id. */
  readonly name: string;
  readonly arn: string;
  readonly eventBusName: string;
  /** False when the template deploys the rule with `State: DISABLED`. */
  readonly enabled: boolean;
  readonly targets: readonly LocalRuleTarget[];
}

/** An `AWS::Events::Rule` with an event pattern. */
export interface LocalRule extends RuleBase {
  readonly pattern: EventPattern;
  /** The pattern, compiled (and checked) when the template was read. */
  readonly matches: (event: unknown) => boolean;
}

/** An `AWS::Events::Rule` that fires on a schedule; `scheduledRuleEvent` builds the event it sends. */
export interface LocalScheduledRule extends RuleBase {
  readonly scheduleExpression: string;
}

/** A target's input that EventBridge could not build either: the target is not invoked. */
export class InputTransformError extends Error {
  override readonly name = 'InputTransformError';
}

/**
 * The EventBridge rules a template deploys, with targets resolved to local ARNs. Rules with a
 * `ScheduleExpression` come back apart, in `scheduled`, since no event matches them. Every pattern is
 * compiled here, so an operator EventBridge does not know fails now, naming the rule.
 */
export function readRules(
  template: Template,
  resolve: (value: unknown) => unknown,
): { rules: LocalRule[]; scheduled: LocalScheduledRule[] } {
  const rules: LocalRule[] = [];
  const scheduled: LocalScheduledRule[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Events::Rule') continue;
    const props = resource.Properties ?? {};
    const name = typeof props.Name === 'string' ? props.Name : logicalId;
    const eventBusName = busName(props.EventBusName === undefined ? 'default' : resolve(props.EventBusName));
    const arn = `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${eventBusName === 'default' ? '' : `${eventBusName}/`}${name}`;
    const base = {
      logicalId,
      name,
      arn,
      eventBusName,
      enabled: props.State === undefined || props.State === 'ENABLED',
      targets: ((props.Targets ?? []) as Record<string, unknown>[]).map((target) =>
        readTarget(target, { logicalId, name, arn }, resolve),
      ),
    };
    if (props.ScheduleExpression !== undefined) {
      scheduled.push({ ...base, scheduleExpression: String(resolve(props.ScheduleExpression)) });
      continue;
    }
    const resolved = resolve(props.EventPattern);
    const pattern = (typeof resolved === 'string' ? JSON.parse(resolved) : resolved) as EventPattern;
    rules.push({ ...base, pattern, matches: compilePattern(pattern, { rule: logicalId }) });
  }
  return { rules, scheduled };
}

/** One target's share of a routed event: its payload, or why EventBridge could not build it. */
export type Delivery =
  | { readonly rule: string; readonly targetArn: string; readonly payload: unknown }
  | { readonly rule: string; readonly targetArn: string; readonly error: InputTransformError };

/**
 * Which targets an event reaches on a bus, and with what payload: one delivery per target of every
 * enabled rule on that bus whose pattern matches. `rule` is the rule's logical id.
 */
export function routeEvent(
  rules: readonly LocalRule[],
  event: EventBridgeEvent,
  options: DeliveryContext & { readonly eventBusName?: string } = {},
): Delivery[] {
  const bus = options.eventBusName ?? 'default';
  const deliveries: Delivery[] = [];
  for (const rule of rules) {
    if (!rule.enabled || rule.eventBusName !== bus || !rule.matches(event)) continue;
    for (const target of rule.targets) {
      try {
        deliveries.push({
          rule: rule.logicalId,
          targetArn: target.arn,
          payload: target.input(event, options),
        });
      } catch (error) {
        if (!(error instanceof InputTransformError)) throw error;
        deliveries.push({ rule: rule.logicalId, targetArn: target.arn, error });
      }
    }
  }
  return deliveries;
}

/** The event a scheduled rule sends its targets at `time` (ISO 8601, as EventBridge writes it: no milliseconds). */
export function scheduledRuleEvent(rule: LocalScheduledRule, time: string, id: string): EventBridgeEvent {
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT,
    time,
    region: LOCAL_REGION,
    resources: [rule.arn],
    detail: {},
  };
}

/** A bus given by name or ARN (`...:event-bus/orders`, or a local ARN ending in the logical id), by name. */
function busName(value: unknown): string {
  return String(value).split(/[:/]/).at(-1) as string;
}

function readTarget(
  target: Record<string, unknown>,
  rule: { logicalId: string; name: string; arn: string },
  resolve: (value: unknown) => unknown,
): LocalRuleTarget {
  const id = String(target.Id ?? '');
  const where = `rule '${rule.logicalId}' target '${id}'`;
  const retryPolicy = retryPolicyOf(target);
  return {
    id,
    arn: String(resolve(target.Arn)),
    input: targetInput(target, rule, where, resolve),
    ...(retryPolicy ? { retryPolicy } : {}),
  };
}

/** A target's `RetryPolicy` (EventBridge rules and Scheduler schedules write it alike), in our names. */
export function retryPolicyOf(
  target: Record<string, unknown>,
): { maximumRetryAttempts?: number; maximumEventAgeSeconds?: number } | undefined {
  const retry = target.RetryPolicy as
    | { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number }
    | undefined;
  if (!retry) return undefined;
  return {
    ...(retry.MaximumRetryAttempts === undefined ? {} : { maximumRetryAttempts: retry.MaximumRetryAttempts }),
    ...(retry.MaximumEventAgeInSeconds === undefined
      ? {}
      : { maximumEventAgeSeconds: retry.MaximumEventAgeInSeconds }),
  };
}

/** `Input`, `InputPath` and `InputTransformer` are exclusive; with none, the target gets the event. */
function targetInput(
  target: Record<string, unknown>,
  rule: { name: string; arn: string },
  where: string,
  resolve: (value: unknown) => unknown,
): LocalRuleTarget['input'] {
  if (target.Input !== undefined) {
    const text = String(resolve(target.Input));
    let constant: unknown;
    try {
      constant = JSON.parse(text);
    } catch (error) {
      throw new InputTransformError(`${where}: Input must be JSON text; got ${text}`, { cause: error });
    }
    return () => structuredClone(constant);
  }
  if (target.InputPath !== undefined) {
    const path = String(resolve(target.InputPath));
    const steps = parseJsonPath(path, `${where}: InputPath`);
    return (event) => {
      const selected = selectPath(event, steps);
      if (selected === undefined) {
        throw new InputTransformError(`${where}: InputPath '${path}' selects nothing in event ${event.id}`);
      }
      return selected;
    };
  }
  if (target.InputTransformer !== undefined) {
    const transformer = resolve(target.InputTransformer) as {
      InputPathsMap?: Record<string, string>;
      InputTemplate: string;
    };
    return inputTransformer(transformer, rule, where);
  }
  return (event) => event;
}

const PREDEFINED = {
  ruleArn: 'aws.events.rule-arn',
  ruleName: 'aws.events.rule-name',
  ingestionTime: 'aws.events.event.ingestion-time',
  eventWithoutDetail: 'aws.events.event',
  event: 'aws.events.event.json',
} as const;

/**
 * Renders an `InputTransformer` the way EventBridge does. A `<name>` outside a JSON string becomes the
 * variable's JSON value (a string gains quotes); inside a string it is inserted raw, unescaped, with
 * an object's or array's own quotes stripped. A variable whose path selects nothing is left out. A
 * template that does not come out as JSON is a text template: its variables are all inserted raw and
 * the target receives the text.
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
 */
function inputTransformer(
  transformer: { InputPathsMap?: Record<string, string>; InputTemplate: string },
  rule: { name: string; arn: string },
  where: string,
): LocalRuleTarget['input'] {
  const paths = Object.entries(transformer.InputPathsMap ?? {}).map(([name, path]) => {
    if (Object.values(PREDEFINED).includes(name as never)) {
      throw new InputTransformError(
        `${where}: InputPathsMap may not define '${name}', a predefined variable`,
      );
    }
    return [name, parseJsonPath(path, `${where}: InputPathsMap.${name}`)] as const;
  });
  const template = transformer.InputTemplate;
  const looksLikeJson = /^\s*[[{"]/.test(template);
  return (event, context = {}) => {
    const variables = new Map<string, unknown>();
    for (const [name, steps] of paths) variables.set(name, selectPath(event, steps));
    const { detail: _, ...withoutDetail } = event;
    variables.set(PREDEFINED.ruleArn, rule.arn);
    variables.set(PREDEFINED.ruleName, rule.name);
    variables.set(PREDEFINED.ingestionTime, context.ingestionTime ?? new Date().toISOString());
    variables.set(PREDEFINED.eventWithoutDetail, withoutDetail);
    variables.set(PREDEFINED.event, event);
    const rendered = renderTemplate(template, variables, true);
    try {
      return JSON.parse(rendered);
    } catch {
      if (!looksLikeJson) return renderTemplate(template, variables, false);
      const missing = paths
        .filter(([name]) => variables.get(name) === undefined)
        .map(([name]) => `<${name}>`);
      throw new InputTransformError(
        `${where}: the InputTemplate does not render to valid JSON for event ${event.id}` +
          (missing.length > 0
            ? `: ${missing.join(', ')} selected nothing and EventBridge leaves such variables out`
            : ': a string inserted inside quotes is not escaped, so a quote or backslash in it breaks the JSON') +
          `. Rendered: ${rendered}`,
      );
    }
  };
}

function renderTemplate(template: string, variables: ReadonlyMap<string, unknown>, json: boolean): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    if (c === '<') {
      const end = template.indexOf('>', i + 1);
      const name = end === -1 ? undefined : template.slice(i + 1, end);
      if (name !== undefined && variables.has(name)) {
        out += renderValue(variables.get(name), json && !inString);
        i = end;
        continue;
      }
    }
    if (inString && c === '\\' && i + 1 < template.length) {
      out += c + template[i + 1];
      i++;
      continue;
    }
    if (c === '"') inString = !inString;
    out += c;
  }
  return out;
}

function renderValue(value: unknown, asJson: boolean): string {
  if (value === undefined) return '';
  if (asJson) return JSON.stringify(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value).replaceAll('"', '');
}

type PathStep = { readonly key: string } | { readonly index: number } | { readonly wildcard: true };

/**
 * EventBridge's JSONPath subset: `$`, `.name` (letters, digits, `-`, `_`, `/`), `['name']`, `[0]` and
 * the wildcards `.*` and `[*]`.
 */
function parseJsonPath(path: string, where: string): PathStep[] {
  const fail = () =>
    new InputTransformError(
      `${where}: '${path}' is not a JSON path EventBridge supports ($, .name, ['name'], [0], .* or [*])`,
    );
  if (!path.startsWith('$')) throw fail();
  const steps: PathStep[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    const match =
      /^\.([A-Za-z0-9_\-/]+)/.exec(rest) ??
      /^\[(\d+)\]/.exec(rest) ??
      /^\['([^']*)'\]/.exec(rest) ??
      /^(\.\*|\[\*\])/.exec(rest);
    if (!match) throw fail();
    const [whole, group] = match as unknown as [string, string];
    if (whole === '.*' || whole === '[*]') steps.push({ wildcard: true });
    else if (whole.startsWith('[') && !whole.startsWith("['")) steps.push({ index: Number(group) });
    else steps.push({ key: group });
    rest = rest.slice(whole.length);
  }
  return steps;
}

/** The value a path selects, or undefined if it selects nothing. A wildcard collects an array. */
function selectPath(root: unknown, steps: readonly PathStep[]): unknown {
  let current: unknown = root;
  for (const [i, step] of steps.entries()) {
    if ('wildcard' in step) {
      const items = Array.isArray(current)
        ? current
        : typeof current === 'object' && current !== null
          ? Object.values(current)
          : undefined;
      if (items === undefined) return undefined;
      const rest = steps.slice(i + 1);
      return items.map((item) => selectPath(item, rest)).filter((value) => value !== undefined);
    }
    if ('index' in step) {
      if (!Array.isArray(current) || step.index >= current.length) return undefined;
      current = current[step.index];
      continue;
    }
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, step.key)) return undefined;
    current = (current as Record<string, unknown>)[step.key];
  }
  return current;
}
