import { ArnFormat, Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct, IConstruct } from 'constructs';
import { partSubstitution } from '../../compile/split.ts';
import type { CompiledPart } from '../../compile/states.ts';
import { STAND_INS_METADATA } from '../../names.ts';
import { EXECUTION_EVENTS_RULE, type NestedPipelineRun } from '../../spec/adapters/nested-pipeline.ts';
import { didYouMean } from '../../spec/did-you-mean.ts';
import { addDefinitionAssetMetadata, pipelineDefinitionBody } from '../definition-body.ts';
import { executionLogGroup } from '../execution-logs.ts';
import type { HandlerFunction } from '../handler-function.ts';
import { acknowledgeWildcardResource } from '../nag.ts';
import { grantReadExecutions } from '../platform.ts';
import type { Binding, ServiceBinding } from './service-binding.ts';

/** What a `Pipeline` construct shows of itself here (read by shape: importing it would be circular). */
interface PipelineLike {
  readonly spec: { readonly name: string };
  readonly stateMachine: sfn.StateMachine;
}

function isPipelineLike(construct: IConstruct): construct is IConstruct & PipelineLike {
  const candidate = construct as IConstruct & Partial<PipelineLike>;
  return (
    typeof candidate?.spec?.name === 'string' &&
    typeof (candidate.stateMachine as Partial<sfn.StateMachine> | undefined)?.stateMachineArn === 'string'
  );
}

/**
 * The nested pipeline's state machine, found by name among the stack's pipelines when the template is
 * resolved, so the nested pipeline may be defined after the one that runs it.
 */
export function nestedStateMachine(
  scope: Construct,
  parent: string,
  task: string,
  name: string,
): sfn.StateMachine {
  const stack = Stack.of(scope);
  const pipelines = stack.node.findAll().filter(isPipelineLike);
  const found = pipelines.find((p) => p.spec.name === name);
  if (found) {
    if (name === parent)
      throw new Error(
        `tasks.${task}.run: pipeline '${parent}' runs pipeline('${name}'), itself; a pipeline cannot nest itself. Name another pipeline of stack ${stack.stackName}`,
      );
    return found.stateMachine;
  }
  const names = pipelines.map((p) => p.spec.name).filter((n) => n !== parent);
  throw new Error(
    `tasks.${task}.run: pipeline '${parent}' runs pipeline('${name}'), but stack ${stack.stackName} has no pipeline '${name}'${didYouMean(name, names)}; ${
      names.length === 0
        ? 'it has no other pipeline. Add new Pipeline(stack, id, { spec }) for it to the same stack'
        : `its other pipelines are ${names.map((n) => `'${n}'`).join(', ')}. Add the nested pipeline to the same stack, or fix the name`
    }`,
  );
}

/**
 * `.sync:2` starts the nested execution, then describes it (or stops it, if the state is cut short),
 * and learns of its end through a rule Step Functions manages: the actions Step Functions documents,
 * on the one state machine, its executions and that rule.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html
 */
export const NESTED_PIPELINE_BINDING: ServiceBinding<NestedPipelineRun> = {
  bind: (run, { scope, task }) => {
    const parent = (scope as Partial<PipelineLike>).spec?.name ?? '';
    const machine = () => nestedStateMachine(scope, parent, task.id, run.pipelineName);
    const { wildcards, ...binding } = nestedExecutionBinding(
      scope,
      Lazy.string({ produce: () => machine().stateMachineArn }),
      Lazy.string({ produce: () => machine().stateMachineName }),
      `the executions of pipeline '${run.pipelineName}', which task '${task.id}' runs nested`,
    );
    // Acknowledging resolves the ARN, which must wait for the nested pipeline to exist.
    scope.node.addValidation({
      validate: () => {
        const role = (scope as Partial<PipelineLike>).stateMachine?.role as iam.Role | undefined;
        if (role)
          for (const { resource, reason } of wildcards ?? [])
            acknowledgeWildcardResource(role, resource, reason);
        return [];
      },
    });
    return binding;
  },
};

/**
 * The substitution (`stateMachine`, the ARN) and the grants for a Task state that runs another state
 * machine with `.sync:2`: a nested pipeline, or a part of a split one.
 */
export function nestedExecutionBinding(
  scope: Construct,
  stateMachineArn: string,
  stateMachineName: string,
  what: string,
): Binding & { readonly substitutions: Record<string, string> } {
  const stack = Stack.of(scope);
  const executions = stack.formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${stateMachineName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const rule = stack.formatArn({ service: 'events', resource: 'rule', resourceName: EXECUTION_EVENTS_RULE });
  const statements = [
    new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArn] }),
    new iam.PolicyStatement({
      actions: ['states:DescribeExecution', 'states:StopExecution'],
      resources: [executions],
    }),
    new iam.PolicyStatement({
      actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      resources: [rule],
    }),
  ];
  const wildcards = [
    {
      resource: executions,
      reason: `Execution ARNs end in the execution's name, which Step Functions generates for each nested run; the wildcard covers only ${what}.`,
    },
  ];
  return { substitutions: { stateMachine: stateMachineArn }, statements, wildcards };
}

/** What the parts of a split pipeline need from the `Pipeline` that runs them. */
export interface SplitPartsProps {
  readonly pipeline: string;
  readonly parts: readonly CompiledPart[];
  /** The parent's DefinitionSubstitutions: the parts' tasks call the same functions and services. */
  readonly substitutions: Readonly<Record<string, string>>;
  readonly functions: readonly HandlerFunction[];
  /** The ledger, which a part's bad-data states write (the run row's failed task). */
  readonly ledgerTableArn: string;
  /** The service tasks' grants, given to every part (a part runs some of those tasks). */
  readonly serviceStatements: readonly iam.PolicyStatement[];
  readonly serviceWildcards: readonly { readonly resource: string; readonly reason: string }[];
  /** Local stand-ins by task, named in each part's metadata as in the parent's. */
  readonly standIns: Readonly<Record<string, string>>;
  /** The recorder and reconciler, which read the parts' histories for the run's task attempts. */
  readonly observers: readonly HandlerFunction[];
}

/**
 * A state machine per part of a split pipeline, each with a role of its own (sharing the parent's
 * would make its policy, which names the parts, a dependency of the parts). Returns the parent's side:
 * the `Part_<n>` substitutions and what its role needs to run the parts.
 */
export function addSplitParts(
  scope: Construct,
  props: SplitPartsProps,
): Binding & {
  readonly substitutions: Record<string, string>;
} {
  const substitutions: Record<string, string> = {};
  const statements: iam.PolicyStatement[] = [];
  const wildcards: { resource: string; reason: string }[] = [];
  for (const part of props.parts) {
    const machine = new sfn.StateMachine(scope, `Part${part.index}`, {
      stateMachineType: sfn.StateMachineType.STANDARD,
      // A part exists because the pipeline passed the definition budget: it ships from S3.
      definitionBody: pipelineDefinitionBody(part.definition, { asAsset: true }),
      definitionSubstitutions: { ...props.substitutions },
      tracingEnabled: true,
      logs: {
        destination: executionLogGroup(scope, `Part${part.index}Logs`, `${props.pipeline}-part${part.index}`),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
      comment: `stepwise pipeline ${props.pipeline}, part ${part.index}`,
    });
    addDefinitionAssetMetadata(machine);
    const role = machine.role as iam.Role;
    for (const fn of props.functions) fn.grantInvoke(machine);
    machine.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [props.ledgerTableArn] }),
    );
    for (const statement of props.serviceStatements) machine.addToRolePolicy(statement);
    for (const { resource, reason } of props.serviceWildcards)
      acknowledgeWildcardResource(role, resource, reason);
    acknowledgeWildcardResource(
      role,
      '*',
      'X-Ray PutTraceSegments/PutTelemetryRecords and the CloudWatch Logs vended-delivery actions that CDK grants for execution logging do not support resource-level permissions, so AWS requires Resource "*".',
    );
    if (Object.keys(props.standIns).length > 0)
      (machine.node.defaultChild as sfn.CfnStateMachine).addMetadata(STAND_INS_METADATA, props.standIns);
    grantReadExecutions(
      machine,
      props.observers,
      `Execution ARNs end in the execution's name, which Step Functions generates for each run of part ${part.index} of pipeline '${props.pipeline}'; the wildcard covers only that part's executions.`,
    );
    const binding = nestedExecutionBinding(
      scope,
      machine.stateMachineArn,
      machine.stateMachineName,
      `the executions of part ${part.index} of pipeline '${props.pipeline}'`,
    );
    substitutions[partSubstitution(part.index)] = machine.stateMachineArn;
    statements.push(...binding.statements);
    wildcards.push(...(binding.wildcards ?? []));
  }
  return { substitutions, statements, wildcards };
}
