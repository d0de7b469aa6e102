// The CDK app: the reference pipeline and the examples, in stacks of their own making, checked by cdk-nag's AwsSolutions
// pack on every synth. `bin/app.ts` synthesizes it for `cdk`; tests and benchmarks build it here.
import { App, type AppProps, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DataBucket, Pipeline } from 'stepwise-cdk';
import analytics from '../examples/analytics/pipeline.ts';
import cdcSync from '../examples/cdc-sync/pipeline.ts';
import monthEnd from '../examples/month-end/pipeline.ts';
import orders from '../examples/orders/pipeline.ts';

/** Builds the app without synthesizing it, so a caller can choose the output directory and context. */
export function buildApp(props: AppProps = {}): App {
  const app = new App(props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const stack = new Stack(app, 'Orders', { description: 'stepwise reference pipeline: orders' });
  const raw = new DataBucket(stack, 'Raw');
  new Pipeline(stack, 'Orders', { spec: orders, buckets: { raw: raw.bucket } });
  // afterPipeline('orders') listens for the orders runs of its own stack's platform: same stack.
  new Pipeline(stack, 'Analytics', { spec: analytics });
  // pipeline('analytics') runs the analytics pipeline of its own stack, nested.
  new Pipeline(stack, 'MonthEnd', { spec: monthEnd });

  const cdc = new Stack(app, 'CdcSync', {
    description:
      'stepwise example: change data capture through Glue, Athena, EMR Serverless and an HTTPS API',
  });
  const lake = new DataBucket(cdc, 'Lake');
  new Pipeline(cdc, 'CdcSync', { spec: cdcSync, buckets: { lake: lake.bucket } });
  return app;
}
