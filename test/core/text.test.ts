// Invisible formatting characters: shown as escapes in text, written as \uXXXX escapes in JSON (same value).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonText, showInvisible } from '../../src/core/text.js';

test('jsonText: bidi, zero-width, C1 and tag characters become \\uXXXX escapes; parsing gives the same value', () => {
  const value = { a: 'x\u202Ey\u200Bz', b: ['\u0085\u00AD\uFEFF', 'tag\u{E0041}'], c: 'é 中文 \t\n', n: 1 };
  const s = jsonText(value, 2);
  assert.ok(!/[\u202E\u200B\u0085\u00AD\uFEFF]|[\u{E0000}-\u{E007F}]/u.test(s), s);
  assert.ok(s.includes('x\\u202ey\\u200bz'));
  assert.ok(s.includes('tag\\udb40\\udc41'), 'beyond U+FFFF: a surrogate pair of escapes');
  assert.ok(s.includes('é 中文'), 'visible text stays as it is');
  assert.deepEqual(JSON.parse(s), value);
  assert.equal(jsonText(value), JSON.stringify(JSON.parse(jsonText(value))).replace(/\u202E/g, '\\u202e').replace(/\u200B/g, '\\u200b').replace(/\u0085/g, '\\u0085').replace(/\u00AD/g, '\\u00ad').replace(/\uFEFF/g, '\\ufeff').replace(/\u{E0041}/gu, '\\udb40\\udc41'));
});

test('showInvisible: the escapes for text; other text unchanged', () => {
  assert.equal(showInvisible('a\u202Eb\u{E0001}c é'), 'a\\u202Eb\\u{E0001}c é');
});
