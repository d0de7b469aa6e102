import { definePipeline, lambda, s3ObjectCreated, schedule } from 'stepwise-cdk';

export default definePipeline({
  name: 'orders',
  description:
    'Validates each orders CSV dropped under s3://raw/orders/ (and every file of the day, nightly), ' +
    'totals it per day and currency, and publishes a daily summary. Bad files are quarantined.',
  triggers: [
    s3ObjectCreated({ bucket: 'raw', prefix: 'orders/', suffix: '.csv' }),
    schedule('cron(0 2 * * ? *)', { timezone: 'Europe/Berlin' }),
  ],
  defaults: {
    retry: { attempts: 3, interval: '2s', backoff: 2, maxDelay: '1m', jitter: 'full' },
    timeout: '15m',
  },
  tasks: {
    ingest: { run: lambda('./handlers/ingest.ts', { env: { DATA_BUCKET: 'raw' } }) },
    validate: { run: lambda('./handlers/validate.ts'), after: ['ingest'], gate: true },
    transform: {
      run: lambda('./handlers/transform.ts', { env: { DATA_BUCKET: 'raw' } }),
      after: ['validate'],
    },
    publish: {
      run: lambda('./handlers/publish.ts', { env: { DATA_BUCKET: 'raw' } }),
      after: ['transform'],
      retry: { attempts: 2, from: 'transform' },
    },
    monitor: { run: lambda('./handlers/monitor.ts'), after: ['publish'], critical: false },
  },
  quarantine: { prefix: 'quarantine/' },
  maxConcurrentRuns: 5,
  timeout: '2h',
});
