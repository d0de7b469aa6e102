// Turns each benchmark's JSON (bench/results/NAME.json) into its section of bench/RESULTS.md: what it
// measures, the figures, the command that reproduces them, and the machine's load while it ran.
// bench/run.ts calls it; it measures nothing itself.

/** The generated sections, in the order they appear. */
export const SECTION_ORDER = [
  'local-loop',
  'engine-overhead',
  'transitions',
  'synth',
  'cold-start',
  'dispatcher',
] as const;

// biome-ignore lint/suspicious/noExplicitAny: the results are JSON written by the scripts beside this one
type Json = any;

const n = (x: number | null | undefined, unit = '') =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : `${Math.round(x).toLocaleString('en-US')}${unit}`;
const s = (ms: number | null | undefined) =>
  ms === null || ms === undefined || Number.isNaN(ms)
    ? '–'
    : ms >= 10_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.round(ms).toLocaleString('en-US')} ms`;
const pct = (x: number) => `${Math.round(x * 100)}%`;

function footer(r: Json): string {
  return [
    '',
    `Reproduce: \`${r.command}\`. Measured ${String(r.startedAt).slice(0, 16).replace('T', ' ')} to ${String(r.endedAt).slice(11, 16)} UTC,`,
    `Node ${r.node}, ${r.cores} cores; load average ${r.loadBefore.join(', ')} at the start, ${r.loadAfter.join(', ')} at the end.`,
  ].join('\n');
}

function localLoop(r: Json): string {
  const m = r.medians;
  const rows = [
    ['wall, from spawn to exit', 'wallMs'],
    ['start-up: Node, the CLI, the spec (until the synth begins)', 'startupMs'],
    ['synth (bundles and the CDK app, or the cached assembly)', 'synthMs'],
    ['services (dynalite, s3rver, the Lambda hosts, the IAM evaluator)', 'servicesMs'],
    ['**executing**: dispatcher, state machine with the handlers, recorder', 'executingMs'],
    ["of which the execution itself (the run report's duration)", 'executionMs'],
    ['shutdown (stand-ins closed, state saved, until the summary prints)', 'shutdownMs'],
    ['exit (from the summary until the process has ended)', 'exitMs'],
    ['**outside the execution** (wall minus executing)', 'outsideExecutionMs'],
  ] as const;
  const bar = r.unchangedOutsideExecutionOverFirstWall;
  const profiles: Json[] = r.unchangedCpuProfiles ?? [];
  const profile = profiles[0];
  return [
    '## The local loop: `stepwise run` of the reference pipeline',
    '',
    'examples/orders run through the built CLI (`node node_modules/stepwise-cdk/dist/bin/stepwise.js run ...`)',
    "in a child process, as a user runs it: Node's start-up and the CLI's loading count. Each round copies the",
    'example into a fresh temporary project with stepwise installed in its node_modules (the package compiled',
    'from the working tree as `npm run build` does, into a directory of its own), a fresh bundle cache (`STEPWISE_CACHE_DIR`) and a fresh state dir, then runs it three times: with',
    'empty caches, again unchanged, and after an edit to one handler (`transform.ts`). The phases are the ones the',
    'CLI prints; start-up, shutdown and exit are timed from when those lines reach the parent. Peak RSS from',
    `\`/usr/bin/time -f %M\`. Medians of ${r.runs.first.length} round(s)${
      r.failures?.length
        ? ` (${r.failures.length} more failed: ${r.failures
            .map(
              (f: Json) =>
                `round ${f.round}: ${
                  String(f.error)
                    .split('\n')
                    .find((l: string) => l.startsWith('error')) ?? String(f.error).slice(0, 120)
                }`,
            )
            .join('; ')})`
        : ''
    }.`,
    `The package was compiled for the benchmark in ${r.packageBuild?.seconds ?? '?'} s${r.packageBuild?.typeErrors ? ` (tsc reported ${r.packageBuild.typeErrors} type errors in the shared tree, and emitted)` : ''}.`,
    '',
    '| phase | first run (empty caches) | unchanged | after a handler edit |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map(
      ([label, key]) => `| ${label} | ${s(m.first[key])} | ${s(m.unchanged[key])} | ${s(m.edited[key])} |`,
    ),
    `| peak RSS | ${n(m.first.peakRssMb, ' MB')} | ${n(m.unchanged.peakRssMb, ' MB')} | ${n(m.edited.peakRssMb, ' MB')} |`,
    ...(
      [
        ['peak RSS in start-up (sampled every 20 ms)', 'peakRssStartupMb'],
        ['peak RSS in the synth', 'peakRssSynthMb'],
        ['peak RSS in services', 'peakRssServicesMb'],
        ['peak RSS executing', 'peakRssExecutingMb'],
        ['peak RSS in shutdown and exit', 'peakRssShutdownMb'],
        ["peak RSS with the processes the CLI starts (esbuild's), summed", 'peakTreeRssMb'],
      ] as const
    )
      .filter(([, key]) => m.first[key] !== undefined)
      .map(
        ([label, key]) =>
          `| ${label} | ${n(m.first[key], ' MB')} | ${n(m.unchanged[key], ' MB')} | ${n(m.edited[key], ' MB')} |`,
      ),
    `| state transitions | ${m.first.transitions} | ${m.unchanged.transitions} | ${m.edited.transitions} |`,
    '',
    `**The bar (issue 12):** the unchanged run spends at most 30% of the first run's time outside the execution. Here:`,
    `${pct(bar.median)} (median; per round ${bar.perRound.map(pct).join(', ')}): ${bar.median <= bar.bar ? '**met**' : '**not met**'}.`,
    'Executing is the same work in all three runs; what the caches cut is everything around it.',
    ...(profile
      ? [
          '',
          `Where an unchanged run's main thread spends its CPU (one more unchanged run under \`--cpu-prof\`, not among the timed ones; first round: ${n(profile.totalMs, ' ms')} sampled,`,
          'each sample given to the nearest package or stepwise module on its stack; idle is waiting on the workers,',
          'the stand-ins and I/O):',
          '',
          '| where | ms |',
          '| --- | ---: |',
          ...Object.entries(profile.areas as Record<string, number>).map(([k, v]) => `| ${k} | ${n(v)} |`),
        ]
      : []),
    footer(r),
  ].join('\n');
}

function engineOverhead(r: Json): string {
  return [
    '## Local engine overhead per task',
    '',
    `Chains of 1 and ${r.tasks} Lambda tasks (bench/fixtures/overhead) whose handler returns at once, or after`,
    `sleeping ${r.sleepMs} ms, run by \`stepwise run\`'s runtime in one process (stand-ins, dispatcher, the state`,
    'machine on aws-local-stepfunctions, each bundle in its worker thread, recorder). The slope between the',
    'two chain lengths removes what each run pays once; what is left per task, minus its own time, is the',
    `engine's overhead. ${r.runs} runs of each, interleaved, after one warm-up run each; medians.`,
    '',
    'Two clocks: the execution as the run report times it, and the whole `runtime.run` call (dispatch, execution,',
    'recorder) as the CLI waits on it.',
    '',
    `| handler | own time | execution, 1 task / ${r.tasks} tasks | per task | **overhead per task** | run call, 1 / ${r.tasks} tasks | **overhead per task** (run call) | a task's span in the ledger minus its own time |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.ways.map(
      (w: Json) =>
        `| ${w.way} | ${w.taskOwnMs} ms | ${s(w.runMedianMs['1 task'])} / ${s(w.runMedianMs[`${r.tasks} tasks`])} | ${w.perTaskMs} ms | **${w.overheadPerTaskMs} ms** | ${s(w.runWallMedianMs['1 task'])} / ${s(w.runWallMedianMs[`${r.tasks} tasks`])} | **${w.wallOverheadPerTaskMs} ms** | ${w.taskSpanOverOwnMedianMs} ms |`,
    ),
    footer(r),
  ].join('\n');
}

function transitions(r: Json): string {
  return [
    '## State transitions per run',
    '',
    "What a Standard workflow bills ($0.025 per 1,000 transitions). Each pipeline's compiled definition runs its",
    'happy path on aws-local-stepfunctions (every task succeeds first time, gates pass) and the states entered',
    'are counted. Baseline in the same run: a naive compile, the same definition with a DynamoDB putItem Task',
    'state (a ledger row) before and after every task (`withLedgerRowsAroundTasks` in bench/transitions.ts),',
    'as an orchestrator that records task status from inside the state machine would. stepwise writes its',
    'task rows from the execution history, in the recorder, outside the state machine.',
    '',
    '| pipeline | tasks | transitions | naive | naive / stepwise | $ per million runs | naive $ per million runs |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.pipelines.map(
      (p: Json) =>
        `| ${p.pipeline} (${p.file}) | ${p.tasks} | ${p.transitions} | ${p.naiveTransitions} | ${p.naiveOverStepwise} | ${n(p.dollarsPerMillionRuns)} | ${n(p.naiveDollarsPerMillionRuns)} |`,
    ),
    '',
    `Not counted (not valid pipelines on purpose, or no pipeline): ${r.skipped.map((x: Json) => x.file).join(', ')}.`,
    'The local loop above counts the same 11 for a real `stepwise run` of orders.',
    footer(r),
  ].join('\n');
}

function synth(r: Json): string {
  const kb = (b: number) => `${Math.round(b / 1024).toLocaleString('en-US')} KB`;
  const big = r.sizes.find((x: Json) => x.tasks === 1000 && !x.stepwise.error);
  return [
    '## Synth at 10 to 1,000 tasks, against hand-written aws-cdk-lib',
    '',
    'Generated pipelines (test/private/large-pipeline.ts: layers of ten tasks, each after two of the layer before,',
    'so not series-parallel; a gate and a non-critical task per layer; three handler files) synthesized with',
    "`PipelineStack`, against the same tasks written by hand with aws-cdk-lib's sfn and tasks constructs",
    '(bench/hand-written-stack.ts: LambdaInvoke states with the same retries, a Choice after each gate, a Catch',
    'on each non-critical task, one Parallel per layer; no ledger, quarantine, dispatcher, recorder or alarms).',
    `Both in one process, without cdk-nag, bundles built once before timing; ${r.runs} synths each, interleaved, medians.`,
    `The deployed definition replaces each placeholder or token with ${r.limits.deployedTokenBytes} bytes (the longest Lambda ARN), so it is an upper bound.`,
    '',
    `States per task, stepwise: ${r.sizes
      .filter((x: Json) => !x.stepwise.error)
      .map((x: Json) => `${(x.stepwise.states / x.tasks).toFixed(1)} at ${n(x.tasks)}`)
      .join(', ')}; hand-written: ${r.sizes
      .filter((x: Json) => !x.handWritten.error)
      .map((x: Json) => `${(x.handWritten.states / x.tasks).toFixed(1)}`)
      .join(', ')}.`,
    '',
    '| tasks | synth stepwise | synth hand-written | ratio | template stepwise / hand-written | resources stepwise (headroom to 500) / hand-written | states stepwise / hand-written | definition deployed, stepwise (headroom to 1 MB) | hand-written |',
    '| ---: | ---: | ---: | ---: | --- | --- | --- | --- | ---: |',
    ...r.sizes.map((x: Json) =>
      x.stepwise.error || x.handWritten.error
        ? `| ${n(x.tasks)} | ${x.stepwise.error ? `synth failed: ${x.stepwise.error}` : s(x.stepwise.synthMedianMs)} | ${x.handWritten.error ? `synth failed: ${x.handWritten.error}` : s(x.handWritten.synthMedianMs)} | | | | | | |`
        : `| ${n(x.tasks)} | ${s(x.stepwise.synthMedianMs)} | ${s(x.handWritten.synthMedianMs)} | ${x.synthRatio} | ${kb(x.stepwise.templateBytes)} / ${kb(x.handWritten.templateBytes)} | ${x.stepwise.resources} (${x.stepwise.resourceHeadroom}) / ${x.handWritten.resources} | ${n(x.stepwise.states)} / ${n(x.handWritten.states)} | ${kb(x.stepwise.largestDeployedDefinitionBytes)} (${x.stepwise.definitionHeadroomBytes < 0 ? `**${kb(-x.stepwise.definitionHeadroomBytes)} over**` : kb(x.stepwise.definitionHeadroomBytes)}) | ${kb(x.handWritten.largestDeployedDefinitionBytes)} |`,
    ),
    '',
    ...(big
      ? [
          big.overDefinitionLimit
            ? `**At 1,000 tasks a definition exceeds Step Functions' 1 MB** (${kb(big.stepwise.largestDeployedDefinitionBytes)} deployed at most): such a pipeline would not deploy.`
            : `At 1,000 tasks the pipeline is split into ${big.stepwise.stateMachines} state machines (a parent and ${big.stepwise.stateMachines - 1} parts run through \`states:startExecution.sync:2\`; lib/compile/split.ts), each definition under Step Functions' 1 MB: ${big.stepwise.deployedDefinitionBytesByMachine.map(kb).join(', ')} deployed, at most. Below the split budget (950 KB deployed) one state machine runs the whole pipeline.`,
          `Resources grow with handler files and split parts, not with tasks (${big.stepwise.resources} at 1,000 tasks, ${big.stepwise.resourceHeadroom} under 500).`,
          `The template at 1,000 tasks is ${kb(big.stepwise.templateBytes)}${big.overTemplateLimit ? ", **over CloudFormation's 1 MB**" : ", under CloudFormation's 1 MB for a template read from S3"}: a definition over 100 KB, and every split part, is shipped as an S3 asset (\`DefinitionS3Location\`, ${big.stepwise.definitionsInS3} here) with the same DefinitionSubstitutions, not inline.`,
        ]
      : []),
    '',
    'Limits: Step Functions, "Maximum size of state machine definition: 1 MB, hard quota"',
    '(https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html); CloudFormation, 500 resources',
    'per stack and 1 MB for a template read from S3 (51,200 bytes passed in the request)',
    '(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).',
    footer(r),
  ].join('\n');
}

function coldStart(r: Json): string {
  return [
    '## Lambda cold start: init (import) time of each bundle',
    '',
    "examples/orders synthesized into a temporary cdk.out with a fresh bundle cache; each function's bundle there",
    '(minified ESM, as shipped) is imported in a new `node` process, and the time from just before `import()` to',
    'its end is taken. Baseline in the same run: the same entry built by esbuild with the same options but',
    `\`minify: false\`. ${r.importsPerWay} imports a way, interleaved; medians. Node 20 here, not Lambda's Node 24,`,
    'and no Lambda sandbox: compare the two columns, not the absolute times with AWS.',
    '',
    '| entry | function | minified | unminified | import, minified | import, unminified | minified / unminified |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.bundles.map((b: Json) =>
      b.note
        ? `| ${b.entry ?? ''} | ${b.function ?? ''} | ${b.note} | | | | |`
        : `| ${b.entry} | ${b.function} | ${Math.round(b.minifiedBytes / 1024)} KB | ${Math.round(b.unminifiedBytes / 1024)} KB | ${b.minifiedImportMs} ms | ${b.unminifiedImportMs} ms | ${b.minifiedOverUnminified} |`,
    ),
    footer(r),
  ].join('\n');
}

function dispatcher(r: Json): string {
  const kinds = [
    ['new trigger, slot free: STARTED', 'started'],
    ['the same trigger again: DEDUPLICATED', 'deduplicated'],
    ['slots full: QUEUED', 'queued'],
    ['Run Finished with a queue behind it: RELEASED and one start', 'releasedAndDrained'],
  ] as const;
  const calls = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([k, v]) => (v > 1 ? `${v} ${k}` : k))
      .join(', ');
  return [
    '## Dispatcher latency per event',
    '',
    "`dispatch` (the dispatcher handler's whole body) against dynalite through the real SDK, Step Functions",
    "answered by the test suite's fake on loopback, one event at a time. Baseline in the same run: a bare",
    `PutItem to the same dynalite, timed right before each event, so both see the same load. ${r.triggers} events a kind.`,
    '',
    '| event | SDK calls per event | median | p90 | of which in SDK calls | ratio to a bare PutItem |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...kinds.map(([label, key]) => {
      const k = r[key];
      return `| ${label} | ${calls(k.callsPerEvent)} | ${k.medianMs} ms | ${k.p90Ms} ms | ${k.inCallsMedianMs} ms | ${k.overPutItem} |`;
    }),
    '',
    `The dispatcher's own work without I/O is ${r.cpuPerEventMs} ms an event; the rest is calls, at (median ms)`,
    `${Object.entries(r.callMedianMs as Record<string, number>)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; a bare StartExecution to the fake ${r.baselineStartExecution.medianMs} ms.`,
    'So each ratio is roughly the number of calls on the path. Against DynamoDB in a region the calls cost',
    'more (single-digit ms each); that is an estimate, not a measurement.',
    '',
    `Reproduce: \`node --import tsx bench/dispatcher.ts --triggers N\`. Measured ${String(r.measuredAt).slice(0, 16).replace('T', ' ')} UTC, Node ${r.node};`,
    `load average ${r.loadAtStart ? `${r.loadAtStart.join(', ')} at the start, ` : ''}${r.loadAverage.join(', ')} at the end.`,
  ].join('\n');
}

export function renderSection(name: (typeof SECTION_ORDER)[number] | string, result: Json): string {
  switch (name) {
    case 'local-loop':
      return localLoop(result);
    case 'engine-overhead':
      return engineOverhead(result);
    case 'transitions':
      return transitions(result);
    case 'synth':
      return synth(result);
    case 'cold-start':
      return coldStart(result);
    case 'dispatcher':
      return dispatcher(result);
    default:
      throw new Error(`no renderer for ${name}`);
  }
}
