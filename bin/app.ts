#!/usr/bin/env -S npx tsx
// The CDK app `cdk synth` runs; what it holds is in build-app.ts.
import { buildApp } from './build-app.ts';

buildApp().synth();
