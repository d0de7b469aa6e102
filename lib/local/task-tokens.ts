import { randomUUID } from 'node:crypto';

interface OpenToken {
  readonly result: Promise<unknown>;
  readonly resolve: (output: unknown) => void;
}

/** A task token SendTaskSuccess cannot use, named as the Step Functions API names the error. */
export class TaskTokenError extends Error {
  constructor(
    readonly code: 'InvalidToken' | 'TaskTimedOut',
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/**
 * The task tokens of `.waitForTaskToken` states run locally: `$$.Task.Token` mints one as the state
 * reads its parameters, the state waits on it, and SendTaskSuccess returns it with an output. A token
 * is used once, as on AWS; sending to it again is TaskTimedOut, and to one never minted, InvalidToken.
 * The tokens of an execution that ended (failed, timed out) close with it: its waiting state is gone,
 * so SendTaskSuccess to one is TaskTimedOut, as Step Functions answers, and the registry keeps no
 * waiter of a finished execution for the rest of the process.
 */
export class TaskTokens {
  private readonly open = new Map<string, OpenToken>();
  private readonly closed = new Set<string>();
  /** The open tokens each execution minted, by execution ARN. */
  private readonly byOwner = new Map<string, Set<string>>();

  /** A new token; `owner` is the execution whose state waits on it. */
  mint(owner?: string): string {
    const token = `local-task-token:${randomUUID()}`;
    let resolve!: (output: unknown) => void;
    const result = new Promise<unknown>((res) => {
      resolve = res;
    });
    this.open.set(token, { result, resolve });
    if (owner !== undefined) {
      const tokens = this.byOwner.get(owner) ?? new Set<string>();
      tokens.add(token);
      this.byOwner.set(owner, tokens);
    }
    return token;
  }

  /** The execution ended: the tokens it still waits on can no longer be returned. */
  closeAll(owner: string): void {
    for (const token of this.byOwner.get(owner) ?? []) {
      if (this.open.delete(token)) this.closed.add(token);
    }
    this.byOwner.delete(owner);
  }

  /** How many tokens are waiting to be returned. */
  get openCount(): number {
    return this.open.size;
  }

  /** The tokens among the strings of a state's parameters that are waiting to be returned. */
  tokensIn(value: unknown): string[] {
    if (typeof value === 'string') return this.open.has(value) ? [value] : [];
    if (Array.isArray(value)) return value.flatMap((item) => this.tokensIn(item));
    if (value !== null && typeof value === 'object')
      return Object.values(value).flatMap((v) => this.tokensIn(v));
    return [];
  }

  /** Resolves once SendTaskSuccess returns the token, with its output. */
  result(token: string): Promise<unknown> {
    const open = this.open.get(token);
    if (!open) throw new TaskTokenError('InvalidToken', `Invalid Token: '${token}' is not waiting`);
    return open.result;
  }

  succeed(token: string, output: unknown): void {
    const open = this.open.get(token);
    if (!open) {
      if (this.closed.has(token))
        throw new TaskTokenError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
      throw new TaskTokenError('InvalidToken', `Invalid Token: '${token}'`);
    }
    this.open.delete(token);
    this.closed.add(token);
    open.resolve(output);
  }
}

/** One registry for the process: tokens are random, and an engine's states and integrations share it. */
export const TASK_TOKENS = new TaskTokens();
