import { ArnFormat, Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct, IConstruct } from 'constructs';
import { EXECUTION_EVENTS_RULE, type NestedPipelineRun } from '../../spec/adapters/nested-pipeline.ts';
import { didYouMean } from '../../spec/did-you-mean.ts';
import { acknowledgeWildcardResource } from '../nag.ts';
import type { ServiceBinding } from './service-binding.ts';

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
    return nestedExecutionBinding(
      scope,
      Lazy.string({ produce: () => machine().stateMachineArn }),
      Lazy.string({ produce: () => machine().stateMachineName }),
      `the executions of pipeline '${run.pipelineName}', which task '${task.id}' runs nested`,
    );
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
): { substitutions: Record<string, string>; statements: iam.PolicyStatement[] } {
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
  acknowledgeOnceBound(
    scope,
    executions,
    `Execution ARNs end in the execution's name, which Step Functions generates for each nested run; the wildcard covers only ${what}.`,
  );
  return { substitutions: { stateMachine: stateMachineArn }, statements };
}

/**
 * The statements are added to the state machine's role after binding: acknowledge the wildcard once
 * the role exists, when the app is validated.
 */
function acknowledgeOnceBound(scope: Construct, resource: string, reason: string): void {
  scope.node.addValidation({
    validate: () => {
      const machine = (scope as Partial<PipelineLike>).stateMachine;
      if (machine) acknowledgeWildcardResource(machine.role as iam.Role, resource, reason);
      return [];
    },
  });
}
