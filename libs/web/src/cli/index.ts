/**
 * The `ai-migrate` command line (the package's `bin`). Not part of the package's API: `dist/cli/ai-migrate.js`
 * is its entry point and docs/cli.md its manual; these exports serve the entry point and its tests.
 */
export { runCli } from './cli.program';
export { ExitCode, type ExitCodeValue } from './cli.exit-codes';
