import { ExitCode, type ExitCodeValue } from './cli.exit-codes';

/**
 * An error `ai-migrate` reports on stderr before exiting with {@link exitCode}: the message is a full
 * sentence (usually the server's own, which names the fix), never a stack trace.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    /** Further lines (the invalid fields of a 400, the ids of the jobs in the way of a 409). */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage error found before any request is sent. */
export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.USAGE);
}
