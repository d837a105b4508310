// An error page's links (HttpError `back`) are same-site paths only. The template's old filter (/^\/(?!\/)/) let
// "/\evil.example" and "/<TAB>/evil.example" through — browsers read both as //evil.example, another site (security
// review). No route passes user input there today; the rule now lives in HttpError, with this test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpError, isSameSitePath } from '../../src/web/http.js';

test('same-site paths pass; paths a browser reads as another site, scripts and full URLs do not', () => {
  for (const ok of ['/history', '/history?domain=a.example&before=3#change-2', '/domains/xn--bcher-kva.example', '/history?domain=a%5Cb%09c']) {
    assert.equal(isSameSitePath(ok), true, ok);
  }
  for (const bad of ['//evil.example/x', '/\\evil.example/x', '/\t/evil.example/x', '/\n/evil.example', '/x y', 'javascript:alert(1)', 'https://evil.example/', 'history', '', '/\u0000x']) {
    assert.equal(isSameSitePath(bad), false, JSON.stringify(bad));
  }
});

test('HttpError keeps only same-site links', () => {
  const e = new HttpError(409, 'refused', [
    { href: '/history?domain=a.example', text: 'ok' },
    { href: '/\\evil.example/phish', text: 'backslash' },
    { href: '/\t/evil.example/phish', text: 'tab' },
  ]);
  assert.deepEqual(e.back.map((l) => l.text), ['ok']);
});
