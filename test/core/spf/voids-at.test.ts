// Where the void lookups of one check_host evaluation come from (SpfEvaluation.voidsAt: the term of the checked
// record each was counted under), and the most a walked record can cost a sender of one family before a given term
// (voidsBefore: what the walk counts, plus what it cannot — a term with macros, a ptr). The SPF fix reads the first to
// put this server's IP, or the relay's include, before the terms that cost void lookups (test/core/plans/
// spf-voids-placement.test.ts); the check and the fix read the second to ask check_host for the relay's addresses only
// where the limit may be reached.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { voidsBefore, walkSpfRecord } from '../../../src/core/spf/tree.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';

const D = 'voids.example';
const SENDER = '192.0.2.77';
const SENDER6 = '2001:db8::77';

function world(record: string): ZoneMap {
  return {
    [D]: { TXT: [[record]] },
    // Addresses of one family only: void for the other family's senders, who ask for their own family alone.
    'v6only.example': { AAAA: ['2001:db8::1'] },
    'v4only.example': { A: ['198.51.100.1'] },
    // An included record whose one term costs a void lookup for every sender.
    '_inc.example': { TXT: [['v=spf1 a:noaddr.example ~all']] },
    'noaddr.example': { TXT: [['no address here']] },
    // A redirect= target with a term of its own that costs one, and lists the sender.
    '_redir.example': { TXT: [[`v=spf1 a:noaddr.example ip4:${SENDER} -all`]] },
    // An included record with a term with macros and a ptr: neither counted by the walk.
    '_dyn.example': { TXT: [['v=spf1 exists:%{i}.listed.example ptr:dyn.example ~all']] },
    // The relay-like record a term may be "before".
    '_target.example': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
    // Lists the sender for exists:%{i}.listed.example.
    [`${SENDER}.listed.example`]: { A: ['127.0.0.2'] },
  };
}

const run = (record: string, ip = SENDER) => checkHost(ip, D, `postmaster@${D}`, 'helo.example', new MapResolver(world(record)));

describe('check_host: voidsAt', () => {
  test('each void lookup is listed under the record’s term that made it (an include: the include), in order', async () => {
    const r = await run(`v=spf1 a:v6only.example include:_inc.example exists:%{i}.unlisted.example ip4:${SENDER} -all`);
    assert.equal(r.result, 'permerror', r.trace.join('\n'));
    assert.deepEqual(r.voidsAt, ['a:v6only.example', 'include:_inc.example', 'exists:%{i}.unlisted.example']);
  });

  test('the same name is void for one family only: for the other family it costs nothing', async () => {
    const r = await run(`v=spf1 a:v6only.example a:v4only.example ip6:${SENDER6} -all`, SENDER6);
    assert.equal(r.result, 'pass', r.trace.join('\n'));
    assert.deepEqual(r.voidsAt, ['a:v4only.example']);
  });

  test('a void lookup in the record a redirect= leads to is listed under the redirect=', async () => {
    const r = await run('v=spf1 a:v6only.example redirect=_redir.example');
    assert.equal(r.result, 'pass', r.trace.join('\n'));
    assert.deepEqual(r.voidsAt, ['a:v6only.example', 'redirect=_redir.example']);
  });

  test('no void lookup: no voidsAt', async () => {
    const r = await run(`v=spf1 a:v4only.example ip4:${SENDER} -all`);
    assert.equal(r.result, 'pass');
    assert.equal(r.voidsAt, undefined);
  });
});

describe('voidsBefore: the most void lookups before a term, per family', () => {
  async function tree(record: string) {
    return walkSpfRecord(new MapResolver(world(record)), D, record);
  }
  const term = (t: Awaited<ReturnType<typeof tree>>, raw: string) => t.terms.find((x) => x.term === raw)!;

  test('counted per family, plus one for each term with macros or ptr the walk cannot count (also inside an include)', async () => {
    const t = await tree('v=spf1 a:v6only.example exists:%{i}.unlisted.example include:_dyn.example include:_target.example a:v4only.example ~all');
    const target = term(t, 'include:_target.example');
    // IPv4: a:v6only.example (1), the exists term (1), _dyn.example's exists and ptr (2). Nothing after the target.
    assert.equal(voidsBefore(t, target, 4), 4);
    // IPv6: v6only.example has an AAAA record; the rest as for IPv4.
    assert.equal(voidsBefore(t, target, 6), 3);
    assert.equal(voidsBefore(t, term(t, 'a:v6only.example'), 4), 0, 'nothing before the first term');
  });

  test('an include, redirect= or mx with macros may cost any number; a redirect= comes after every mechanism', async () => {
    const t = await tree('v=spf1 include:%{l}._spf.example include:_target.example ~all');
    assert.equal(voidsBefore(t, term(t, 'include:_target.example'), 4), Infinity);
    const r = await tree('v=spf1 redirect=_target.example a:v6only.example');
    assert.equal(voidsBefore(r, term(r, 'redirect=_target.example'), 4), 1, 'the a term after it in the text is evaluated before it');
  });
});
