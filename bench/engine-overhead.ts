// The local engine's time per task, beyond the task's own: chains of 1 and N Lambda tasks whose handler
// returns at once (instant) or after a known sleep, run by `stepwise run`'s runtime (the stand-ins, the
// dispatcher, the state machine on aws-local-stepfunctions, each handler's bundle in its worker thread).
// The slope between the 1-task and the N-task chain removes what every run pays once (dispatch, run
// start and end rows, the recorder); what is left per task, minus the sleep, is the engine's overhead.
// All four pipelines are synthesized once and run interleaved in one runtime.
// Run: node --import tsx bench/engine-overhead.ts [--tasks N] [--sleep MS] [--runs R]
// Writes bench/results/engine-overhead.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, numberFlag, round, writeResult } from './measure.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const tasks = numberFlag('tasks', 20);
const sleepMs = numberFlag('sleep', 200);
const runs = numberFlag('runs', 5);
const scratch = mkdtempSync(join(tmpdir(), 'stepwise-bench-overhead-'));
process.env.STEPWISE_CACHE_DIR = join(scratch, 'cache');

const { withLocalRuntime } = await import('../lib/cli/commands.ts');
const { definePipeline } = await import('../lib/spec/define-pipeline.ts');
const specFile = fileURLToPath(new URL('./fixtures/overhead/pipeline.ts', import.meta.url));

function chain(name: string, length: number, ms: number) {
  const ids = Array.from({ length }, (_, i) => `t${String(i + 1).padStart(3, '0')}`);
  return definePipeline(
    {
      name,
      tasks: Object.fromEntries(
        ids.map((id, i) => [
          id,
          {
            run: { kind: 'lambda', entry: './handlers/wait.ts' },
            params: { ms },
            ...(i > 0 ? { after: [ids[i - 1] as string] } : {}),
          },
        ]),
      ),
    },
    { specFile },
  );
}

const cases = [
  { way: 'instant', length: 1, spec: chain('instant-1', 1, 0) },
  { way: 'instant', length: tasks, spec: chain(`instant-${tasks}`, tasks, 0) },
  { way: 'sleep', length: 1, spec: chain('sleep-1', 1, sleepMs) },
  { way: 'sleep', length: tasks, spec: chain(`sleep-${tasks}`, tasks, sleepMs) },
] as const;
const durations = new Map<string, number[]>(cases.map((c) => [c.spec.name, []]));
/** The whole `runtime.run` call: dispatch, execution, recorder, as the CLI waits on it. */
const walls = new Map<string, number[]>(cases.map((c) => [c.spec.name, []]));
/** Each task's start to end as the ledger has it (the Lambda invoke in its worker), minus its own sleep. */
const taskSpans = new Map<string, number[]>(cases.map((c) => [c.spec.name, []]));

await withLocalRuntime(
  cases.map((c) => c.spec),
  'bench engine-overhead',
  { 'state-dir': join(scratch, 'state') },
  () => undefined,
  async (runtime) => {
    // One warm-up run each: the first invoke of a function starts its worker thread, as a cold Lambda does.
    for (const c of cases) await runtime.run(c.spec, { kind: 'manual' });
    for (let r = 0; r < runs; r++) {
      for (const c of cases) {
        const t0 = performance.now();
        const { report } = await runtime.run(c.spec, { kind: 'manual' });
        walls.get(c.spec.name)?.push(Math.round(performance.now() - t0));
        if (report.status !== 'SUCCEEDED') throw new Error(`${c.spec.name} ended ${report.status}`);
        durations.get(c.spec.name)?.push(report.durationMs);
        for (const t of report.tasks)
          if (t.startedAt && t.endedAt)
            taskSpans
              .get(c.spec.name)
              ?.push(Date.parse(t.endedAt) - Date.parse(t.startedAt) - (c.way === 'sleep' ? sleepMs : 0));
      }
    }
  },
);
rmSync(scratch, { recursive: true, force: true });

const med = (name: string) => median(durations.get(name) ?? []);
const medWall = (name: string) => median(walls.get(name) ?? []);
const ways = (['instant', 'sleep'] as const).map((way) => {
  const one = med(`${way}-1`);
  const many = med(`${way}-${tasks}`);
  const perTask = (many - one) / (tasks - 1);
  const wallOne = medWall(`${way}-1`);
  const wallMany = medWall(`${way}-${tasks}`);
  const wallPerTask = (wallMany - wallOne) / (tasks - 1);
  const own = way === 'sleep' ? sleepMs : 0;
  return {
    way,
    taskOwnMs: own,
    runMedianMs: { '1 task': one, [`${tasks} tasks`]: many },
    perTaskMs: round(perTask),
    overheadPerTaskMs: round(perTask - own),
    runWallMedianMs: { '1 task': wallOne, [`${tasks} tasks`]: wallMany },
    wallOverheadPerTaskMs: round(wallPerTask - own),
    taskSpanOverOwnMedianMs: round(median(taskSpans.get(`${way}-${tasks}`) ?? [])),
  };
});
writeResult('engine-overhead', 'node --import tsx bench/engine-overhead.ts --tasks N --sleep MS --runs R', {
  tasks,
  sleepMs,
  runs,
  ways,
  durationsMs: Object.fromEntries(durations),
  wallsMs: Object.fromEntries(walls),
});
process.stdout.write(`${JSON.stringify(ways, null, 2)}\n`);
