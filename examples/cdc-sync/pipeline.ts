import { definePipeline, glueJob, schedule } from 'stepwise-cdk';

export default definePipeline({
  name: 'cdc-sync',
  description:
    'Every 15 minutes: captures the changes of the orders database into the lake (Glue), then merges them into the curated table (Glue).',
  triggers: [schedule('rate(15 minutes)')],
  tasks: {
    capture: {
      run: glueJob('orders-cdc-capture', {
        args: { '--source': 'orders-db', '--target': 's3://lake/changes/' },
        local: './stand-ins/capture.ts',
      }),
    },
    merge: {
      run: glueJob('orders-cdc-merge', {
        args: { '--table': 'curated.orders' },
        local: './stand-ins/merge.ts',
      }),
      after: ['capture'],
    },
  },
});
