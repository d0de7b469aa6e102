// Whatever the compiler can emit, the local engine serves, or refuses up front with a clear message.
import { describe, expect, it } from 'vitest';
import type { State, StateMachineDefinition } from '../../lib/compile/asl.ts';
import { INTEGRATIONS, type IntegrationName } from '../../lib/compile/integrations.ts';
import { compilePipeline } from '../../lib/compile/states.ts';
import { LocalEngine, UnsupportedResourceError } from '../../lib/local/engine.ts';
import { integrationFor, LOCAL_INTEGRATIONS } from '../../lib/local/integrations.ts';
import { LambdaHost } from '../../lib/local/lambda-host.ts';
import type { LocalDeployment, LocalFunction } from '../../lib/local/template.ts';
import type { PipelineDefinition } from '../../lib/spec/types.ts';
import { allStates } from '../private/asl.ts';
import { largePipeline } from '../private/large-pipeline.ts';
import { substitute } from '../private/run-definition.ts';
import { NOTIFY_HANDLER, testPipeline } from '../private/specs.ts';

const specModules = {
  'examples/orders': () => import('../../examples/orders/pipeline.ts'),
  'test/fixtures/sales': () => import('../fixtures/sales/pipeline.ts'),
  'test/fixtures/local/diamond': () => import('../fixtures/local/diamond/pipeline.ts'),
  'test/fixtures/local/intake': () => import('../fixtures/local/intake/pipeline.ts'),
  'test/fixtures/local/nshape': () => import('../fixtures/local/nshape/pipeline.ts'),
};

/** Every kind of state the compiler writes: a gate, a non-critical task, a retry group, a quarantine bucket. */
const everyFeature = testPipeline(
  {
    a: {},
    b: { after: ['a'], gate: true },
    c: { after: ['a'], run: { kind: 'lambda', entry: NOTIFY_HANDLER }, critical: false },
    d: { after: ['b', 'c'], retry: { attempts: 2, from: 'b' } },
  },
  { name: 'features', quarantine: { prefix: 'bad/', bucket: 'quarantine-bucket' } },
);

async function allSpecs(): Promise<(readonly [string, PipelineDefinition])[]> {
  const loaded = await Promise.all(
    Object.entries(specModules).map(
      async ([name, load]) => [name, (await load()).default as PipelineDefinition] as const,
    ),
  );
  return [...loaded, ['every feature', everyFeature], ['300 tasks', largePipeline(300)]];
}

/** A deployment of one compiled definition, its functions standing in for the handlers it names. */
function deploymentOf(definition: StateMachineDefinition): LocalDeployment {
  const substituted = substitute(definition);
  const functions = new Map<string, LocalFunction>();
  for (const { state } of allStates(substituted)) {
    const resource = String(state.Resource ?? '');
    if (state.Type !== 'Task' || !resource.startsWith('arn:aws:lambda:')) continue;
    functions.set(resource, {
      logicalId: resource.split(':').at(-1) as string,
      arn: resource,
      codeFile: '/nonexistent/index.mjs',
      handlerExport: 'handler',
      environment: {},
      timeoutSeconds: 60,
    });
  }
  const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:Test';
  return {
    stateMachines: [{ logicalId: 'Test', arn, definition: substituted }],
    functions,
    tables: [],
    rules: [],
    schedules: [],
    topics: [],
  };
}

/** The engine, as `stepwise run` builds it; the services are never reached before a run starts. */
const engineFor = (deployment: LocalDeployment) =>
  new LocalEngine(deployment, new LambdaHost(), { services: {} as never });

/** The partition placeholder the compiler writes in integration ARNs. */
const PARTITION = `\${Partition}`;

const taskResources = (definition: StateMachineDefinition) =>
  allStates(definition)
    .filter(({ state }) => state.Type === 'Task')
    .map(({ name, state }) => ({ name, resource: String(state.Resource) }));

describe('local engine coverage', () => {
  it('serves every service integration the compiler knows', () => {
    expect(Object.keys(LOCAL_INTEGRATIONS).sort()).toEqual(Object.keys(INTEGRATIONS).sort());
    for (const [name, arn] of Object.entries(INTEGRATIONS)) {
      expect(typeof LOCAL_INTEGRATIONS[name as IntegrationName]).toBe('function');
      expect(integrationFor(arn.replace(PARTITION, 'aws'))).toBe(name);
    }
  });

  it('serves every Task resource in the compiled definitions of every fixture spec', async () => {
    const unserved: string[] = [];
    const integrationsUsed = new Set<string>();
    for (const [name, spec] of await allSpecs()) {
      const { definition, handlers } = compilePipeline(spec);
      const handlerResources = new Set(handlers.map((h) => `\${Handler_${h.name}}`));
      for (const { name: state, resource } of taskResources(definition)) {
        if (handlerResources.has(resource)) continue;
        const integration = integrationFor(resource.replace(PARTITION, 'aws'));
        if (integration) integrationsUsed.add(integration);
        else unserved.push(`${name}: '${state}' uses ${resource}`);
      }
      // And the engine itself accepts the whole definition.
      expect(() => engineFor(deploymentOf(definition)), name).not.toThrow();
    }
    expect(unserved).toEqual([]);
    // Not vacuous: between them, the specs use every integration.
    expect([...integrationsUsed].sort()).toEqual(Object.keys(INTEGRATIONS).sort());
  });

  it('fails when a state uses a resource it cannot serve, naming the state', () => {
    const sqs: State = {
      Type: 'Task',
      Resource: 'arn:aws:states:::sqs:sendMessage',
      Parameters: { QueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/q', MessageBody: 'x' },
      End: true,
    };
    const definition = (states: Record<string, State>): LocalDeployment =>
      deploymentOf({ StartAt: Object.keys(states)[0] as string, States: states } as StateMachineDefinition);

    expect(() => engineFor(definition({ 'Send message': sqs }))).toThrowError(UnsupportedResourceError);
    expect(() => engineFor(definition({ 'Send message': sqs }))).toThrowErrorMatchingInlineSnapshot(
      `[UnsupportedResourceError: state 'Send message' uses arn:aws:states:::sqs:sendMessage, which the local engine cannot serve. Local runs serve Lambda functions from this app and the ledger, S3 and SNS integrations stepwise emits; run this pipeline on AWS (cdk deploy), or replace the state with a Lambda task.]`,
    );
    // Inside a Parallel branch too.
    const nested = definition({
      Fork: {
        Type: 'Parallel',
        Branches: [{ StartAt: 'Deep send', States: { 'Deep send': sqs } }],
        End: true,
      },
    });
    expect(() => engineFor(nested)).toThrowError(/^state 'Deep send' uses arn:aws:states:::sqs/);
  });

  it("refuses a service adapter's task without a stand-in, naming the task and how to add one", () => {
    const glue: State = {
      Type: 'Task',
      Resource: 'arn:aws:states:::glue:startJobRun.sync',
      Parameters: { JobName: 'nightly' },
      End: true,
    };
    const deployment = deploymentOf({ StartAt: 'load', States: { load: glue } } as StateMachineDefinition);
    expect(() => engineFor(deployment)).toThrowError(
      /^task 'load' runs glue:startJobRun\.sync, which stepwise run cannot call: .* add local: '\.\/stand-ins\/load\.ts' to its glueJob\(\.\.\.\) options/,
    );
  });

  it('fails when a Lambda task names a function the app does not define', () => {
    const deployment = deploymentOf(compilePipeline(testPipeline({ only: {} })).definition);
    const withoutFunctions: LocalDeployment = { ...deployment, functions: new Map() };
    expect(() => engineFor(withoutFunctions)).toThrowError(
      /^state 'only' uses arn:aws:lambda:[^ ]+:function:step, which the local engine cannot serve/,
    );
  });
});
