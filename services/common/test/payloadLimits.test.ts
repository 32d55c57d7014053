import assert from 'node:assert/strict';
import { findPayloadProblem, MAX_PAYLOAD_DEPTH } from '../src/payloadLimits.js';

function nestedArrays(levels: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

describe('findPayloadProblem', () => {
  it('accepts ordinary JSON of every type, including Unicode and wide structures', () => {
    for (const payload of ['hello', '😀🇫🇷 e\u0301', 0, -1.5e300, true, null, [], {}, { a: [1, { b: 'c' }] }, Array.from({ length: 100_000 }, (_, i) => i)]) {
      assert.equal(findPayloadProblem(payload), undefined, JSON.stringify(payload).slice(0, 50));
    }
  });

  it('accepts nesting up to the limit and refuses one level more', () => {
    assert.equal(findPayloadProblem(nestedArrays(MAX_PAYLOAD_DEPTH)), undefined);
    assert.equal(findPayloadProblem(nestedArrays(MAX_PAYLOAD_DEPTH + 1)), `payload nests deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  });

  it('walks 10,000 levels of nesting without exhausting the stack', () => {
    const deepArrays = JSON.parse('['.repeat(10_000) + ']'.repeat(10_000));
    const deepObjects = JSON.parse('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000));
    assert.match(findPayloadProblem(deepArrays) ?? '', /nests deeper/);
    assert.match(findPayloadProblem(deepObjects) ?? '', /nests deeper/);
  });

  it('refuses NUL characters in values and keys, naming where', () => {
    assert.equal(findPayloadProblem({ list: ['ok', 'a\u0000b'] }), 'payload.list[1] contains a NUL (U+0000) character');
    assert.equal(findPayloadProblem({ 'k\u0000': 1 }), 'a key of payload contains a NUL (U+0000) character');
  });

  it('refuses lone surrogates but accepts proper pairs', () => {
    assert.equal(findPayloadProblem(JSON.parse('"\\ud83d\\ude00"')), undefined);
    assert.equal(findPayloadProblem(JSON.parse('"x\\ud83d"')), 'payload contains a lone UTF-16 surrogate');
    assert.equal(findPayloadProblem(JSON.parse('["\\ude00"]')), 'payload[0] contains a lone UTF-16 surrogate');
    assert.equal(findPayloadProblem(JSON.parse('{"\\ud800": 1}')), 'a key of payload contains a lone UTF-16 surrogate');
  });

  it('refuses non-finite numbers, which JSON.parse makes of 1e400', () => {
    assert.equal(findPayloadProblem({ big: JSON.parse('1e400') }), 'payload.big is not a finite IEEE-754 number');
    assert.equal(findPayloadProblem([Number.NaN]), 'payload[0] is not a finite IEEE-754 number');
  });

  it('refuses prototype-polluting keys at any depth', () => {
    assert.equal(findPayloadProblem(JSON.parse('{"__proto__": {"admin": true}}')), 'payload has the reserved key "__proto__"');
    assert.equal(findPayloadProblem(JSON.parse('{"a": [{"constructor": {"prototype": 1}}]}')), 'payload.a[0] has the reserved key "constructor"');
    assert.equal(findPayloadProblem({ proto: 1, __proto_: 2 }), undefined);
  });
});
