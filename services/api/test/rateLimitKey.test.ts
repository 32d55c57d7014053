import assert from 'node:assert/strict';
import { addressKey } from '../src/protection/rateLimit.js';

describe('rate limit: client address keys', () => {
  it('keys an IPv4 client by its address, whether the socket reports it plain or IPv6-mapped', () => {
    assert.equal(addressKey('10.1.2.3'), 'ip:10.1.2.3');
    assert.equal(addressKey('::ffff:10.1.2.3'), 'ip:10.1.2.3');
    assert.equal(addressKey('::FFFF:127.0.0.1'), 'ip:127.0.0.1');
  });

  it('groups IPv6 clients by /56, so rotating addresses within a prefix shares one limit', () => {
    const first = addressKey('2001:db8:1234:5600::1');
    assert.equal(addressKey('2001:db8:1234:56ff:ffff::2'), first);
    assert.notEqual(addressKey('2001:db8:1234:5700::1'), first);
    assert.doesNotMatch(first, /::1$/);
  });
});
