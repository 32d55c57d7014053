// Mocha settings for every test file: `npx mocha <files>` runs just those, and `npm test`
// (scripts/test.mjs) passes the full list. Real PostgreSQL, Redis and RabbitMQ; see test/support.
module.exports = {
  'node-option': ['import=tsx', 'enable-source-maps'],
  require: ['test/support/globalFixtures.ts'],
  reporter: 'test/support/summaryReporter.cjs',
  timeout: 30_000,
  slow: 2_000,
  'forbid-only': true,
  'forbid-pending': true,
  exit: true,
};
