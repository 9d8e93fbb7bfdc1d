/** @type {import('jest').Config} */
// Type-checking is tsc's job (npm run build, lint); jest only transpiles, file by file.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }];

/** A jest project: its name and test files; `store` projects share the store global setup starts. */
function project(displayName, testMatch, { store = false } = {}) {
  return {
    displayName,
    testEnvironment: 'node',
    rootDir: '.',
    testMatch,
    transform: { '^.+\\.ts$': tsJest },
    moduleFileExtensions: ['ts', 'js', 'json'],
    ...(store && {
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    }),
  };
}

module.exports = {
  // e2e files start the app and a store; a project-level testTimeout is ignored by jest.
  testTimeout: 60000,
  projects: [
    project('unit', [
      '<rootDir>/src/**/*.spec.ts',
      '<rootDir>/tools/**/*.spec.ts',
      // The query-shape test's own logic (docs/testing.md).
      '<rootDir>/test/support/**/*.spec.ts',
      '<rootDir>/bench/**/*.spec.ts',
    ]),
    project('e2e', ['<rootDir>/test/e2e/**/*.e2e-spec.ts'], { store: true }),
    // Services against the real store, without HTTP: races and crashes between two writes.
    project('medium', ['<rootDir>/test/medium/**/*.medium-spec.ts'], { store: true }),
    // Generated hostile bodies over HTTP against the real app and store (fast-check, fixed seed).
    project('fuzz', ['<rootDir>/test/fuzz/**/*.fuzz-spec.ts'], { store: true }),
  ],
};
