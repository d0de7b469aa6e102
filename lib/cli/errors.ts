/** The command line is wrong: a missing argument, an unknown option, a value that does not parse. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}
