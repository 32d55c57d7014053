import assert from 'node:assert/strict';
import { operationsFor, type InputType, type OperationName } from '@flowgate/common';
import { OperationError, runOperation } from '../src/operations.js';

const run = (operation: OperationName, payload: unknown) => runOperation(operation, payload).result;

function assertRefused(operation: OperationName, payload: unknown, type: OperationError['type']): OperationError {
  let caught: unknown;
  try {
    run(operation, payload);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof OperationError, `${operation} should throw OperationError, got ${String(caught)}`);
  assert.equal(caught.type, type);
  return caught;
}

describe('processor operations', () => {
  describe('string payloads', () => {
    it('uppercases and lowercases with full Unicode case mapping', () => {
      assert.equal(run('uppercase', 'hello world'), 'HELLO WORLD');
      assert.equal(run('uppercase', 'straße'), 'STRASSE');
      assert.equal(run('uppercase', 'ﬁx'), 'FIX');
      assert.equal(run('lowercase', 'HELLO Wörld'), 'hello wörld');
      // Final sigma: Σ at the end of a word lowercases to ς.
      assert.equal(run('lowercase', 'ΟΔΟΣ'), 'οδος');
    });

    it('reverses by grapheme cluster: surrogate pairs, flags, ZWJ emoji and combining marks stay whole', () => {
      assert.equal(run('reverse', 'abc'), 'cba');
      assert.equal(run('reverse', 'a😀b'), 'b😀a');
      assert.equal(run('reverse', '🇫🇷🇩🇪'), '🇩🇪🇫🇷');
      assert.equal(run('reverse', 'x👩‍👩‍👧‍👦y'), 'y👩‍👩‍👧‍👦x');
      assert.equal(run('reverse', 'e\u0301a'), 'ae\u0301');
      assert.equal(run('reverse', '👍🏽!'), '!👍🏽');
      assert.equal(run('reverse', ''), '');
      const reversed = run('reverse', '𝄞music😀') as string;
      assert.ok(reversed.isWellFormed(), 'reversal produced a lone surrogate');
    });

    it('capitalizes the first grapheme in titlecase and lowercases the rest', () => {
      assert.equal(run('capitalize', 'hELLO wORLD'), 'Hello world');
      assert.equal(run('capitalize', 'ßen'), 'Ssen');
      assert.equal(run('capitalize', 'ﬁsh'), 'Fish');
      assert.equal(run('capitalize', 'ǆemal'), 'ǅemal');
      assert.equal(run('capitalize', 'e\u0301TÉ'), 'E\u0301té');
      assert.equal(run('capitalize', '😀ABC'), '😀abc');
      assert.equal(run('capitalize', ''), '');
    });

    it('trims Unicode whitespace at both ends only', () => {
      assert.equal(run('trim', ' \t\n hello  world \u3000\u00a0'), 'hello  world');
      assert.equal(run('trim', '   '), '');
    });

    it('counts user-perceived characters, not UTF-16 code units', () => {
      assert.equal(run('length', 'hello'), 5);
      assert.equal(run('length', '😀'), 1);
      assert.equal(run('length', '🇫🇷🇩🇪'), 2);
      assert.equal(run('length', '👩‍👩‍👧‍👦'), 1);
      assert.equal(run('length', 'e\u0301'), 1);
      assert.equal(run('length', ''), 0);
    });

    it('counts words, ignoring punctuation and emoji, segmenting CJK', () => {
      assert.equal(run('word_count', 'hello, world!'), 2);
      assert.equal(run('word_count', "don't stop — 42 times"), 4);
      assert.equal(run('word_count', '你好世界'), 2);
      assert.equal(run('word_count', '... !!! 😀'), 0);
      assert.equal(run('word_count', ''), 0);
    });

    it('reports the input type of the payload', () => {
      assert.deepEqual(runOperation('uppercase', 'x'), { result: 'X', inputType: 'string' });
    });
  });

  describe('number payloads', () => {
    it('squares, doubles, negates and takes absolute values', () => {
      assert.equal(run('square', 12), 144);
      assert.equal(run('square', -1.5), 2.25);
      assert.equal(run('double', 21), 42);
      assert.equal(run('negate', 5), -5);
      assert.equal(run('negate', -2.5), 2.5);
      assert.equal(run('abs', -7), 7);
    });

    it('never answers -0', () => {
      for (const operation of ['square', 'double', 'negate', 'abs'] as const) {
        assert.ok(Object.is(run(operation, 0), 0), `${operation}(0)`);
        assert.ok(Object.is(run(operation, -0), 0), `${operation}(-0)`);
      }
    });

    it('refuses results that overflow to infinity instead of answering null', () => {
      assert.match(assertRefused('square', 1e308, 'non-finite-result').message, /square overflows/);
      assert.match(assertRefused('double', 1e308, 'non-finite-result').message, /double overflows/);
      assert.equal(run('double', Number.MAX_SAFE_INTEGER), 2 * Number.MAX_SAFE_INTEGER);
      assert.equal(run('negate', Number.MAX_VALUE), -Number.MAX_VALUE);
    });
  });

  describe('array payloads', () => {
    it('sorts numbers numerically and strings by code point', () => {
      assert.deepEqual(run('sort', [10, 9, -1, 2.5, 100]), [-1, 2.5, 9, 10, 100]);
      assert.deepEqual(run('sort', ['b', 'a', 'B', 'aa']), ['B', 'a', 'aa', 'b']);
      // UTF-16 order would put the emoji (D83D…) before U+FF61; code point order does not.
      assert.deepEqual(run('sort', ['😀', '\uff61', 'z']), ['z', '\uff61', '😀']);
    });

    it('sorts mixed arrays in a total order: by type, then by value', () => {
      const mixed = [{ b: 1 }, 'x', [10], 3, null, true, [9], false, -1, { a: 2 }];
      assert.deepEqual(run('sort', mixed), [null, false, true, -1, 3, 'x', [9], [10], { a: 2 }, { b: 1 }]);
      // Total and deterministic: the input order does not change the output.
      assert.deepEqual(run('sort', [...mixed].reverse()), run('sort', mixed));
    });

    it('sorts without changing the input and keeps equal elements in input order', () => {
      const input = [{ k: 1, v: 'first' }, { k: 1, v: 'first' }, 2, 1];
      const sorted = run('sort', input);
      assert.deepEqual(input, [{ k: 1, v: 'first' }, { k: 1, v: 'first' }, 2, 1]);
      assert.deepEqual(sorted, [1, 2, { k: 1, v: 'first' }, { k: 1, v: 'first' }]);
    });

    it('reverses element order without touching the elements', () => {
      assert.deepEqual(run('reverse', [1, 'two', { three: 3 }, ['😀']]), [['😀'], { three: 3 }, 'two', 1]);
      assert.deepEqual(run('reverse', []), []);
    });

    it('removes duplicates by value, objects compared regardless of key order, first occurrence kept', () => {
      assert.deepEqual(run('unique', [3, 1, 3, 2, 1]), [3, 1, 2]);
      assert.deepEqual(run('unique', [{ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, { a: 1, b: [2, 1] }]), [
        { a: 1, b: [1, 2] },
        { a: 1, b: [2, 1] },
      ]);
      assert.deepEqual(run('unique', ['1', 1, [1], { 1: 1 }, null, 'null']), ['1', 1, [1], { 1: 1 }, null, 'null']);
      assert.deepEqual(run('unique', [0, -0]), [0]);
    });

    it('sums numbers, including partial sums that overflow when the total does not', () => {
      assert.equal(run('sum', [1, 2, 3.5]), 6.5);
      assert.ok(Object.is(run('sum', []), 0));
      assert.equal(run('sum', [1e308, 1e308, -1e308]), 1e308);
      assert.match(assertRefused('sum', [1e308, 1e308], 'non-finite-result').message, /sum overflows/);
    });

    it('refuses to sum non-numbers, naming what does apply', () => {
      const error = assertRefused('sum', [1, '2'], 'unsupported-operation');
      assert.ok(error.supportedOperations?.includes('count'));
      assert.ok(!error.supportedOperations?.includes('sum'));
    });

    it('counts elements', () => {
      assert.equal(run('count', [1, [2, 3], {}]), 3);
      assert.equal(run('count', []), 0);
    });
  });

  describe('object payloads', () => {
    it('lists keys and counts them', () => {
      assert.deepEqual(run('keys', { b: 1, a: { nested: true }, ü: null }), ['b', 'a', 'ü']);
      assert.equal(run('count', { b: 1, a: 2 }), 2);
      assert.deepEqual(run('keys', {}), []);
    });
  });

  describe('echo and unsupported operations', () => {
    it('echoes every JSON type unchanged, with its input type', () => {
      for (const [payload, inputType] of [
        ['s', 'string'],
        [1.5, 'number'],
        [true, 'boolean'],
        [null, 'null'],
        [[1], 'array'],
        [{ a: 1 }, 'object'],
      ] as const) {
        assert.deepEqual(runOperation('echo', payload), { result: payload, inputType });
      }
    });

    it('refuses an operation that does not fit the payload, listing the supported ones', () => {
      const cases: Array<[OperationName, unknown, InputType]> = [
        ['square', 'text', 'string'],
        ['uppercase', 42, 'number'],
        ['keys', [1], 'array'],
        ['sort', { a: 1 }, 'object'],
        ['count', true, 'boolean'],
        ['length', null, 'null'],
      ];
      for (const [operation, payload, inputType] of cases) {
        const error = assertRefused(operation, payload, 'unsupported-operation');
        const supported = operationsFor(inputType);
        assert.deepEqual(error.supportedOperations, supported);
        assert.ok(supported.includes('echo'));
        assert.ok(error.message.includes(`a ${inputType} payload`), error.message);
        assert.ok(error.message.includes(supported.join(', ')), error.message);
      }
    });
  });
});

