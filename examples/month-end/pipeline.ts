import { definePipeline, httpCall, pipeline, schedule } from 'stepwise-cdk';

export default definePipeline({
  name: 'month-end',
  description:
    'On the first of each month: rebuilds the analytics models as a nested run of the analytics pipeline (its tasks are recorded under both pipelines), then tells finance the close is ready.',
  triggers: [schedule('cron(0 6 1 * ? *)', { timezone: 'Europe/Berlin' })],
  tasks: {
    // A nested run: starts the analytics pipeline of the same stack and waits for it, sharing this run's
    // id and logical time. Needs no stand-in: `stepwise run` runs the nested pipeline itself when its
    // spec is given too (see the README).
    analytics: { run: pipeline('analytics') },
    announce: {
      run: httpCall({
        url: 'https://finance.example.com/api/close-ready',
        method: 'POST',
        connection:
          'arn:aws:events:eu-west-1:123456789012:connection/finance/0f3c2a1b-9d8e-4c7b-a6f5-e4d3c2b1a098',
        body: { source: 'month-end' },
        local: './stand-ins/announce.ts',
      }),
      after: ['analytics'],
      critical: false,
    },
  },
});
