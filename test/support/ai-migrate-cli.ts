import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModuleKind, ScriptTarget, transpileModule } from 'typescript';

const SOURCES = resolve(__dirname, '../../libs/web/src/cli');

/** What a run of the CLI printed and how it exited. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Compiles `libs/web/src/cli` (what the package build puts in `dist/cli`) into a scratch folder inside the
 * repository's node_modules, so the compiled CLI resolves commander, cli-progress and eventsource-parser
 * as an installed package does. The CLI imports only type declarations from the rest of the library,
 * which the compiler erases: the output runs without Nest or migration-core, as in an operator's shell.
 * Returns the entry point and a function that removes the folder.
 */
export function buildAiMigrateCli(): { entry: string; remove: () => void } {
  const outDir = resolve(__dirname, `../../node_modules/.cache/ai-migrate-e2e/${process.pid}-${Date.now()}/cli`);
  mkdirSync(outDir, { recursive: true });
  for (const file of readdirSync(SOURCES).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
    const { outputText } = transpileModule(readFileSync(join(SOURCES, file), 'utf8'), {
      fileName: file,
      compilerOptions: { module: ModuleKind.CommonJS, target: ScriptTarget.ES2022, esModuleInterop: true },
    });
    writeFileSync(join(outDir, file.replace(/\.ts$/, '.js')), outputText);
  }
  return { entry: join(outDir, 'ai-migrate.js'), remove: () => rmSync(resolve(outDir, '..'), { recursive: true, force: true }) };
}

/** The environment of a CLI run: PATH and what the test gives, nothing inherited (no stray AI_MIGRATION_*). */
function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...env };
}

/** Runs the CLI with stdout and stderr as pipes (not a terminal, as in CI logs). */
export function runAiMigrate(entry: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((done) => {
    execFile(process.execPath, [entry, ...args], { env: cliEnv(env), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** Quotes a word for sh. */
const shellWord = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), 120 columns wide, as an operator's shell runs
 * it; resolves with everything the terminal received (stdout and stderr, with the escape sequences).
 */
export function runAiMigrateInTerminal(entry: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliRun> {
  const command = `stty cols 120 rows 40 2>/dev/null; exec ${[process.execPath, entry, ...args].map(shellWord).join(' ')}`;
  return new Promise((done) => {
    execFile('script', ['-q', '-e', '-c', command, '/dev/null'], { env: cliEnv(env), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('`script` (util-linux) is not installed; the terminal test needs it.');
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}
