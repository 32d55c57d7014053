import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import proxyaddr from 'proxy-addr';
import { trustProxyFunction, trustProxyProblem } from '../src/trustProxy.js';

const ADDRESSES = ['127.0.0.1', '::ffff:127.0.0.1', '::1', '10.1.2.3', '::ffff:10.1.2.3', '172.16.0.9', '192.168.1.1', '169.254.0.7', 'fe80::1', 'fd00::5', '8.8.8.8', '::ffff:8.8.8.8', '2001:db8::1'];

describe('trust proxy', () => {
  for (const setting of ['loopback, linklocal, uniquelocal', 'loopback', '10.0.0.0/8, 2001:db8::/32', '8.8.8.8']) {
    it(`answers as proxy-addr does for "${setting}", first time and remembered`, () => {
      const expected = proxyaddr.compile(setting.split(',').map((entry) => entry.trim()));
      // remember = 4 also makes it forget and ask again while the loop goes round.
      const trust = trustProxyFunction(setting, 4);
      for (let pass = 0; pass < 3; pass++) {
        for (const [hop, address] of ADDRESSES.entries()) assert.equal(trust(address, hop), expected(address, hop), `${address} (pass ${pass})`);
      }
    });
  }

  it('names what is wrong with a setting it cannot use', () => {
    assert.equal(trustProxyProblem('loopback, 10.0.0.0/8'), undefined);
    assert.match(trustProxyProblem('loopback, nginx') ?? '', /invalid IP address: nginx/);
    assert.throws(() => trustProxyFunction('10.0.0.0/33'));
  });

  it('a bad TRUST_PROXY stops the api at start with one line naming it', () => {
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
    const result = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH, TRUST_PROXY: 'loopback, nginx' }, encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^flowgate-api: invalid configuration: TRUST_PROXY="loopback, nginx": .*invalid IP address: nginx\n$/);
  });
});
