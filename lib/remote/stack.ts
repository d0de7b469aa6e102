import {
  type Output as CfnOutput,
  CloudFormationClient,
  DescribeStacksCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { pascalName, STACK_OUTPUTS, STATE_MACHINE_OUTPUT_PREFIX, stateMachineOutputKey } from '../names.ts';
import {
  type AwsOptions,
  awsErrorName,
  clientConfig,
  clientRegion,
  RemoteError,
  setupProblem,
  withClient,
} from './aws.ts';

export { pascalName, STACK_OUTPUTS, stateMachineOutputKey } from '../names.ts';

export type StackOutputName = keyof typeof STACK_OUTPUTS;

/** What an `--aws` command needs to reach a deployment, from the stack's outputs or from overrides. */
export interface DeployedStack {
  /** The stack the outputs were read from; undefined when the overrides made reading it unnecessary. */
  readonly stackName: string | undefined;
  /** The region the clients resolved, when known. */
  readonly region: string | undefined;
  /** The ledger table's name. */
  readonly table?: string;
  /** The dispatcher function's name. */
  readonly dispatcher?: string;
  /** The alert topic's ARN. */
  readonly alertTopic?: string;
  /** State machine ARNs by the pipeline's PascalName (`OrdersDaily`); empty when the stack was not read. */
  readonly stateMachines: Readonly<Record<string, string>>;
}

export interface ResolveStackOptions<N extends StackOutputName> extends AwsOptions {
  /**
   * The outputs this command cannot work without; a missing one fails with the fix.
   * @default - none: return whatever the stack has
   */
  readonly need?: readonly N[];
  /**
   * Names given on the command line (`--table`, `--dispatcher`). They win over the stack's outputs,
   * and when they cover every needed output the stack is not read at all.
   */
  readonly overrides?: { readonly table?: string | undefined; readonly dispatcher?: string | undefined };
  /** A pipeline that must be deployed in the stack: its `StepwiseStateMachine<PascalName>` output must exist. */
  readonly pipeline?: string;
  readonly clients?: { readonly cloudformation?: CloudFormationClient };
}

/**
 * Finds a deployed stepwise stack's ledger table, dispatcher and alert topic from its CloudFormation
 * outputs (DescribeStacks). Fails naming the stack, the region and the fix when the stack or a needed
 * output is missing.
 */
export async function resolveStack<N extends StackOutputName = never>(
  stackName: string,
  options: ResolveStackOptions<N> = {},
): Promise<DeployedStack & { readonly [K in N]: string }> {
  const need: readonly StackOutputName[] = options.need ?? [];
  const overrides = withoutUndefined(options.overrides ?? {});
  const covered = need.length > 0 && need.every((name) => name in overrides);
  if (covered && options.pipeline === undefined) {
    return {
      stackName: undefined,
      region: options.region,
      ...overrides,
      stateMachines: {},
    } as DeployedStack & {
      readonly [K in N]: string;
    };
  }
  return withClient(
    options.clients?.cloudformation,
    () => new CloudFormationClient(clientConfig(options)),
    async (client) => {
      const region = await clientRegion(client);
      const stack = await describeStack(client, stackName, region);
      const outputs = new Map(
        (stack.Outputs ?? []).map((o: CfnOutput) => [o.OutputKey ?? '', o.OutputValue ?? '']),
      );
      const found: Record<string, string> = {};
      for (const [name, key] of Object.entries(STACK_OUTPUTS)) {
        const value = outputs.get(key);
        if (value) found[name] = value;
      }
      Object.assign(found, overrides);
      const stateMachines = Object.fromEntries(
        [...outputs]
          .filter(([key]) => key.startsWith(STATE_MACHINE_OUTPUT_PREFIX))
          .map(([key, value]) => [key.slice(STATE_MACHINE_OUTPUT_PREFIX.length), value]),
      );
      const where = `stack '${stackName}' in ${region ?? 'the default region'}`;
      const status = stack.StackStatus ? ` (status ${stack.StackStatus})` : '';
      for (const name of need) {
        if (found[name] !== undefined) continue;
        const flag = name === 'alertTopic' ? '' : `, or give it with --${name}`;
        throw new RemoteError(
          `${where}${status} has no output ${STACK_OUTPUTS[name]}; deploy the stepwise version that adds it with 'cdk deploy ${stackName}'${flag}`,
        );
      }
      if (options.pipeline !== undefined && stateMachines[pascalName(options.pipeline)] === undefined) {
        const deployed = Object.keys(stateMachines);
        throw new RemoteError(
          `${where} deploys no pipeline '${options.pipeline}' (no output ${stateMachineOutputKey(options.pipeline)}; ` +
            `${deployed.length > 0 ? `it deploys ${deployed.join(', ')}` : 'it deploys no pipelines'}); ` +
            `check the pipeline name and --stack, or add the pipeline to the stack and 'cdk deploy ${stackName}'`,
        );
      }
      return { stackName, region, ...found, stateMachines } as DeployedStack & { readonly [K in N]: string };
    },
  );
}

async function describeStack(
  client: CloudFormationClient,
  stackName: string,
  region: string | undefined,
): Promise<Stack> {
  const where = region ?? 'the default region';
  try {
    const result = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = result.Stacks?.[0];
    if (stack) return stack;
  } catch (error) {
    const problem = setupProblem(error, 'cloudformation:DescribeStacks');
    if (problem) throw new RemoteError(problem, { cause: error });
    const message = error instanceof Error ? error.message : String(error);
    if (!(awsErrorName(error) === 'ValidationError' && /does not exist/i.test(message)))
      throw new RemoteError(`reading stack '${stackName}' in ${where} failed: ${message}`, { cause: error });
  }
  throw new RemoteError(
    `stack '${stackName}' not found in ${where}; deploy it with 'cdk deploy ${stackName}', ` +
      `or name the deployed stack with --stack and its region with --region`,
  );
}

function withoutUndefined(overrides: {
  readonly table?: string | undefined;
  readonly dispatcher?: string | undefined;
}): { table?: string; dispatcher?: string } {
  return Object.fromEntries(
    Object.entries(overrides).filter(([, value]) => value !== undefined && value !== ''),
  );
}
