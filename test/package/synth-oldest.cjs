// Run by package.test.ts with `node -r ./redirect-aws-cdk-lib.cjs`: synthesizes the reference stack
// (bin/build-app.ts's Orders stack, without its cdk-nag plugin, whose Validations API is newer than the
// oldest aws-cdk-lib) from the compiled dist/, and prints what it made as one JSON line.
const { join } = require('node:path');
const tsx = require('tsx/cjs/api');
const { App, Stack } = require('aws-cdk-lib');
const { DataBucket, Pipeline } = require('stepwise-cdk');

const root = join(__dirname, '..', '..');
const orders = tsx.require(join(root, 'examples', 'orders', 'pipeline.ts'), __filename).default;
const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'Orders');
const raw = new DataBucket(stack, 'Raw');
new Pipeline(stack, 'Orders', { spec: orders, buckets: { raw: raw.bucket } });
const template = app.synth().getStackByName('Orders').template;
const resources = {};
const taskFunctions = [];
for (const resource of Object.values(template.Resources)) {
  resources[resource.Type] = (resources[resource.Type] ?? 0) + 1;
  const variables = resource.Properties?.Environment?.Variables ?? {};
  if (resource.Type === 'AWS::Lambda::Function' && variables.STEPWISE_PIPELINE === 'orders')
    taskFunctions.push({
      runtime: resource.Properties.Runtime,
      description: resource.Properties.Description,
    });
}
process.stdout.write(
  `${JSON.stringify({
    awsCdkLib: require('aws-cdk-lib/package.json').version,
    awsCdkLibPath: require.resolve('aws-cdk-lib'),
    constructs: require('constructs/package.json').version,
    constructsPath: require.resolve('constructs'),
    // Whether anything loaded the repository's own aws-cdk-lib or constructs beside the redirected ones.
    otherCopyLoaded: Object.keys(require.cache).some((file) =>
      /\/node_modules\/(aws-cdk-lib|constructs)\//.test(file),
    ),
    resources,
    taskFunctions,
  })}\n`,
);
