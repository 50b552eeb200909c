/** Unit, integration (real Postgres + real PostgREST) and simulator tests. */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
	transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
	globalSetup: '<rootDir>/test/support/jest.globalSetup.ts',
	globalTeardown: '<rootDir>/test/support/jest.globalTeardown.ts',
	testTimeout: 120000,
	maxWorkers: 2,
};
