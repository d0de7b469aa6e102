// Local run cost: `stepwise run` of the reference pipeline, split into synth and execution, against a
// baseline measured in the same run: aws-local-stepfunctions interpreting the same synthesized
// definition with every Task answered in-process by a canned result (no stand-ins, no Lambda code).
// Run: node --import tsx bench/local-run.ts [--runs N]   Writes bench/results/local-run.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { runLocally } from '../lib/cli/commands.ts';
import { loadSpec } from '../lib/cli/load-spec.ts';
import type { Output } from '../lib/cli/render.ts';
import { installStateTap } from '../lib/local/asl-runtime.ts';
import { allStates } from '../lib/local/engine.ts';
import { synthesizeLocal } from '../lib/local/synth.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const spec = await loadSpec(new URL('../examples/orders/pipeline.ts', import.meta.url).pathname);
const data = new URL('../examples/orders/data/good/orders-2026-11-01.csv', import.meta.url).pathname;
const silent: Output = { out: { write: () => true } as never, err: { write: () => true } as never };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// Baseline: the bare interpreter on the same definition.
installStateTap();
const scratch = mkdtempSync(join(tmpdir(), 'stepwise-bench-'));
const { deployment } = await synthesizeLocal([spec], scratch);
const definition = (
  deployment.stateMachines[0] as unknown as { definition: { States: Record<string, never> } }
).definition;
const canned: Record<string, () => Promise<unknown>> = {};
for (const [name, state] of allStates(definition as never)) {
  if (state.Type !== 'Task') continue;
  canned[name] = async () =>
    name === 'validate' ? { pass: true } : name.startsWith('Read') ? { Item: {} } : {};
}
const baselineMs: number[] = [];
const input = {
  run: {
    id: 'bench',
    pipeline: 'orders',
    trigger: { type: 'manual' },
    logicalTime: new Date().toISOString(),
    key: 'k',
    expiresAt: '1800000000',
  },
};
// States entered by the bare interpreter: the definition alone, with no recorder anywhere.
let baselineTransitions = 0;
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  const execution = new StateMachine(definition as never, {
    validationOptions: { checkPaths: false, checkArn: false },
  }).run(input, {
    overrides: { taskResourceLocalHandlers: canned as never },
    context: {
      Execution: { Name: 'bench', Id: 'arn:bench' },
      State: { RetryCount: 0, EnteredTime: new Date().toISOString() },
    },
  });
  await execution.result;
  baselineMs.push(performance.now() - started);
  let entered = 0;
  for await (const event of execution.eventLogs) if (event.type === 'StateEntered') entered++;
  baselineTransitions = entered;
}
rmSync(scratch, { recursive: true, force: true });

// stepwise run: a fresh state dir each time. The first synth bundles with esbuild (cold); later ones
// in this process reuse CDK's asset cache (warm), as a second `run` in one process would.
const synthMs: number[] = [];
const runMs: number[] = [];
const executionMs: number[] = [];
const transitions: number[] = [];
for (let i = 0; i < runs; i++) {
  const stateDir = mkdtempSync(join(tmpdir(), 'stepwise-bench-'));
  const t0 = performance.now();
  await synthesizeLocal([spec], stateDir);
  synthMs.push(performance.now() - t0);
  const t1 = performance.now();
  const trigger = { kind: 's3', bucket: 'raw', key: `orders/bench-${i}.csv`, file: data } as const;
  const { report } = await runLocally([spec], trigger, { 'state-dir': stateDir, json: true }, silent);
  runMs.push(performance.now() - t1);
  executionMs.push(report.durationMs);
  transitions.push(report.transitions);
  if (report.status !== 'SUCCEEDED') throw new Error(`bench run ended ${report.status}`);
  rmSync(stateDir, { recursive: true, force: true });
}

const result = {
  measuredAt: new Date().toISOString(),
  node: process.version,
  runs,
  baselineInterpreterMs: Math.round(median(baselineMs) * 10) / 10,
  synthColdMs: Math.round(synthMs[0] as number),
  synthWarmMedianMs: Math.round(median(synthMs.slice(1))),
  runLocallyMedianMs: Math.round(median(runMs)),
  executionMedianMs: median(executionMs),
  executionOverBaseline: Math.round((median(executionMs) / median(baselineMs)) * 10) / 10,
  // The recorder writes task-level history from GetExecutionHistory, outside the state machine.
  transitionsBareInterpreter: baselineTransitions,
  transitionsWithRecorder: median(transitions),
};
writeFileSync(new URL('./results/local-run.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
