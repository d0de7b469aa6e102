// The files `stepwise init` writes. They are string constants, not loose files, so the build carries
// them into dist/ with the code that uses them.

/** What the templates are filled with. */
export interface InitNames {
  /** The pipeline's name, such as `sales`: its directory under pipelines/ and its spec `name`. */
  readonly pipeline: string;
  /** PascalCase of the pipeline name, such as `Sales`. */
  readonly pascal: string;
  /** What a relative import ends with: '' in a CommonJS project, '.js' in an ESM one (NodeNext). */
  readonly importExt: string;
}

/** The versions a new project depends on: the ones this release of stepwise-cdk is built and tested with. */
export interface InitVersions {
  readonly stepwiseCdk: string;
  readonly awsCdkLib: string;
  readonly constructs: string;
  readonly awsCdk: string;
  readonly typescript: string;
  readonly tsx: string;
  readonly typesNode: string;
  readonly jest: string;
  readonly swcJest: string;
  readonly swcCore: string;
  readonly typesJest: string;
}

export const stackFileName = (n: InitNames) => `lib/${n.pipeline}-pipeline-stack.ts`;
export const stackClassName = (n: InitNames) => `${n.pascal}PipelineStack`;
export const stackId = (n: InitNames) => `${n.pascal}Pipeline`;
export const specFileName = (n: InitNames) => `pipelines/${n.pipeline}/pipeline.ts`;
export const testFileName = (n: InitNames) => `test/${n.pipeline}-pipeline.test.ts`;

export function pipelineSpec(n: InitNames): string {
  return `import { definePipeline, lambda, schedule } from 'stepwise-cdk';

// A pipeline: every day at 03:00 UTC, extract, then load. Handler paths are relative to this file.
// Try it on this machine: npx stepwise run ${specFileName(n)} --input '{"day":"2026-01-31"}'
export default definePipeline({
  name: '${n.pipeline}',
  triggers: [schedule('cron(0 3 * * ? *)', { timezone: 'UTC' })],
  defaults: { retry: { attempts: 3, interval: '2s', backoff: 2 }, timeout: '5m' },
  tasks: {
    extract: { run: lambda('./handlers/extract.ts') },
    load: { run: lambda('./handlers/load.ts'), after: ['extract'] },
  },
});
`;
}

export const extractHandler = `import { defineTask } from 'stepwise-cdk/task';

export interface Extracted {
  readonly day: string;
  readonly records: number;
}

// Heavy work belongs in Glue, Athena or ECS; a task returns small references (a count, an S3 key),
// never the data itself: Step Functions passes at most 256 KiB from one task to the next.
export const handler = defineTask(async (ctx): Promise<Extracted> => {
  const trigger = ctx.run.trigger;
  const input = trigger.type === 'manual' ? (trigger.input as { day?: unknown } | undefined) : undefined;
  // The run's logical time is the schedule slot (or when a manual run started): partition by it.
  const day = typeof input?.day === 'string' ? input.day : ctx.run.logicalTime.slice(0, 10);
  return { day, records: 3 };
});
`;

export function loadHandler(n: InitNames): string {
  return `import { DataError, defineTask } from 'stepwise-cdk/task';
import type { Extracted } from './extract${n.importExt}';

// A DataError means bad data: the run is QUARANTINED with this reason and never retried. Any other
// error is retried under the pipeline's retry policy.
export const handler = defineTask(async (ctx) => {
  const extracted = ctx.inputs.extract as Extracted;
  if (extracted.records === 0) throw new DataError(\`no records for \${extracted.day}\`);
  return { day: extracted.day, loaded: extracted.records };
});
`;
}

export function stackModule(n: InitNames): string {
  return `import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Pipeline } from 'stepwise-cdk';
import ${camel(n.pipeline)} from '../pipelines/${n.pipeline}/pipeline${n.importExt}';

/**
 * The ${n.pipeline} pipeline: its state machine, one function per handler and its schedule, with the run
 * ledger, dispatcher, recorder and alert topic stepwise builds around every pipeline in a stack.
 */
export class ${stackClassName(n)} extends cdk.Stack {
  readonly pipeline: Pipeline;

  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);
    this.pipeline = new Pipeline(this, '${n.pascal}', { spec: ${camel(n.pipeline)} });
  }
}
`;
}

export function stackTest(n: InitNames): string {
  return `import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ${stackClassName(n)} } from '../lib/${n.pipeline}-pipeline-stack${n.importExt}';

describe('${stackClassName(n)}', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(new ${stackClassName(n)}(new cdk.App(), 'Test'));
  });

  test('one state machine runs the pipeline, task by task', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const definition = definitionText(machine?.Properties?.DefinitionString);
    expect(definition).toContain('"extract":{"Type":"Task"');
    expect(definition).toContain('"load":{"Type":"Task"');
  });

  test('each handler is a Lambda function of the pipeline', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Environment: { Variables: Match.objectLike({ STEPWISE_PIPELINE: '${n.pipeline}' }) } },
      2,
    );
  });

  test('a schedule starts it every day at 03:00 UTC', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
    });
  });
});

/** A state machine definition as text; each CloudFormation reference in it (an ARN) reads '<ref>'. */
function definitionText(definition: string | { 'Fn::Join': [string, unknown[]] }): string {
  if (typeof definition === 'string') return definition;
  return definition['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<ref>')).join('');
}
`;
}

export function appEntry(n: InitNames): string {
  return `#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib';
${appImportLine(n)}

const app = new cdk.App();
${appStackLine(n)}
`;
}

/** The two lines that put the pipeline's stack in an existing app (bin/<app>.ts). */
export const appImportLine = (n: InitNames) =>
  `import { ${stackClassName(n)} } from '../lib/${n.pipeline}-pipeline-stack${n.importExt}';`;
export const appStackLine = (n: InitNames) => `new ${stackClassName(n)}(app, '${stackId(n)}');`;

export const gitignoreLines = ['# stepwise local runs: ledger, S3 objects, alerts', '.stepwise/'];

export const newGitignore = `node_modules
cdk.out
.cdk.staging
${gitignoreLines.join('\n')}
`;

export function packageManifest(name: string, v: InitVersions): string {
  const manifest = {
    name,
    version: '0.1.0',
    private: true,
    scripts: { build: 'tsc', test: 'jest', cdk: 'cdk' },
    devDependencies: {
      '@swc/core': v.swcCore,
      '@swc/jest': v.swcJest,
      '@types/jest': v.typesJest,
      '@types/node': v.typesNode,
      'aws-cdk': v.awsCdk,
      jest: v.jest,
      tsx: v.tsx,
      typescript: v.typescript,
    },
    dependencies: {
      'aws-cdk-lib': v.awsCdkLib,
      constructs: v.constructs,
      'stepwise-cdk': v.stepwiseCdk,
    },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** The CDK app's settings; `context` holds the feature flags aws-cdk-lib recommends for a new project. */
export function cdkJson(context: Record<string, unknown>): string {
  const settings = {
    app: 'npx tsc && npx tsx bin/app.ts',
    watch: {
      include: ['**'],
      exclude: [
        'README.md',
        'cdk*.json',
        '**/*.d.ts',
        '**/*.js',
        'tsconfig.json',
        'package*.json',
        'node_modules',
        'test',
      ],
    },
    context,
  };
  return `${JSON.stringify(settings, null, 2)}\n`;
}

// What `cdk init app --language typescript` writes: type-checked by `npx tsc`, run by tsx.
export const tsconfig = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['es2022'],
      strict: true,
      noImplicitReturns: true,
      skipLibCheck: true,
      noEmit: true,
      isolatedModules: true,
      typeRoots: ['./node_modules/@types'],
      types: ['jest', 'node'],
    },
    exclude: ['node_modules', 'cdk.out', '.stepwise'],
  },
  null,
  2,
)}\n`;

export const jestConfig = `module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\\\.tsx?$': ['@swc/jest'],
  },
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
};
`;

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
