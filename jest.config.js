// Unit tests need nothing; integration and e2e tests share one set of real servers,
// started once by the global setup and stopped by the teardown.
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } },
  ],
};
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform,
  testEnvironment: 'node',
};

export default {
  // Real servers and binaries: generous, because CI machines are shared and noisy.
  testTimeout: 300_000,
  globalSetup: './test/harness/jest-global-setup.mjs',
  globalTeardown: './test/harness/jest-global-teardown.mjs',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    // The built artifacts (committed Action bundle, CLI bundle) run as separate processes.
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
