import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';

export interface RuleGroupProps {
  readonly description: string;
  /** What every rule of the group matches, besides its share of the values. */
  readonly pattern: events.EventPattern;
  /** The pattern that adds one value, such as `{ detail: { pipeline: [value] } }`. */
  readonly valuePattern: (value: string) => events.EventPattern;
  /** Values one rule takes, so its pattern stays under EventBridge's 2048-character default quota. */
  readonly valuesPerRule: number;
  readonly target: events.IRuleTarget;
}

/**
 * EventBridge rules that together match a list of values that grows as pipelines register: a state
 * machine ARN or a pipeline name each. One rule holds up to `valuesPerRule` values; the next value
 * starts another rule with the same pattern and target.
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
 */
export class RuleGroup extends Construct {
  private readonly rules: events.Rule[] = [];
  private inLastRule = 0;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: RuleGroupProps,
  ) {
    super(scope, id);
  }

  add(value: string): void {
    let rule = this.rules.at(-1);
    if (!rule || this.inLastRule === this.props.valuesPerRule) {
      rule = new events.Rule(this, `Rule${this.rules.length + 1}`, {
        description: this.props.description,
        // A copy: aws-cdk-lib merges later additions into the pattern object it was given.
        eventPattern: structuredClone(this.props.pattern),
        targets: [this.props.target],
      });
      this.rules.push(rule);
      this.inLastRule = 0;
    }
    rule.addEventPattern(this.props.valuePattern(value));
    this.inLastRule++;
  }
}
