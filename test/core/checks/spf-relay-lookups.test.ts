// A relayed server (MailChannels) whose SPF record includes the relay, but after terms that cost receivers more than 10
// DNS lookups — here 9 a: terms and Google's include, whose record includes another: the 11th lookup comes before the
// relay's include. Receivers answer permerror for the relay's mail there (RFC 7208 §4.6.4), and pyspf did, for every
// address of the relay; the audit said spf.too-many-lookups for the record but judged the relay authorised (no
// spf.server-not-authorized), where a server that sends itself got spf.server-not-authorized (check_host = permerror)
// for the same record (found by test/e2e/spf-libspf2-judge.test.ts, hand-made lib-relay-include-lookups).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const D = 'relayed.example';
const MC = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');
const names = (n: number) => Array.from({ length: n }, (_, k) => `a:f${k}.chain.example`).join(' ');

function audit(spf: string): Promise<Finding[]> {
  const map: ZoneMap = {
    [D]: { TXT: [[spf]], MX: [{ priority: 10, exchange: `mail.${D}` }] },
    [`mail.${D}`]: { A: ['203.0.113.10'] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
    '_spf.google.com': { TXT: [['v=spf1 include:_netblocks.google.com ~all']] },
    '_netblocks.google.com': { TXT: [['v=spf1 ip4:172.217.0.0/19 ~all']] },
    ...Object.fromEntries(Array.from({ length: 11 }, (_, k) => [`f${k}.chain.example`, { A: [`192.0.2.${k + 1}`] }])),
  };
  return spfCheck(checkContext(D, map, MC));
}

const notAuthorised = (fs: Finding[]) => fs.filter((f) => f.rule === 'spf.server-not-authorized');

describe("spf: a relay reached only past receivers' 10 DNS lookups is not authorised", () => {
  test("9 lookups and Google's include (2) before the relay's include: spf.server-not-authorized naming Google's include, with the fix", async () => {
    const fs = await audit(`v=spf1 ${names(9)} include:_spf.google.com include:relay.mailchannels.net ~all`);
    const na = notAuthorised(fs);
    assert.equal(na.length, 1, show(fs));
    assert.equal(na[0].subject, 'include:_spf.google.com');
    assert.equal(na[0].fix, 'spf');
    assert.match(na[0].message, /but include:_spf\.google\.com comes first: receivers count 11 DNS lookups by the end of it, more than 10 \(RFC 7208 §4\.6\.4\)\. Receivers return permerror for the relay's mail before they reach include:relay\.mailchannels\.net/);
    assert.ok(fs.some((f) => f.rule === 'spf.too-many-lookups'), show(fs));
    // The section of the lookup limit, and what the fix can do about it (not "drops what breaks the record").
    assert.match(na[0].message, /before they reach include:relay\.mailchannels\.net \(RFC 7208 §4\.6\.4\), so it fails SPF/);
    assert.match(na[0].message, /The SPF fix drops what it can .*its preview names the terms you may select for removal\.$/);
  });

  test("10 lookups before the relay's include: the include is the 11th — not authorised, the record named", async () => {
    const fs = await audit(`v=spf1 ${names(10)} include:relay.mailchannels.net ~all`);
    const na = notAuthorised(fs);
    assert.equal(na.length, 1, show(fs));
    assert.match(na[0].message, /but too many lookups come first: the terms before include:relay\.mailchannels\.net cost 10 DNS lookups, and it is one more: more than 10/);
  });

  test("9 lookups before the relay's include (10 in all), or the 11th after it: authorised", async () => {
    assert.deepEqual(notAuthorised(await audit(`v=spf1 ${names(9)} include:relay.mailchannels.net ~all`)), []);
    const after = await audit(`v=spf1 include:relay.mailchannels.net ${names(10)} ~all`);
    assert.deepEqual(notAuthorised(after), [], show(after));
  });

  test('"+" ip4 terms covering every range of the relay before the lookups match first: not reported', async () => {
    assert.deepEqual(notAuthorised(await audit(`v=spf1 ip4:23.83.208.0/20 ${names(10)} include:relay.mailchannels.net ~all`)), []);
  });
});
