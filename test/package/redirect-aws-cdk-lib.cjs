// Preloaded (`node -r`) into a child process: every require of `aws-cdk-lib` (and its subpaths) resolves
// to the copy installed as `aws-cdk-lib-oldest`, and of `constructs` to `constructs-oldest`, the oldest
// versions the peer ranges admit, and `stepwise-cdk` to this repository's compiled dist/, as an
// installed package would load.
const Module = require('node:module');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
const original = Module._resolveFilename;
Module._resolveFilename = function resolveRedirected(request, parent, ...rest) {
  let target = request;
  if (request === 'aws-cdk-lib' || request.startsWith('aws-cdk-lib/'))
    target = `aws-cdk-lib-oldest${request.slice('aws-cdk-lib'.length)}`;
  else if (request === 'constructs' || request.startsWith('constructs/'))
    target = `constructs-oldest${request.slice('constructs'.length)}`;
  else if (request === 'stepwise-cdk') target = join(root, 'dist', 'lib', 'index.js');
  else if (request === 'stepwise-cdk/task') target = join(root, 'dist', 'lambdas', 'task', 'index.js');
  return original.call(this, target, parent, ...rest);
};
