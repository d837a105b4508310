// check_host's permerrorAt: the term of the checked domain's own record being evaluated when a permanent error ended
// the evaluation — what the SPF fix puts this server's IP (or the relay's include) before, and what the SPF check
// names (src/core/plans/spf.ts relayPastVoids). And the walk's unfollowed(): the terms whose cost for a sender only
// check_host can tell (an include, redirect= or mx with macros, at the term or below it).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { unfollowed, walkSpfRecord } from '../../../src/core/spf/tree.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';

const D = 'permat.example';
const IP = '192.0.2.10';

async function evaluate(spf: string, more: ZoneMap = {}, ip = IP) {
  return checkHost(ip, D, `postmaster@${D}`, 'mail.permat.example', new MapResolver({ [D]: { TXT: [[spf]] }, ...more }));
}

describe('check_host: permerrorAt', () => {
  test('an include with macros whose name has no SPF record: that include, though a term before it was evaluated', async () => {
    const r = await evaluate('v=spf1 ip4:198.51.100.1 include:%{ir}._spf.list.example ip4:192.0.2.10 ~all');
    assert.equal(r.result, 'permerror');
    assert.equal(r.permerrorAt, 'include:%{ir}._spf.list.example');
    assert.match(r.reason ?? '', /target 10\.2\.0\.192\._spf\.list\.example has no SPF record/);
  });

  test('an error one record down (a redirect= with macros there): the top-level include that leads to it', async () => {
    const r = await evaluate('v=spf1 include:_spf.svc.example ip4:192.0.2.10 ~all', { '_spf.svc.example': { TXT: [['v=spf1 redirect=%{ir}._spf.list.example']] } });
    assert.equal(r.result, 'permerror');
    assert.equal(r.permerrorAt, 'include:_spf.svc.example');
  });

  test("the record's own redirect= with macros: the redirect=", async () => {
    const r = await evaluate('v=spf1 a:mail.permat.example redirect=%{ir}._spf.list.example', { 'mail.permat.example': { A: ['198.51.100.1'] } });
    assert.equal(r.result, 'permerror');
    assert.equal(r.permerrorAt, 'redirect=%{ir}._spf.list.example');
  });

  test('the void limit: the term whose lookup was the third', async () => {
    const r = await evaluate('v=spf1 a:n1.permat.example a:n2.permat.example exists:%{i}.list.example ~all');
    assert.equal(r.result, 'permerror');
    assert.deepEqual(r.voidsAt, ['a:n1.permat.example', 'a:n2.permat.example', 'exists:%{i}.list.example']);
    assert.equal(r.permerrorAt, 'exists:%{i}.list.example');
  });

  test('absent for an error of the record itself, and for any other result', async () => {
    const bad = await evaluate('v=spf1 ip4:192.0.2.300 ~all');
    assert.equal(bad.result, 'permerror');
    assert.equal(bad.permerrorAt, undefined);
    const pass = await evaluate('v=spf1 ip4:192.0.2.10 include:%{ir}._spf.list.example ~all');
    assert.equal(pass.result, 'pass');
    assert.equal(pass.permerrorAt, undefined);
    const temp = await evaluate('v=spf1 include:%{ir}._spf.list.example ~all', { '10.2.0.192._spf.list.example': { TXT: 'TIMEOUT' } });
    assert.equal(temp.result, 'temperror');
    assert.equal(temp.permerrorAt, undefined);
  });
});

describe('walk: unfollowed', () => {
  test('an include or redirect= with macros, at the term or in the record it leads to; an a, exists or plain term is followed', async () => {
    const resolver = new MapResolver({
      '_spf.svc.example': { TXT: [['v=spf1 redirect=%{ir}._spf.list.example']] },
      '_spf.plain.example': { TXT: [['v=spf1 ip4:198.51.100.0/24 exists:%{i}.list.example -all']] },
    });
    const tree = await walkSpfRecord(resolver, D, 'v=spf1 include:%{ir}._spf.list.example include:_spf.svc.example mx:%{l}.example a:%{ir}.list.example include:_spf.plain.example ~all');
    const by = Object.fromEntries(tree.terms.map((t) => [t.term, unfollowed(t)]));
    assert.deepEqual(by, {
      'include:%{ir}._spf.list.example': true,
      'include:_spf.svc.example': true,
      'mx:%{l}.example': true,
      'a:%{ir}.list.example': false,
      'include:_spf.plain.example': false,
      '~all': false,
    });
  });
});
