#!/usr/bin/env -S npx tsx
// The CDK app: the reference pipeline in a stack of its own making, checked by cdk-nag's AwsSolutions
// pack on every synth.
import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import orders from '../examples/orders/pipeline.ts';
import { DataBucket, Pipeline } from '../lib/index.ts';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

const stack = new Stack(app, 'Orders', { description: 'stepwise reference pipeline: orders' });
const raw = new DataBucket(stack, 'Raw');
new Pipeline(stack, 'Orders', { spec: orders, buckets: { raw: raw.bucket } });

app.synth();
