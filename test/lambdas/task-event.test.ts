// The task event check, written by hand to keep zod out of every handler's bundle: what it accepts,
// what it keeps, and how it words each problem.

import { defineTask, TaskEventError } from 'stepwise-cdk/task';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const run = {
  id: 'run-1',
  pipeline: 'orders',
  trigger: { type: 'manual' },
  logicalTime: '2026-11-01T02:00:00Z',
};
const event = (overrides: Record<string, unknown> = {}) => ({
  run,
  task: 'ingest',
  gate: false,
  inputs: {},
  params: {},
  retryCount: 0,
  ...overrides,
});
const withRun = (overrides: Record<string, unknown>) => event({ run: { ...run, ...overrides } });
const echoRun = defineTask((ctx) => ctx.run);

beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  return () => vi.restoreAllMocks();
});

/** The problem lines of the TaskEventError a handler fails with. */
async function problems(received: unknown): Promise<string[]> {
  const error = await echoRun(received).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(TaskEventError);
  return (error as Error).message.split('\n').slice(1, -1);
}

describe('the task event check', () => {
  it('keeps only the fields of the contract, and optional ones only when present', async () => {
    const trigger = { type: 's3', bucket: 'raw', key: 'a.csv', size: 3, sequencer: '0A1B' };
    await expect(echoRun(withRun({ trigger, ledger: { pk: 'x' } }))).resolves.toEqual({
      ...run,
      trigger: { type: 's3', bucket: 'raw', key: 'a.csv', size: 3 },
    });
    await expect(echoRun(withRun({ trigger: { type: 'manual', input: [1] } }))).resolves.toMatchObject({
      trigger: { type: 'manual', input: [1] },
    });
  });

  it('accepts date-times with Z or an offset, seconds and fractions', async () => {
    for (const logicalTime of [
      '2026-11-01T02:00:00Z',
      '2026-11-01T02:00:00.123+01:00',
      '2028-02-29T23:59:59-09:30',
    ]) {
      await expect(echoRun(withRun({ logicalTime }))).resolves.toMatchObject({ logicalTime });
    }
  });

  it('fails on date-times without seconds or zone, or with a day the calendar lacks', async () => {
    const bad = [
      '2026-11-01T02:00Z',
      '2026-11-01T02:00:00',
      '2026-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z',
      7,
    ];
    for (const logicalTime of bad) {
      expect(await problems(withRun({ logicalTime }))).toEqual([
        `  run.logicalTime: expected an ISO 8601 date-time such as "2026-11-01T02:00:00Z", received ${JSON.stringify(logicalTime)}`,
      ]);
    }
  });

  it('fails naming each problem in a pipeline trigger', async () => {
    const trigger = { type: 'pipeline', upstreams: [{ pipeline: 'a' }, 'b'], logicalTime: 'now' };
    expect(await problems(withRun({ trigger }))).toMatchInlineSnapshot(`
      [
        "  run.trigger.upstreams[0].runId: missing, expected a string",
        "  run.trigger.upstreams[1]: expected an object, received "b"",
        "  run.trigger.logicalTime: expected an ISO 8601 date-time such as "2026-11-01T02:00:00Z", received "now"",
      ]
    `);
    expect(await problems(withRun({ trigger: { ...trigger, upstreams: [] } }))).toContain(
      '  run.trigger.upstreams: must be at least 1, received []',
    );
  });

  it('fails when the run or its trigger is not an object, and when an s3 trigger has a bad size', async () => {
    expect(await problems(event({ run: 'run-1' }))).toEqual(['  run: expected an object, received "run-1"']);
    expect(await problems(event({ run: undefined }))).toEqual(['  run: missing, expected an object']);
    expect(await problems(withRun({ trigger: null }))).toEqual([
      '  run.trigger: expected an object, received null',
    ]);
    expect(
      await problems(withRun({ trigger: { type: 's3', bucket: 'raw', key: 'a', size: -1, etag: 5 } })),
    ).toEqual([
      '  run.trigger.etag: expected a string, received 5',
      '  run.trigger.size: must be at least 0, received -1',
    ]);
  });
});
