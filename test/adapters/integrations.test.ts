// Issue 13's inventory: the example app's state machines call every service integration an adapter
// compiles to, each from a task of an example, and every example's service tasks have a stand-in.
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../bin/build-app.ts';
import { Pipeline } from '../../lib/constructs/pipeline.ts';
import { SERVICE_ADAPTERS } from '../../lib/spec/adapters/registry.ts';
import { removeOutdir, tempOutdir } from '../private/synth.ts';

/** The integrations a state machine's Task states call, as `service:api[.pattern]`. */
interface Machine {
  readonly resources: readonly string[];
}

let outdir: string;
let machines: Machine[];
let pipelines: Pipeline[];

beforeAll(() => {
  outdir = tempOutdir();
  const app = buildApp({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  pipelines = app.node.findAll().filter((c): c is Pipeline => c instanceof Pipeline);
  machines = app.node.children
    .filter((c): c is Stack => c instanceof Stack)
    .flatMap((stack) =>
      Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine')).map(
        (machine) => {
          const text = JSON.stringify(machine.Properties.DefinitionString);
          return {
            resources: [...text.matchAll(/states:::([A-Za-z0-9:.-]+)/g)].map((m) => m[1] as string),
          };
        },
      ),
    );
});

afterAll(() => removeOutdir(outdir));

describe('the example app', () => {
  it.each([
    'glue:startJobRun.sync',
    'ecs:runTask.sync',
    'athena:startQueryExecution.sync',
    'batch:submitJob.sync',
    'emr-serverless:startJobRun.sync',
    'states:startExecution.sync:2',
    'http:invoke',
  ])('has a state machine that calls %s', (integration) => {
    expect(machines.some((m) => m.resources.includes(integration))).toBe(true);
  });

  it('uses every registered adapter in some example', () => {
    const used = new Set(pipelines.flatMap((p) => p.spec.tasks.map((t) => t.run.kind)));
    expect(Object.keys(SERVICE_ADAPTERS).filter((kind) => !used.has(kind as never))).toEqual([]);
  });

  it("gives every example's service task a local stand-in, so each example runs with stepwise run", () => {
    const missing = pipelines.flatMap((p) =>
      p.spec.tasks
        .filter((t) => t.run.kind !== 'lambda' && t.run.kind !== 'pipeline' && t.run.local === undefined)
        .map((t) => `${p.spec.name}.${t.id}`),
    );
    expect(missing).toEqual([]);
  });
});
