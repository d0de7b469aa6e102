/** The slice of the Amazon States Language (JSONPath flavour) that the compiler emits. */
export type JsonObject = { [key: string]: unknown };

export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly MaxAttempts: number;
  readonly IntervalSeconds?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
}

export interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly ResultPath: string | null;
  readonly Next: string;
}

export type State = JsonObject & {
  readonly Type: 'Task' | 'Pass' | 'Choice' | 'Parallel' | 'Fail' | 'Succeed';
};

export interface StateMachineDefinition {
  readonly Comment?: string;
  readonly StartAt: string;
  readonly TimeoutSeconds?: number;
  readonly States: Record<string, State>;
}

export interface Branch {
  readonly StartAt: string;
  readonly States: Record<string, State>;
}
