import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { integer } from './cli.arguments';
import { CliContext, type CliStreams, type GlobalOptions } from './cli.context';
import { CliError } from './cli.errors';
import { ExitCode, type ExitCodeValue } from './cli.exit-codes';
import { registerGenerationCommands } from './index-generation.commands';
import { registerJobCommands } from './migration-job.commands';
import { registerVerifyCommands } from './verify.commands';

/** Wraps a command's handler: builds its {@link CliContext} from the global options and records its exit code. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander passes the positional arguments untyped
export type CliAction = (handler: (ctx: CliContext, ...args: any[]) => Promise<ExitCodeValue>) => (...args: unknown[]) => Promise<void>;

/** The version of the package this file ships in (the nearest package.json up the tree). */
function packageVersion(): string {
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@ai-infrastructure/web') return pkg.version ?? 'unknown';
    }
  }
  return 'unknown';
}

const OVERVIEW = `
Connection (every command):
  AI_MIGRATION_URL         base URL of the app (default http://localhost:3000), or --url
  AI_MIGRATION_TOKEN       a bearer token of AiWebModule auth.tokens (admin to change, viewer to read)
  AI_MIGRATION_TOKEN_FILE  or a file holding it (--token-file); --token also works but shows in process lists

Exit status:
  0  done; a waited-for job COMPLETED with no failed entity
  1  the job FAILED, was CANCELLED or completed with failed entities; a quality gate or verification failed
  2  usage error: bad arguments, or the server rejected the request as invalid (400)
  3  the job is PAUSED (operator, budget, quota or outage); resume it with: ai-migrate resume <id>
  4  no token, or the server refused it (401) or its role (403)
  5  the app is unreachable, answered 5xx, or does not serve /api/ai/migration
  6  refused in the current state: not found (404), conflict (409) or throttled (429)

Examples:
  $ export AI_MIGRATION_URL=https://shop.example.com AI_MIGRATION_TOKEN_FILE=~/.ai-admin-token
  $ ai-migrate start product --dry-run
  $ ai-migrate start product --max-cost 25 --wait
  $ ai-migrate status --watch
  $ ai-migrate list --status FAILED --json

Docs: docs/cli.md in the repository (https://github.com/ai-infrastructure/ai-infrastructure).`;

/**
 * The `ai-migrate` program: global connection and output options, and the job, verification and generation
 * commands. Errors never exit the process: {@link runCli} turns them into an exit code.
 */
export function createProgram(streams: CliStreams, result: { code: ExitCodeValue }): Command {
  const version = packageVersion();
  const program = new Command('ai-migrate')
    .description('Start, watch and control the AI migration jobs of a running app over its REST API (/api/ai/migration).')
    .version(version, '-V, --version')
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
    })
    .exitOverride()
    .showHelpAfterError('(add --help for usage and examples)')
    .addOption(new Option('--url <url>', 'base URL of the app').env('AI_MIGRATION_URL').default('http://localhost:3000'))
    .addOption(new Option('--token <token>', 'bearer token (shows in process lists: prefer the environment or --token-file)').env('AI_MIGRATION_TOKEN'))
    .addOption(new Option('--token-file <path>', 'file holding the bearer token').env('AI_MIGRATION_TOKEN_FILE'))
    .option('--json', "print the API's JSON, one object per line, instead of text")
    .addOption(new Option('--timeout <seconds>', 'per-request timeout').argParser(integer(1, 3600)).default(30))
    .addOption(
      new Option('--log-interval <seconds>', 'without a terminal, print progress at most this often (status changes always print)').argParser(integer(0, 86_400)).default(10),
    )
    .addHelpText('after', OVERVIEW);

  const action: CliAction = (handler) => async (...args) => {
    const command = args[args.length - 1] as Command;
    const options = command.optsWithGlobals<GlobalOptions>();
    const ctx = new CliContext(options, streams, {
      token: command.getOptionValueSourceWithGlobals('token'),
      tokenFile: command.getOptionValueSourceWithGlobals('tokenFile'),
    }, version);
    result.code = await handler(ctx, ...args.slice(0, -1));
  };
  registerJobCommands(program, action);
  registerVerifyCommands(program, action);
  registerGenerationCommands(program, action);
  return program;
}

/**
 * Runs `ai-migrate` with `argv` (as process.argv: node, script, arguments) and resolves with its exit
 * status; errors are printed to stderr as sentences (as JSON with `--json`), never as stack traces.
 */
export async function runCli(argv: string[], streams: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const result: { code: ExitCodeValue } = { code: ExitCode.OK };
  const program = createProgram(streams, result);
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return result.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with exit code 0; anything else commander rejects is a usage error
      // (it has already printed the message and the hint).
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    const failure =
      error instanceof CliError
        ? error
        : new CliError(`ai-migrate failed unexpectedly: ${(error as Error)?.stack ?? String(error)}. Please report this.`, ExitCode.INTERNAL);
    if (json) {
      streams.stderr.write(`${JSON.stringify({ error: failure.message, exitCode: failure.exitCode, details: failure.details })}\n`);
    } else {
      streams.stderr.write(`Error: ${failure.message}\n${failure.details.map((line) => `  ${line}\n`).join('')}`);
    }
    return failure.exitCode;
  }
}
