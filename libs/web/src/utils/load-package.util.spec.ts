import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataMigrationService } from '@ai-infrastructure/migration-core';
import { loadOptionalPackage, loadPackage, MIGRATION_CORE_PACKAGE } from './load-package.util';
import { MissingPackageError } from './missing-package.error';

/** Real module resolution: the installed migration package, a name nobody installed, and a broken package on disk. */
describe('loadPackage / loadOptionalPackage', () => {
  const ABSENT = '@ai-infrastructure/not-installed-anywhere';
  let dir: string;

  beforeAll(() => {
    // A package that is present but whose own dependency is not: its failure must not read as "absent".
    dir = mkdtempSync(join(tmpdir(), 'load-package-'));
    mkdirSync(join(dir, 'node_modules', 'broken-package'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'broken-package', 'package.json'), JSON.stringify({ name: 'broken-package', main: 'index.js' }));
    writeFileSync(join(dir, 'node_modules', 'broken-package', 'index.js'), "module.exports = require('dependency-that-is-not-installed');\n");
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns an installed package', () => {
    expect(loadPackage<typeof import('@ai-infrastructure/migration-core')>(MIGRATION_CORE_PACKAGE, 'the tests').DataMigrationService).toBe(DataMigrationService);
    expect(loadOptionalPackage<typeof import('@ai-infrastructure/migration-core')>(MIGRATION_CORE_PACKAGE)?.DataMigrationService).toBe(DataMigrationService);
  });

  it('names the missing package, the command that installs it and what needs it', () => {
    const attempt = () => loadPackage(ABSENT, 'the migration endpoints');
    expect(attempt).toThrow(MissingPackageError);
    expect(attempt).toThrow(
      `The "${ABSENT}" package is not installed, but it is required by the migration endpoints. Install it in your application: npm install ${ABSENT}`,
    );
  });

  it('answers undefined for a missing optional package', () => {
    expect(loadOptionalPackage(ABSENT)).toBeUndefined();
  });

  it('rethrows the failure of an installed package whose own dependency is missing, for both loaders', () => {
    const brokenPath = join(dir, 'node_modules', 'broken-package');
    const load = () => require(brokenPath) as unknown;
    expect(() => loadOptionalPackage('broken-package', load)).toThrow(/Cannot find module 'dependency-that-is-not-installed'/);
    expect(() => loadPackage('broken-package', 'the tests', load)).toThrow(/Cannot find module 'dependency-that-is-not-installed'/);
  });

  it('rethrows errors that are not about resolution', () => {
    const boom = new Error("Cannot find module '@ai-infrastructure/not-installed-anywhere' (but thrown by the package itself)");
    expect(() =>
      loadOptionalPackage(ABSENT, () => {
        throw boom;
      }),
    ).toThrow(boom);
  });
});
