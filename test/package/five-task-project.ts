// What a data engineer writes in a project made by `cdk init app --language typescript`: a pipeline of
// five tasks (extract fans out to clean and enrich, a gate fans them in, publish writes the result) with
// its own handlers, the stack with a bucket that deploys it (the project's own lib/<app>-stack.ts) and
// a Jest test with Template assertions. Written as cdk init's files are: CommonJS, no `.ts` specifiers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The tasks, in the order the run report lists them. */
export const FIVE_TASKS = ['extract', 'clean', 'enrich', 'check', 'publish'] as const;

const files = (stackFile: string, stackClass: string): Record<string, string> => ({
  'pipelines/daily/pipeline.ts': `import { definePipeline, lambda, schedule } from 'stepwise-cdk';

export default definePipeline({
  name: 'daily',
  triggers: [schedule('cron(0 3 * * ? *)', { timezone: 'UTC' })],
  tasks: {
    extract: { run: lambda('./handlers/extract.ts', { writes: ['lake'] }) },
    clean: { run: lambda('./handlers/clean.ts', { reads: ['lake'] }), after: ['extract'] },
    enrich: { run: lambda('./handlers/enrich.ts'), after: ['extract'] },
    check: { run: lambda('./handlers/check.ts'), after: ['clean', 'enrich'], gate: true },
    publish: { run: lambda('./handlers/publish.ts', { writes: ['lake'] }), after: ['check'] },
  },
});
`,
  'pipelines/daily/handlers/extract.ts': `import { defineTask } from 'stepwise-cdk/task';

export interface Extracted {
  readonly key: string;
  readonly rows: number;
}

export const handler = defineTask(async (ctx): Promise<Extracted> => ({
  key: \`s3://\${ctx.buckets.lake}/raw/\${ctx.run.logicalTime.slice(0, 10)}.csv\`,
  rows: 10,
}));
`,
  'pipelines/daily/handlers/clean.ts': `import { defineTask } from 'stepwise-cdk/task';
import type { Extracted } from './extract';

export const handler = defineTask(async (ctx) => ({ rows: (ctx.inputs.extract as Extracted).rows - 1 }));
`,
  'pipelines/daily/handlers/enrich.ts': `import { defineTask } from 'stepwise-cdk/task';
import type { Extracted } from './extract';

export const handler = defineTask(async (ctx) => ({ customers: (ctx.inputs.extract as Extracted).rows * 2 }));
`,
  'pipelines/daily/handlers/check.ts': `import { defineTask } from 'stepwise-cdk/task';

export const handler = defineTask(async (ctx) => {
  const { rows } = ctx.inputs.clean as { rows: number };
  const { customers } = ctx.inputs.enrich as { customers: number };
  return rows > 0 && customers > 0 ? { pass: true } : { pass: false, reason: 'nothing to publish' };
});
`,
  'pipelines/daily/handlers/publish.ts': `import { defineTask } from 'stepwise-cdk/task';

export const handler = defineTask(async (ctx) => ({ published: \`s3://\${ctx.buckets.lake}/curated/\${ctx.run.id}.json\` }));
`,
  [stackFile]: `import * as cdk from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { Pipeline } from 'stepwise-cdk';
import daily from '../pipelines/daily/pipeline';

export class ${stackClass} extends cdk.Stack {
  readonly pipeline: Pipeline;

  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);
    const lake = new s3.Bucket(this, 'Lake', { enforceSSL: true });
    this.pipeline = new Pipeline(this, 'Daily', { spec: daily, buckets: { lake } });
  }
}
`,
  [`test/${stackFile.slice('lib/'.length, -'-stack.ts'.length)}.test.ts`]: `import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ${stackClass} } from '../${stackFile.slice(0, -'.ts'.length)}';

test('the daily pipeline: one state machine, a function per task, the bucket', () => {
  const template = Template.fromStack(new ${stackClass}(new cdk.App(), 'Test'));
  template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  template.resourceCountIs('AWS::S3::Bucket', 1);
  template.resourcePropertiesCountIs(
    'AWS::Lambda::Function',
    { Environment: { Variables: Match.objectLike({ STEPWISE_PIPELINE: 'daily' }) } },
    5,
  );
});
`,
});

/**
 * Writes the pipeline, its handlers and its Jest test into a cdk init project, and replaces the
 * project's own stack module (`lib/<app>-stack.ts`, class `<App>Stack`, which its bin/ already uses).
 */
export function writeFiveTaskPipeline(dir: string, app: string): void {
  const stackClass = `${app.charAt(0).toUpperCase()}${app.slice(1)}Stack`;
  for (const [path, content] of Object.entries(files(`lib/${app}-stack.ts`, stackClass))) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}
