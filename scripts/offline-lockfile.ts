/**
 * Writes the package-lock.json of an application that installs the packed library tarballs, built from
 * this repository's own package-lock.json, so that `npm ci --offline` installs it from the npm cache that
 * `npm ci` of the repository filled: every third-party package gets exactly the version (and integrity)
 * the repository tests, and nothing is resolved against the registry.
 *
 * Why not `npm install --offline`: without a lockfile npm resolves each range to the newest version in the
 * cached package documents, whose tarball the cache may not hold (ENOTCACHED), and the result would not be
 * the versions the repository tests. See docs/adr/0003-installable-packages.md.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One entry of `packages` in a lockfile (lockfileVersion 3); only the members this module reads are typed. */
interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  link?: boolean;
  /** Commands the package installs into node_modules/.bin; npm ci links only what the lockfile lists. */
  bin?: Record<string, string>;
  [key: string]: unknown;
}

interface Lockfile {
  name?: string;
  version?: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

interface Manifest {
  name: string;
  version: string;
  license?: string;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** A local tarball the application depends on through a `file:` specifier. */
export interface LocalTarball {
  /** Absolute path of the `.tgz`. */
  tarball: string;
  /** The package.json packed inside it. */
  manifest: Manifest;
}

/**
 * Writes `<appDir>/package-lock.json` for `<appDir>/package.json`.
 *
 * @param appDir folder of the application's package.json.
 * @param sourceLockfile the lockfile whose third-party versions are reused (this repository's).
 * @param tarballs the packages that the application's `file:` dependencies point at, by npm name.
 * @param registry registry URL for entries that the source lockfile stores without `resolved`
 *   (omit-lockfile-registry-resolved): with a URL and an integrity npm takes the tarball from its cache
 *   by integrity and needs no package document, which `npm ci` of a lockfile with URLs never caches.
 * @throws Error naming the package when a dependency is neither a given tarball nor in the source lockfile.
 */
export function writeOfflineLockfile(
  appDir: string,
  sourceLockfile: string,
  tarballs: ReadonlyMap<string, LocalTarball>,
  registry = 'https://registry.npmjs.org/',
): void {
  const app = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as Manifest;
  const source = JSON.parse(readFileSync(sourceLockfile, 'utf8')) as Lockfile;
  if (source.lockfileVersion < 2) throw new Error(`${sourceLockfile} has lockfileVersion ${source.lockfileVersion}; version 2 or 3 is needed.`);

  const packages: Record<string, LockEntry> = {
    '': { name: app.name, version: app.version, dependencies: app.dependencies, devDependencies: app.devDependencies },
  };
  const pending: Array<{ from: string; name: string; required: boolean; neededBy: string }> = [];
  const needs = (from: string, neededBy: string, manifest: Pick<Manifest, 'dependencies' | 'optionalDependencies' | 'peerDependencies' | 'peerDependenciesMeta'>) => {
    for (const name of Object.keys(manifest.dependencies ?? {})) pending.push({ from, name, required: true, neededBy });
    for (const name of Object.keys(manifest.optionalDependencies ?? {})) pending.push({ from, name, required: false, neededBy });
    for (const name of Object.keys(manifest.peerDependencies ?? {})) {
      // An optional peer is installed only when something else needs it; a required one always is (npm 7+).
      if (!manifest.peerDependenciesMeta?.[name]?.optional) pending.push({ from, name, required: true, neededBy });
    }
  };

  for (const [name, spec] of Object.entries({ ...app.dependencies, ...app.devDependencies })) {
    const local = tarballs.get(name);
    if (!spec.startsWith('file:')) {
      pending.push({ from: '', name, required: true, neededBy: app.name });
      continue;
    }
    if (!local) throw new Error(`${app.name} depends on ${name} through "${spec}", but no tarball of ${name} was given.`);
    const location = `node_modules/${name}`;
    const { manifest } = local;
    packages[location] = {
      version: manifest.version,
      resolved: `file:${relative(appDir, local.tarball).split('\\').join('/')}`,
      integrity: `sha512-${createHash('sha512').update(readFileSync(local.tarball)).digest('base64')}`,
      license: manifest.license,
      dependencies: manifest.dependencies,
      optionalDependencies: manifest.optionalDependencies,
      peerDependencies: manifest.peerDependencies,
      peerDependenciesMeta: manifest.peerDependenciesMeta,
      engines: manifest.engines,
      bin: manifest.bin,
    };
    needs(location, name, manifest);
  }

  while (pending.length > 0) {
    const { from, name, required, neededBy } = pending.shift()!;
    const location = resolveLocation(source, from, name) ?? (packages[`node_modules/${name}`] ? `node_modules/${name}` : undefined);
    if (!location) {
      if (!required) continue;
      throw new Error(`${name}, needed by ${neededBy}, is not in ${sourceLockfile}; add it to the repository's dependencies so that its tested version is known.`);
    }
    if (packages[location]) continue;
    const { dev: _dev, devOptional, peer: _peer, ...entry } = source.packages[location];
    if (!entry.resolved && !entry.inBundle && entry.version) entry.resolved = registryTarballUrl(registry, packageName(location), entry.version);
    // The repository's dev/peer flags say nothing about this app; an entry that is optional somewhere stays optional.
    packages[location] = devOptional ? { ...entry, optional: true } : entry;
    needs(location, location, entry);
  }

  const lockfile: Lockfile = { name: app.name, version: app.version, lockfileVersion: 3, requires: true, packages: sortedByLocation(packages) };
  writeFileSync(join(appDir, 'package-lock.json'), `${JSON.stringify(lockfile, null, 2)}\n`);
}

/**
 * Where Node would find `name` when required from the package at `from` (a lockfile location such as
 * `node_modules/a/node_modules/b`): its own node_modules first, then each enclosing one up to the root.
 */
function resolveLocation(lockfile: Lockfile, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (lockfile.packages[candidate] && !lockfile.packages[candidate].link) return candidate;
    if (!base) return undefined;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent === -1 ? '' : base.slice(0, parent);
  }
}

/** The npm name at a lockfile location: `node_modules/a/node_modules/@s/b` → `@s/b`. */
function packageName(location: string): string {
  return location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** The registry's conventional tarball URL: `<registry>/@s/b/-/b-1.2.3.tgz`. */
function registryTarballUrl(registry: string, name: string, version: string): string {
  const base = registry.endsWith('/') ? registry : `${registry}/`;
  return `${base}${name}/-/${name.slice(name.lastIndexOf('/') + 1)}-${version}.tgz`;
}

function sortedByLocation(packages: Record<string, LockEntry>): Record<string, LockEntry> {
  return Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
