// permerrorBefore (spf/relay.ts) counts the DNS lookups receivers make before the relay's include, and reports the
// relay's mail as a permerror past 10 (RFC 7208 §4.6.4). An include before it whose own record lists every range of the
// relay's first — "+" ip4 terms before its lookups — matches the relay's addresses there: receivers stop, well within
// the limit, and pass them. Its whole record's lookups (counted past 10 for other senders) never happen for the relay's
// mail (review: the include's total was counted, and a relay that passes was reported spf.server-not-authorized).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings } from '../../../src/core/model.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'relayed.example';
const MC = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');
const names = (n: number) => Array.from({ length: n }, (_, k) => `a:f${k}.chain.example`).join(' ');

function zone(spf: string, own: string): ZoneMap {
  return {
    [D]: { TXT: [[spf]], MX: [{ priority: 10, exchange: `mail.${D}` }] },
    [`mail.${D}`]: { A: ['203.0.113.10'] },
    [`_spf.${D}`]: { TXT: [[own]] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
    ...Object.fromEntries(Array.from({ length: 12 }, (_, k) => [`f${k}.chain.example`, { A: [`192.0.2.${k + 1}`] }])),
  };
}

const notAuthorised = (fs: Finding[]) => fs.filter((f) => f.rule === 'spf.server-not-authorized');

describe("spf: lookups inside an include are counted only up to where the relay's addresses match", () => {
  const spf = `v=spf1 include:_spf.${D} include:relay.mailchannels.net ~all`;

  test("the include's own ip4 covers the relay's range before its 10 a: terms: the relay passes (check_host agrees); not reported", async () => {
    const map = zone(spf, `v=spf1 ip4:23.83.208.0/20 ${names(10)} ~all`);
    // The judge: receivers pass the relay's address there (the include's ip4 matches after one lookup).
    const r = await checkHost('23.83.208.1', D, `postmaster@${D}`, `mail.${D}`, new MapResolver(map));
    assert.equal(r.result, 'pass');
    const fs = await spfCheck(checkContext(D, map, MC));
    assert.deepEqual(notAuthorised(fs), [], show(fs));
    // The record still costs other senders more than 10 lookups: said as such.
    assert.ok(fs.some((f) => f.rule === 'spf.too-many-lookups'), show(fs));
  });

  test('the same ip4 after the 10 a: terms: receivers answer permerror first (check_host agrees); reported', async () => {
    const map = zone(spf, `v=spf1 ${names(10)} ip4:23.83.208.0/20 ~all`);
    const r = await checkHost('23.83.208.1', D, `postmaster@${D}`, `mail.${D}`, new MapResolver(map));
    assert.equal(r.result, 'permerror');
    const na = notAuthorised(await spfCheck(checkContext(D, map, MC)));
    assert.equal(na.length, 1);
    assert.equal(na[0].subject, `include:_spf.${D}`);
  });

  test('an ip4 of the included record covering only part of the relay\'s range: the rest is past the limit; reported', async () => {
    const map = zone(spf, `v=spf1 ip4:23.83.208.0/21 ${names(10)} ~all`);
    const r = await checkHost('23.83.216.1', D, `postmaster@${D}`, `mail.${D}`, new MapResolver(map));
    assert.equal(r.result, 'permerror');
    assert.equal(notAuthorised(await spfCheck(checkContext(D, map, MC))).length, 1);
  });

  test('the ranges inside a nested include, reached within the limit: not reported', async () => {
    const map = zone(spf, `v=spf1 a:f11.chain.example include:relay-copy.example ${names(9)} ~all`);
    map['relay-copy.example'] = { TXT: [['v=spf1 ip4:23.83.208.0/20 -all']] };
    const r = await checkHost('23.83.208.1', D, `postmaster@${D}`, `mail.${D}`, new MapResolver(map));
    assert.equal(r.result, 'pass');
    const fs = await spfCheck(checkContext(D, map, MC));
    assert.deepEqual(notAuthorised(fs), [], show(fs));
  });
});
