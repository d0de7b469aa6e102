// Declared data access under the local IAM, end to end through `stepwise run`: a task that writes only
// what it declared succeeds; the same task declared as a reader fails at that task with AWS's denial;
// what a task copies sends "Object Created" on to the rules (a downstream pipeline runs); an odd key
// is quarantined and moved.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliResult,
  fixture,
  jsonOf,
  type RunJson,
  s3Objects,
  stepwise,
  taskOf,
  tempStateDir,
} from './stepwise-cli.ts';

const data = fixture('access/data/orders.csv');
const granted = tempStateDir('iam-granted');
const readOnly = tempStateDir('iam-read-only');
const odd = tempStateDir('iam-odd');
const ODD_KEY = 'in/odd/reject a+b&c=d? é.csv';

let copied: CliResult;
let watched: CliResult;
let denied: CliResult;
let quarantined: CliResult;

beforeAll(async () => {
  copied = await stepwise(
    'run',
    fixture('access/granted.ts'),
    fixture('access/curated-watch.ts'),
    '--s3-object',
    `landing/in/orders.csv=${data}`,
    '--json',
    '--state-dir',
    granted.dir,
  );
  watched = await stepwise('runs', 'curated-watch', '--json', '--state-dir', granted.dir);
  denied = await stepwise(
    'run',
    fixture('access/read-only.ts'),
    '--s3-object',
    `landing/in/orders.csv=${data}`,
    '--json',
    '--state-dir',
    readOnly.dir,
  );
  quarantined = await stepwise(
    'run',
    fixture('access/granted.ts'),
    '--s3-object',
    `landing/${ODD_KEY}=${data}`,
    '--json',
    '--state-dir',
    odd.dir,
  );
}, 600_000);

afterAll(() => {
  for (const dir of [granted, readOnly, odd]) dir.remove();
});

describe("a task declared reads: ['landing'], writes: ['curated']", () => {
  it('copies its trigger object into the curated bucket and SUCCEEDS', async () => {
    expect([jsonOf<RunJson>(copied).status, copied.code]).toEqual(['SUCCEEDED', 0]);
    expect(await s3Objects(granted.dir, 'curated', ['in/orders.csv'])).toEqual({
      'in/orders.csv': readFileSync(data, 'utf8'),
    });
  });

  it('sends Object Created for the copy through the rules: the pipeline watching curated ran once', () => {
    const runs = jsonOf<{ runs: (RunJson & { trigger: { key?: string } })[] }>(watched).runs;
    expect(runs.map((r) => [r.status, r.trigger.key])).toEqual([['SUCCEEDED', 'in/orders.csv']]);
  });
});

describe("the same task declared only reads: ['landing', 'curated']", () => {
  it('is FAILED at that task, with AccessDenied naming s3:PutObject and the resource', async () => {
    const report = jsonOf<RunJson & { error?: { task: string; error: string; message: string } }>(denied);
    expect([report.status, denied.code]).toEqual(['FAILED', 1]);
    const denial =
      /^User: arn:aws:sts::000000000000:assumed-role\/Pipelinereadonly\w+\/Pipelinereadonly\w+ is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::curated\/in\/orders.csv" because no identity-based policy allows the s3:PutObject action$/;
    expect(report.error).toEqual({
      task: 'copy',
      error: 'AccessDenied',
      message: expect.stringMatching(denial),
    });
    expect(taskOf(report, 'copy')).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: expect.stringMatching(denial),
    });
    expect(await s3Objects(readOnly.dir, 'curated', ['in/orders.csv'])).toEqual({ 'in/orders.csv': null });
  });
});

describe('an odd key, with + & = ? space and unicode', () => {
  it('is QUARANTINED, and the object moved to the quarantine key', async () => {
    const report = jsonOf<RunJson>(quarantined);
    expect(report.status).toBe('QUARANTINED');
    expect(report.quarantine).toEqual({
      bucket: 'landing',
      key: `quarantine/${ODD_KEY}`,
      reason: `${ODD_KEY} is marked as rejected`,
    });
    expect(await s3Objects(odd.dir, 'landing', [ODD_KEY, `quarantine/${ODD_KEY}`])).toEqual({
      [ODD_KEY]: null,
      [`quarantine/${ODD_KEY}`]: readFileSync(data, 'utf8'),
    });
  });
});
