/** Tests run the TypeScript sources through esbuild; types are checked apart by `npm run typecheck`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': '<rootDir>/test/esbuild-transform.js' },
  moduleNameMapper: { '^loadfarm$': '<rootDir>/worker/index.ts' },
  cacheDirectory: '<rootDir>/.jest-cache',
  globalSetup: '<rootDir>/test/global-setup.js',
  testTimeout: 60000,
  maxWorkers: 2,
};
