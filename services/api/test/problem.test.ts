import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ProcessingError } from '@flowgate/common';
import { problemResult, problems, problemTitles, toProblemError } from '../src/problem.js';

const titleOf = (error: unknown) => (problemResult(toProblemError(error)).body as { type: string; title: string });

describe('problem types: one title each (RFC 9457 §3.1.3)', () => {
  it("a processor refusal has its type's title, the same as the api's own refusal of that type", () => {
    const byApi = titleOf(problems.unsupportedOperation('no', ['echo']));
    const byProcessor = titleOf(new ProcessingError('unsupported-operation', 'sum needs numbers', ['sum']));
    assert.deepEqual(byProcessor, { ...byProcessor, type: byApi.type, title: byApi.title });
    assert.equal(titleOf(new ProcessingError('non-finite-result', 'overflows')).title, problemTitles['non-finite-result']);
  });

  it('a processor refusal of a type the api does not know becomes processing-failed, not a second title', () => {
    const body = titleOf(new ProcessingError('something-new', 'refused'));
    assert.equal(body.type, 'https://flowgate.dev/problems/processing-failed');
    assert.equal(body.title, 'Processing Failed');
  });

  it("nginx's own problem pages use the table's types and titles", () => {
    const template = readFileSync(new URL('../../../scripts/nginx/flowgate.conf.template', import.meta.url), 'utf8');
    const found = [...template.matchAll(/"type":"https:\/\/flowgate\.dev\/problems\/([^"]+)","title":"([^"]+)"/g)];
    assert.ok(found.length >= 5, 'the template holds problem pages');
    for (const [, slug, title] of found) {
      assert.equal(title, problemTitles[slug as keyof typeof problemTitles], `nginx's title for ${slug}`);
    }
  });
});
