/**
 * One Jest run for unit specs (next to the code) and e2e specs (test/).
 * Path aliases mirror tsconfig.json "paths"; keep the two in agreement.
 */
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '(libs|apps|test)/.*\\.(spec|e2e-spec)\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] },
  testEnvironment: 'node',
  moduleNameMapper: {
    '^@ai-infrastructure/core(|/.*)$': '<rootDir>/libs/core/src$1',
    '^@ai-infrastructure/migration-core(|/.*)$': '<rootDir>/libs/migration-core/src$1',
    '^@ai-infrastructure/web(|/.*)$': '<rootDir>/libs/web/src$1',
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
