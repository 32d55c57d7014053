// One mocha run for every workspace: unit and integration tests beside each service,
// end-to-end tests in test/e2e. Real PostgreSQL, Redis and RabbitMQ; see test/support.
module.exports = {
  'node-option': ['import=tsx', 'enable-source-maps'],
  require: ['test/support/globalFixtures.ts'],
  spec: ['services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
  // The fault suite stops shared servers; it runs only as `npm run test:faults`.
  ignore: ['test/faults/**'],
  reporter: 'test/support/summaryReporter.cjs',
  timeout: 30_000,
  slow: 2_000,
  'forbid-only': true,
  'forbid-pending': true,
  exit: true,
};
