// A relayed server (MailChannels) whose SPF record lists the relay's addresses (ip4:23.83.208.0/20, today's range of
// relay.mailchannels.net's record) instead of including it. mailhealth's verdict stays spf.server-not-authorized (only
// the include follows when the relay changes its addresses: README "SPF qualifiers"), but its message said "receivers
// fail SPF for its mail" — while pyspf and Mail::SPF both pass every address of that range (differential QA:
// test/e2e/spf-second-judge.test.ts, relay-ranges-only). The message now says what receivers do today, wherever the
// record's own "+" terms pass the whole range first; elsewhere it stays as it was.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'relayed.example';
const MC = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');

function world(spf: string, relay = 'v=spf1 ip4:23.83.208.0/20 ~all'): ZoneMap {
  return {
    [D]: { TXT: [[spf]], MX: [{ priority: 10, exchange: `mail.${D}` }] },
    [`mail.${D}`]: { A: ['203.0.113.10'] },
    'relay.mailchannels.net': { TXT: [[relay]] },
    'nospf.example': { TXT: [['some-verification=abc']] },
  };
}

const notAuthorised = async (spf: string, relay?: string) => {
  const fs = await spfCheck(checkContext(D, world(spf, relay), MC));
  const na = fs.filter((f) => f.rule === 'spf.server-not-authorized');
  assert.equal(na.length, 1, show(fs));
  assert.equal(na[0].severity, 'fail');
  assert.equal(na[0].fix, 'spf');
  return na[0].message;
};

const COPIED = /does not include relay\.mailchannels\.net: it lists the addresses that record publishes today \(([^)]*)\) instead, so receivers pass the relay's mail from them for now/;
const FAILS = /does not include relay\.mailchannels\.net: receivers fail SPF for its mail\.$/;

describe("spf: a relay's ranges copied instead of its include", () => {
  test('ip4:23.83.208.0/20 -all: still not authorised, but the message no longer says receivers fail its mail', async () => {
    const m = await notAuthorised('v=spf1 ip4:23.83.208.0/20 -all');
    assert.match(m, COPIED);
    assert.equal(COPIED.exec(m)![1], '23.83.208.0/20');
    assert.doesNotMatch(m, /receivers fail SPF/);
  });

  test('a wider "+" range, or several, covering every range the relay publishes (after other terms) count too', async () => {
    assert.match(await notAuthorised('v=spf1 mx ip4:23.83.0.0/16 ~all'), COPIED);
    const two = await notAuthorised('v=spf1 ip4:23.83.208.0/21 +ip4:23.83.216.0/21 ip4:205.201.128.0/20 ~all', 'v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all');
    assert.equal(COPIED.exec(two)?.[1], '23.83.208.0/20, 205.201.128.0/20', two);
  });

  test('where receivers do not pass the whole range first, the message stays "receivers fail SPF for its mail"', async () => {
    for (const spf of [
      // half the range
      'v=spf1 ip4:23.83.208.0/21 ~all',
      // one of the relay's two ranges
      'v=spf1 ip4:23.83.208.0/20 ~all',
      // a "-" term before the range decides for part of it
      'v=spf1 -ip4:23.83.215.0/24 ip4:23.83.208.0/20 ~all',
      // the range after all (never evaluated) or with a qualifier
      'v=spf1 ~all ip4:23.83.208.0/20',
      'v=spf1 ?ip4:23.83.208.0/20 -all',
      // no range at all
      'v=spf1 mx ~all',
    ]) {
      const relay = spf === 'v=spf1 ip4:23.83.208.0/20 ~all' ? 'v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all' : undefined;
      assert.match(await notAuthorised(spf, relay), FAILS, spf);
    }
    // An include that is a permanent error before the range: receivers answer permerror first, and the finding says so.
    const pe = await notAuthorised('v=spf1 include:nospf.example ip4:23.83.208.0/20 ~all');
    assert.match(pe, /receivers meet a permanent error at include:nospf\.example before any term decides/);
    assert.doesNotMatch(pe, COPIED);
    assert.doesNotMatch(pe, FAILS);
    // A "+" range before the "-" one passes that part first: the copy stands.
    assert.match(await notAuthorised('v=spf1 ip4:23.83.208.0/20 -ip4:23.83.215.0/24 ~all'), COPIED);
  });

  test('the SPF fix the message names adds the include', async () => {
    const spf = 'v=spf1 ip4:23.83.208.0/20 -all';
    const zone: ZoneRecord[] = [
      { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' },
      { name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' },
    ];
    const p = await planSpf(checkContext(D, world(spf), MC, zone), zone, {});
    const after = p.changes.find((c) => c.after)?.after;
    assert.ok(after, `a change: ${p.blocked ?? p.notes.join('; ')}`);
    assert.match((after.txt ?? [after.value]).join(''), /\binclude:relay\.mailchannels\.net\b/);
  });
});
