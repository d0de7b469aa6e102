import { didYouMean } from '../spec/did-you-mean.ts';

/** The command line is wrong: a missing argument, an unknown option, a value that does not parse. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** `stepwise runs <pipeline>` names a pipeline that has no runs where it looked. */
export class UnknownPipelineError extends Error {
  override readonly name = 'UnknownPipelineError';

  constructor(
    readonly pipeline: string,
    where: string,
    readonly known: readonly string[],
  ) {
    super(
      known.length === 0
        ? `no runs of '${pipeline}' in ${where}: its ledger holds no runs of any pipeline yet; start one with 'stepwise run <spec>'`
        : `no pipeline '${pipeline}' has runs in ${where}${didYouMean(pipeline, known)}; the pipelines with runs here are ${known.join(', ')}`,
    );
  }
}
