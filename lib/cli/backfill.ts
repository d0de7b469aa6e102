import type { BackfillSlotResult, RuntimeEvent } from '../local/runtime.ts';
import { remoteBackfill, resolveStack } from '../remote/index.ts';
import { scheduleSlots } from '../spec/schedule-slots.ts';
import type { PipelineDefinition, ScheduleTrigger } from '../spec/types.ts';
import { awsOptions, loadSpecs, stackName, withLocalRuntime, write } from './commands.ts';
import { CliUsageError } from './errors.ts';
import type { CliOptions } from './main.ts';
import type { Output } from './render.ts';

const DEFAULT_CONCURRENCY = 4;

/** Statuses of a run that has not ended: locally, once the backfill returns, none should be left. */
const UNFINISHED: readonly string[] = ['QUEUED', 'STARTED', 'RUNNING'];

/**
 * `stepwise backfill <spec> --from ISO --to ISO [--concurrency N]`: replays every schedule slot in
 * [from, to), in the spec's time zone, through the same run-key path as the live schedule, so a slot
 * that ran already is DEDUPLICATED and running the command again processes nothing twice. Ctrl-C stops
 * after the slots in flight; the same command resumes.
 */
export async function backfillCommand(
  specPaths: readonly string[],
  options: CliOptions,
  output: Output,
): Promise<number> {
  const specs = await loadSpecs(specPaths);
  const spec = specs[0] as PipelineDefinition;
  const schedule = scheduleOf(spec);
  const from = instant(options.from, '--from');
  const to = instant(options.to, '--to');
  const concurrency = options.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new CliUsageError(
      `--concurrency must be a whole number of at least 1, got '${options.concurrency}'`,
    );
  let slots: Date[];
  try {
    slots = scheduleSlots(schedule.expression, schedule.timezone, from, to);
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  const progress = (line: string) => {
    if (!options.json) output.err.write(`${line}\n`);
  };
  progress(
    `backfill ${spec.name}: ${slots.length} slot${slots.length === 1 ? '' : 's'} of ${schedule.expression} (${schedule.timezone}) in [${from.toISOString()}, ${to.toISOString()}), ${concurrency} at a time${options.aws ? ', on AWS' : ''}`,
  );
  const controller = new AbortController();
  const stop = () => {
    if (!controller.signal.aborted)
      progress('stopping after the slots in flight; run the same command again to resume');
    controller.abort();
  };
  process.once('SIGINT', stop);
  try {
    const results = options.aws
      ? await backfillOnAws(spec, slots, schedule, concurrency, options, controller.signal, progress)
      : await backfillLocally(specs, slots, concurrency, options, controller.signal, progress);
    const counts: Record<string, number> = {};
    for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
    const remaining = slots.length - results.length;
    if (options.json)
      write(output, {
        pipeline: spec.name,
        from: from.toISOString(),
        to: to.toISOString(),
        slots: slots.length,
        counts,
        results,
        ...(remaining > 0 ? { notSent: remaining } : {}),
      });
    else
      output.out.write(
        `${spec.name}: ${
          Object.entries(counts)
            .map(([status, n]) => `${n} ${status}`)
            .join(', ') || 'nothing to do'
        }${remaining > 0 ? `; ${remaining} slots not sent (stopped)` : ''}\n`,
      );
    // The command waited for every run it caused; one that has still not ended is stranded, and said so.
    const unfinished = options.aws ? [] : results.filter((r) => UNFINISHED.includes(r.status));
    for (const r of unfinished)
      output.err.write(
        `error: slot ${r.slot}: run ${r.runId ?? '(none)'} is still ${r.status} after everything this backfill set off has ended${r.status === 'QUEUED' ? ': no concurrency slot was freed for it, so it never started; it stays queued in the ledger' : ''}\n`,
      );
    // On AWS the command ends once every slot is dispatched: a run STARTED or QUEUED there is fine.
    const done = options.aws
      ? ['SUCCEEDED', 'DEDUPLICATED', 'STARTED', 'QUEUED']
      : ['SUCCEEDED', 'DEDUPLICATED'];
    const bad = results.some((r) => !done.includes(r.status));
    return bad || remaining > 0 ? 1 : 0;
  } finally {
    process.removeListener('SIGINT', stop);
  }
}

async function backfillLocally(
  specs: readonly PipelineDefinition[],
  slots: readonly Date[],
  concurrency: number,
  options: CliOptions,
  signal: AbortSignal,
  progress: (line: string) => void,
): Promise<BackfillSlotResult[]> {
  const spec = specs[0] as PipelineDefinition;
  const onEvent = (event: RuntimeEvent) => {
    if (event.type === 'dead-letter')
      progress(`warning: a delivery to ${event.letter.target} failed every attempt: ${event.letter.error}`);
  };
  return withLocalRuntime(specs, `stepwise backfill ${spec.name}`, options, onEvent, (runtime) =>
    runtime.backfill(
      spec,
      slots.map((s) => s.toISOString()),
      {
        concurrency,
        shouldStop: () => signal.aborted,
        onSlot: (r, done) =>
          progress(
            `[${done}/${slots.length}] ${r.slot}  ${r.status}${r.runId ? `  ${r.runId}` : ''}${r.error ? `  ${r.error}` : ''}`,
          ),
      },
    ),
  );
}

async function backfillOnAws(
  spec: PipelineDefinition,
  slots: readonly Date[],
  schedule: ScheduleTrigger,
  concurrency: number,
  options: CliOptions,
  signal: AbortSignal,
  progress: (line: string) => void,
): Promise<BackfillSlotResult[]> {
  const stack = await resolveStack(stackName(options), {
    need: ['dispatcher'],
    overrides: { dispatcher: options.dispatcher },
    ...awsOptions(options),
  });
  const summary = await remoteBackfill({
    dispatcher: stack.dispatcher,
    pipeline: spec.name,
    slots,
    expression: schedule.expression,
    concurrency,
    signal,
    ...awsOptions(options),
    onProgress: (p) =>
      progress(
        `[${p.done}/${p.total}] ${p.slot}  ${p.status}${p.runId ? `  ${p.runId}` : ''}${p.reason ? `  ${p.reason}` : ''}`,
      ),
  });
  if (summary.stopped) progress(`stopped early: ${summary.stopped}`);
  if (summary.refused.length > 0)
    progress(
      `${summary.refused.length} slot(s) Step Functions refused to start for good, recorded FAILED and alerted (not sent again: their run keys are taken by those FAILED runs, so a resend is DEDUPLICATED): ${summary.refused.map((r) => `${r.slot} (${r.reason ?? 'no reason given'})`).join(', ')}`,
    );
  if (summary.retry.length > 0)
    progress(
      `${summary.retry.length} slot(s) to send again (safe: a slot that did start is DEDUPLICATED): ${summary.retry.join(' ')}`,
    );
  return summary.results.map((r) => ({
    slot: r.slot,
    status: r.status === 'RELEASED' ? 'WAITING' : r.status,
    runId: r.runId,
    ...(r.reason ? { error: r.reason } : {}),
  }));
}

function scheduleOf(spec: PipelineDefinition): ScheduleTrigger {
  const schedules = spec.triggers.filter((t): t is ScheduleTrigger => t.kind === 'schedule');
  if (schedules.length === 0)
    throw new CliUsageError(
      `pipeline '${spec.name}' has no schedule trigger, so it has no slots to backfill; add schedule('cron(...)', { timezone }) to its triggers`,
    );
  if (schedules.length > 1)
    throw new CliUsageError(
      `pipeline '${spec.name}' has ${schedules.length} schedules; backfill replays one, and this version cannot choose: keep one schedule per pipeline`,
    );
  return schedules[0] as ScheduleTrigger;
}

function instant(value: string | undefined, flag: string): Date {
  if (value === undefined)
    throw new CliUsageError(`backfill needs ${flag}, an ISO time like 2026-11-01T00:00:00Z`);
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new CliUsageError(`${flag} must be an ISO time like 2026-11-01T00:00:00Z, got '${value}'`);
  return date;
}
