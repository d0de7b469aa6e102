import { athenaQuery, definePipeline, emrServerlessJob, glueJob, httpCall, schedule } from 'stepwise-cdk';

export default definePipeline({
  name: 'cdc-sync',
  description:
    'Every 15 minutes: captures the changes of the orders database into the lake (Glue), stages them (Athena), merges them into the curated table (Glue), then compacts the table (EMR Serverless) and tells the CRM (HTTPS).',
  triggers: [schedule('rate(15 minutes)')],
  tasks: {
    capture: {
      run: glueJob('orders-cdc-capture', {
        args: { '--source': 'orders-db', '--target': 's3://lake/changes/' },
        local: './stand-ins/capture.ts',
      }),
    },
    stage: {
      run: athenaQuery({
        file: './sql/stage.sql',
        parameters: ['logicalTime'],
        database: 'staging',
        tables: ['orders_changes'],
        output: { bucket: 'lake', prefix: 'athena/stage/' },
        reads: ['lake'],
        writes: ['lake'],
        local: './stand-ins/stage.ts',
      }),
      after: ['capture'],
    },
    merge: {
      run: glueJob('orders-cdc-merge', {
        args: { '--table': 'curated.orders' },
        local: './stand-ins/merge.ts',
      }),
      after: ['stage'],
    },
    compact: {
      run: emrServerlessJob({
        application: '00fq5n6h21j9rn09',
        entryPoint: 's3://stepwise-examples-code/cdc-sync/compact.py',
        args: ['--table', 'curated.orders'],
        sparkSubmitParameters: '--conf spark.executor.cores=2',
        reads: ['lake'],
        writes: ['lake'],
        local: './stand-ins/compact.ts',
      }),
      after: ['merge'],
    },
    notify: {
      run: httpCall({
        url: 'https://crm.example.com/api/v1/sync-events',
        method: 'POST',
        connection:
          'arn:aws:events:eu-west-1:123456789012:connection/crm/6b1f0c8e-3d4a-4b7e-9a2c-5e8f1d2c3b4a',
        body: { source: 'cdc-sync', table: 'curated.orders' },
        local: './stand-ins/notify.ts',
      }),
      after: ['merge'],
      critical: false,
    },
  },
});
