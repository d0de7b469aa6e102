import { definePipeline, lambda, s3ObjectCreated, schedule } from 'stepwise-cdk';

export default definePipeline({
  name: 'orders',
  description:
    'Validates each orders CSV dropped under orders/ in the raw bucket (and every file of the day, nightly), ' +
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
    // `raw` is the data bucket's name in this spec; Pipeline's `buckets` maps it to the real bucket,
    // each function may touch only what it declares here, and finds the real name in ctx.buckets.raw.
    ingest: { run: lambda('./handlers/ingest.ts', { reads: ['raw'] }) },
    validate: { run: lambda('./handlers/validate.ts', { reads: ['raw'] }), after: ['ingest'], gate: true },
    transform: {
      run: lambda('./handlers/transform.ts', { reads: ['raw'], writes: ['raw'] }),
      after: ['validate'],
    },
    publish: {
      run: lambda('./handlers/publish.ts', { writes: ['raw'] }),
      after: ['transform'],
      retry: { attempts: 2, from: 'transform' },
    },
    monitor: {
      run: lambda('./handlers/monitor.ts', { reads: ['raw'] }),
      after: ['publish'],
      critical: false,
    },
  },
  quarantine: { prefix: 'quarantine/' },
  maxConcurrentRuns: 5,
  timeout: '2h',
});
