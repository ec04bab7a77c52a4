#!/usr/bin/env node
/**
 * The `ai-migrate` command (the `bin` of @ai-infrastructure/web): controls the migration jobs of a running
 * app over its REST API. `npx ai-migrate --help` lists the commands; docs/cli.md documents them.
 */
import { runCli } from './cli.program';

void runCli(process.argv).then((code) => {
  // Not process.exit(): output still buffered for a pipe is written before the process ends.
  process.exitCode = code;
});
