/**
 * Builds and packs the three library packages.
 *
 *   npm run build                       # libs/core/dist, libs/migration-core/dist, libs/web/dist (in that order)
 *   npm run pack:packages [-- <dir>]    # build, then one npm tarball per package into <dir> (default dist/packages)
 *
 * Each package is compiled by `tsc -p libs/<name>/tsconfig.lib.json` into its own `dist`: CommonJS,
 * declarations, declaration maps and source maps, without spec files. A package that imports a sibling is
 * compiled after it, against the sibling's built declarations (see the `paths` of its tsconfig.lib.json),
 * so its output refers to `@ai-infrastructure/…` exactly as an installed application resolves it.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Root of the repository. */
export const REPOSITORY_ROOT = resolve(__dirname, '..');

/** One library package of this repository. */
export interface LibraryPackage {
  /** npm name. */
  name: string;
  /** Folder of its package.json, relative to the repository root. */
  dir: string;
}

/** The packages in build order: each one after the packages it imports. */
export const LIBRARY_PACKAGES: readonly LibraryPackage[] = [
  { name: '@ai-infrastructure/core', dir: 'libs/core' },
  { name: '@ai-infrastructure/migration-core', dir: 'libs/migration-core' },
  { name: '@ai-infrastructure/web', dir: 'libs/web' },
];

/** A tarball written by {@link packPackages}. */
export interface PackedPackage extends LibraryPackage {
  version: string;
  /** Absolute path of the `.tgz`. */
  tarball: string;
  /** Paths of the files inside the tarball, relative to the package root. */
  files: string[];
}

/** Files that must never be published; {@link buildPackages} and {@link packPackages} fail when they find one. */
const NOT_PUBLISHABLE = /(\.spec\.|\.e2e-spec\.|\.type-test\.|__[^/]*__|(^|\/)(test|fixtures)\/)/;

/**
 * Compiles every package into its `dist` folder, removing the previous output first. Compiler errors
 * are thrown with the compiler's output.
 */
export async function buildPackages(log: (line: string) => void = () => undefined): Promise<void> {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [REPOSITORY_ROOT] });
  for (const pkg of LIBRARY_PACKAGES) {
    const startedAt = Date.now();
    const outDir = join(REPOSITORY_ROOT, pkg.dir, 'dist');
    rmSync(outDir, { recursive: true, force: true });
    const project = join(pkg.dir, 'tsconfig.lib.json');
    try {
      await run(process.execPath, [tsc, '-p', project], { cwd: REPOSITORY_ROOT, maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`Building ${pkg.name} (tsc -p ${project}) failed:\n${stdout ?? ''}${stderr ?? ''}`.trimEnd(), { cause: error });
    }
    copyAssets(join(REPOSITORY_ROOT, pkg.dir, 'src'), outDir);
    const leaked = listFiles(outDir).filter((file) => NOT_PUBLISHABLE.test(file));
    if (leaked.length > 0) {
      throw new Error(`The build of ${pkg.name} contains test files (${leaked.slice(0, 5).join(', ')}); exclude them in ${project}.`);
    }
    log(`built ${pkg.name} into ${pkg.dir}/dist (${Date.now() - startedAt} ms)`);
  }
}

/**
 * Runs `npm pack` for every package (built beforehand by {@link buildPackages}) into `destination`.
 * Fails when a package has no build output or its tarball would contain test files.
 */
export async function packPackages(destination: string, log: (line: string) => void = () => undefined): Promise<PackedPackage[]> {
  mkdirSync(destination, { recursive: true });
  const packed: PackedPackage[] = [];
  for (const pkg of LIBRARY_PACKAGES) {
    const dir = join(REPOSITORY_ROOT, pkg.dir);
    if (!existsSync(join(dir, 'dist', 'index.js'))) {
      throw new Error(`${pkg.name} has no build output in ${pkg.dir}/dist; run "npm run build" first.`);
    }
    const { stdout } = await run(npmCommand(), ['pack', dir, '--pack-destination', destination, '--json', '--ignore-scripts'], {
      cwd: REPOSITORY_ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [result] = JSON.parse(stdout) as Array<{ name: string; version: string; filename: string; files: Array<{ path: string }> }>;
    const files = result.files.map((file) => file.path);
    const leaked = files.filter((file) => NOT_PUBLISHABLE.test(file));
    if (leaked.length > 0) throw new Error(`The tarball of ${pkg.name} would contain test files: ${leaked.join(', ')}.`);
    packed.push({ ...pkg, version: result.version, tarball: join(destination, result.filename), files });
    log(`packed ${result.name}@${result.version} into ${relative(process.cwd(), join(destination, result.filename))} (${files.length} files)`);
  }
  return packed;
}

/** npm's executable for child processes (npm.cmd on Windows). */
export function npmCommand(): string {
  return process.platform === 'win32' ? 'npm.cmd' : 'npm';
}

/**
 * Copies the files under every `assets/` folder of `src` (pages, scripts and styles served as they are,
 * which tsc does not emit) to the same place under `dist`.
 */
function copyAssets(srcDir: string, outDir: string): void {
  for (const file of listFiles(srcDir).filter((f) => /(^|\/)assets\//.test(f))) {
    mkdirSync(dirname(join(outDir, file)), { recursive: true });
    copyFileSync(join(srcDir, file), join(outDir, file));
  }
}

function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

async function main(argv: string[]): Promise<void> {
  const [command, target] = argv;
  const log = (line: string) => console.log(line);
  if (command === 'build') return buildPackages(log);
  if (command === 'pack') {
    await buildPackages(log);
    await packPackages(resolve(target ?? join(REPOSITORY_ROOT, 'dist', 'packages')), log);
    return;
  }
  throw new Error(`Unknown command "${command ?? ''}"; use "build" or "pack [directory]".`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
