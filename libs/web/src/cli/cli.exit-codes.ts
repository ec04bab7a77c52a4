/**
 * Exit statuses of `ai-migrate`, one per outcome a script may want to branch on. Documented in
 * docs/cli.md; keep the two in agreement.
 */
export const ExitCode = {
  /** The command did what was asked; a waited-for or watched job COMPLETED with no failed entity. */
  OK: 0,
  /**
   * A waited-for or watched job ended FAILED or CANCELLED, or COMPLETED with failed entities; a quality
   * gate did not pass; a verification (without `--fix`) found inconsistencies.
   */
  JOB_FAILED: 1,
  /** Bad arguments, or the server rejected the request as invalid (400, 413, 415). */
  USAGE: 2,
  /** A waited-for or watched job is PAUSED (by an operator, a budget, an exhausted quota or an outage). */
  PAUSED: 3,
  /** No token was given, or the server refused it (401) or its role (403). */
  AUTH: 4,
  /** The app could not be reached, did not answer in time, answered 5xx, or does not serve the AI endpoints. */
  UNREACHABLE: 5,
  /** The request was valid but the server refused it in the current state: no such job or generation (404), a conflict (409), or throttled (429). */
  REFUSED: 6,
  /** ai-migrate itself failed (a bug: the message says where; please report it). */
  INTERNAL: 70,
} as const;

/** One of the {@link ExitCode} values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
