// `npm run test:faults`: real outages of RabbitMQ, Redis, PostgreSQL and the services under load.
// These stop the machine's shared servers, so they never run beside other tests.
module.exports = {
  'node-option': ['import=tsx', 'enable-source-maps'],
  require: ['test/support/globalFixtures.ts'],
  spec: ['test/faults/**/*.test.ts'],
  reporter: 'test/support/summaryReporter.cjs',
  timeout: 240_000,
  slow: 60_000,
  'forbid-only': true,
  'forbid-pending': true,
  exit: true,
};
