// The synth benchmark's baseline: what a CDK user writes by hand with aws-cdk-lib's sfn and tasks
// constructs for the same generated pipeline. Each task is a LambdaInvoke with the retries stepwise
// compiles for it (read from the compiled definition, so both sides retry alike), a Choice after each
// gate, a Catch to a Pass on each non-critical task; the tasks of a layer are the branches of one
// Parallel (every task depends only on the layer before), and the layers run in sequence. It has no
// run ledger, no quarantine, no dispatcher, recorder, alarms or dashboard: only the state machine and
// its three functions, built from the same bundles stepwise ships.
import { dirname, resolve } from 'node:path';
import { type App, Duration, Stack } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import {
  Chain,
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  type IChainable,
  JitterType,
  Parallel,
  Pass,
  StateMachine,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Retrier, State } from '../lib/compile/asl.ts';
import { compilePipeline } from '../lib/compile/states.ts';
import { bundleHandler } from '../lib/constructs/bundle.ts';
import type { PipelineDefinition } from '../lib/spec/types.ts';

/** Every state of a compiled definition by name, those inside Parallel branches included. */
function statesByName(scope: { States: Record<string, State> }, into = new Map<string, State>()) {
  for (const [name, state] of Object.entries(scope.States)) {
    into.set(name, state);
    for (const branch of (state.Branches as { States: Record<string, State> }[] | undefined) ?? [])
      statesByName(branch, into);
  }
  return into;
}

export function handWrittenStack(app: App, id: string, spec: PipelineDefinition): Stack {
  const stack = new Stack(app, id);
  const compiled = statesByName(compilePipeline(spec).definition);
  const functions = new Map<string, LambdaFunction>();
  const functionFor = (entry: string) => {
    const path = resolve(dirname(spec.specFile ?? '.'), entry);
    let fn = functions.get(path);
    if (!fn) {
      fn = new LambdaFunction(stack, `Handler${functions.size}`, {
        runtime: Runtime.NODEJS_24_X,
        handler: 'index.handler',
        code: Code.fromAsset(bundleHandler(path)),
        timeout: Duration.minutes(15),
      });
      functions.set(path, fn);
    }
    return fn;
  };

  const layers = new Map<number, typeof spec.tasks>();
  for (const task of spec.tasks) {
    const layer = Number(/^l(\d+)-/.exec(task.id)?.[1] ?? 0);
    layers.set(layer, [...(layers.get(layer) ?? []), task]);
  }

  let chain: Chain | undefined;
  for (const [layer, tasks] of [...layers].sort((a, b) => a[0] - b[0])) {
    const parallel = new Parallel(stack, `Layer ${layer}`, {
      // Each branch's result, back under $.results, for the next layer's tasks to read.
      resultSelector: Object.fromEntries(tasks.map((t, i) => [`${t.id}.$`, `$[${i}].results.${t.id}`])),
      resultPath: '$.results',
    });
    for (const task of tasks) {
      if (task.run.kind !== 'lambda') throw new Error(`${task.id}: the baseline builds Lambda tasks only`);
      const invoke = new LambdaInvoke(stack, task.id, {
        lambdaFunction: functionFor(task.run.entry),
        payload: TaskInput.fromObject({ task: task.id, 'inputs.$': '$.results', 'run.$': '$.run' }),
        payloadResponseOnly: true,
        resultPath: `$.results.${task.id}`,
        retryOnServiceExceptions: false,
      });
      for (const r of (compiled.get(task.id)?.Retry as Retrier[] | undefined) ?? [])
        invoke.addRetry({
          errors: [...r.ErrorEquals],
          maxAttempts: r.MaxAttempts,
          ...(r.IntervalSeconds !== undefined ? { interval: Duration.seconds(r.IntervalSeconds) } : {}),
          ...(r.BackoffRate !== undefined ? { backoffRate: r.BackoffRate } : {}),
          ...(r.MaxDelaySeconds !== undefined ? { maxDelay: Duration.seconds(r.MaxDelaySeconds) } : {}),
          ...(r.JitterStrategy
            ? { jitterStrategy: r.JitterStrategy === 'FULL' ? JitterType.FULL : JitterType.NONE }
            : {}),
        });
      let branch: IChainable = invoke;
      if (task.critical === false)
        invoke.addCatch(new Pass(stack, `${task.id} failed`, { resultPath: '$.skipped' }), {
          resultPath: `$.errors.${task.id}`,
        });
      if (task.gate)
        branch = invoke.next(
          new Choice(stack, `${task.id} passed?`)
            .when(
              Condition.booleanEquals(`$.results.${task.id}.pass`, false),
              new Fail(stack, `${task.id} rejected`, { error: 'GateRejected' }),
            )
            .otherwise(new Pass(stack, `${task.id} passed`)),
        );
      parallel.branch(branch);
    }
    chain = chain ? chain.next(parallel) : Chain.start(parallel);
  }
  if (!chain) throw new Error(`${spec.name} has no tasks`);
  new StateMachine(stack, 'StateMachine', { definitionBody: DefinitionBody.fromChainable(chain) });
  return stack;
}
