/**
 * Two Jest projects, both run by `npm test` (`jest --config jest.config.js`):
 * - unit: specs next to the code (`libs/**` and `apps/**` `*.spec.ts`); no database and no global setup,
 *   so they run in seconds (`npx jest --selectProjects unit`);
 * - e2e: `test/**` `*.e2e-spec.ts`, plus the specs of `libs/core/src/database`, which start embedded
 *   PostgreSQL (PGlite); the global setup starts a throwaway PostgreSQL cluster for the run.
 * Path aliases mirror tsconfig.json "paths"; keep the two in agreement. Options that apply to the whole run
 * (timeout, workers, reporters) are at the top level.
 */

/** What both projects share: TypeScript through ts-jest, Node, the package aliases. */
const shared = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  // tsconfig.json (found from rootDir) plus isolatedModules: files are transpiled one by one, without type
  // checking (`npm run typecheck` does that once for everything).
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }] },
  testEnvironment: 'node',
  moduleNameMapper: {
    '^@ai-infrastructure/core(|/.*)$': '<rootDir>/libs/core/src$1',
    '^@ai-infrastructure/migration-core(|/.*)$': '<rootDir>/libs/migration-core/src$1',
    '^@ai-infrastructure/web(|/.*)$': '<rootDir>/libs/web/src$1',
  },
  // Build output and installed copies of the packages are never tests.
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

/** Specs next to the code that need a database (PGlite); they run with the e2e project. */
const DATABASE_SPECS = '<rootDir>/libs/core/src/database/';

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{libs,apps}/**/*.spec.ts'],
      testPathIgnorePatterns: [...shared.testPathIgnorePatterns, DATABASE_SPECS],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts', `${DATABASE_SPECS}**/*.spec.ts`],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
  testTimeout: 120000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
