import { afterPipeline, batchJob, definePipeline, ecsTask, schedule } from 'stepwise-cdk';

// One dbt image, three commands: each step is a Fargate task of its own, so a failed `dbt test` is
// retried (and redriven) without running the models again.
const DBT_IMAGE = 'ghcr.io/dbt-labs/dbt-postgres:1.8.2';

export default definePipeline({
  name: 'analytics',
  description:
    'Nightly, and after each successful orders run: builds the dbt models (ECS), tests them (ECS), ' +
    'generates their docs (ECS), then exports the day’s metrics (Batch).',
  triggers: [schedule('cron(0 4 * * ? *)', { timezone: 'Europe/Berlin' }), afterPipeline('orders')],
  tasks: {
    'dbt-run': {
      run: ecsTask({
        image: DBT_IMAGE,
        command: ['dbt', 'run', '--target', 'prod'],
        cpu: 1024,
        memory: 2048,
        local: './stand-ins/dbt.ts',
      }),
    },
    'dbt-test': {
      run: ecsTask({
        image: DBT_IMAGE,
        command: ['dbt', 'test', '--target', 'prod'],
        local: './stand-ins/dbt.ts',
      }),
      after: ['dbt-run'],
    },
    'dbt-docs': {
      run: ecsTask({
        image: DBT_IMAGE,
        command: ['dbt', 'docs', 'generate', '--target', 'prod'],
        local: './stand-ins/dbt.ts',
      }),
      after: ['dbt-test'],
      // The docs are a convenience: a failure warns and the run goes on.
      critical: false,
    },
    'export-metrics': {
      run: batchJob({
        queue: 'analytics-exports',
        definition: 'export-metrics',
        command: ['python', '-m', 'export_metrics', '--since', 'yesterday'],
        local: './stand-ins/export-metrics.ts',
      }),
      after: ['dbt-docs'],
    },
  },
});
