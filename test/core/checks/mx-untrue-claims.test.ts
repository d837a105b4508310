// MX findings that said something untrue (review, helper Y's reproduction): a backup MX at this server was told to set
// the routing to local; a routing warning with the delegation unknown cited dns.not-authoritative, which the dns check
// does not give then; mx.missing promised an A record fallback also with no A, no address at all, or no such name; the
// old zone's mx.stale printed the panel's MX with its root dot.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dnsCheck } from '../../../src/core/checks/dns.js';
import { mxCheck } from '../../../src/core/checks/mx.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'cust.example';
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}: ${f.message}`).join('\n');
const rules = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}`);
const OWN: ZoneMap = {
  'server1.newhost.example': { A: [SERVER_IP] },
  'ns1.newhost.example': { A: ['203.0.113.11'] },
  'ns2.newhost.example': { A: ['203.0.113.12'] },
};
const OUR_NS = ['ns1.newhost.example', 'ns2.newhost.example'];
const NS_ZONE: ZoneRecord[] = OUR_NS.map((value, i) => ({ name: D, ttl: 3600, type: 'NS', value: `${value}.`, ref: `ns${i}` }));
const SET_LOCAL = /Set the panel's mail routing to local\./;

describe('routing remote, this server an MX below another host (a backup MX)', () => {
  const google = { 'aspmx.l.google.com': { A: ['142.250.1.27'] } };
  const mx = (...xs: [number, string][]) => xs.map(([priority, exchange]) => ({ priority, exchange }));

  test('this server after Google: info, says backup MX or remove it, never "set the routing to local"', async () => {
    const map: ZoneMap = { ...OWN, ...google, [D]: { NS: OUR_NS, MX: mx([1, 'aspmx.l.google.com'], [20, 'server1.newhost.example']) } };
    const fs = await mxCheck(checkContext(D, map, { routing: 'remote' }, NS_ZONE));
    const w = fs.filter((f) => f.rule === 'mx.routing-mismatch');
    assert.equal(w.length, 1, show(fs));
    assert.equal(w[0].severity, 'info', show(fs));
    assert.doesNotMatch(w[0].message, SET_LOCAL);
    assert.match(w[0].message, /MX 20 server1\.newhost\.example points at this server, after MX 1 aspmx\.l\.google\.com/);
    assert.match(w[0].message, /lower-priority MX/);
    assert.match(w[0].message, /backup MX \(on cPanel, the Backup Mail Exchanger routing, "secondary"/);
    assert.match(w[0].message, /otherwise remove that MX/);
    // The note leaves the question to the customer: mx.ok would say the MX and the routing agree.
    assert.ok(!fs.some((f) => f.rule === 'mx.ok'), show(fs));
  });

  test('this server first, Google after: still the warning to set the routing to local (unchanged)', async () => {
    const map: ZoneMap = { ...OWN, ...google, [D]: { NS: OUR_NS, MX: mx([10, 'server1.newhost.example'], [20, 'aspmx.l.google.com']) } };
    const fs = await mxCheck(checkContext(D, map, { routing: 'remote' }, NS_ZONE));
    const w = fs.filter((f) => f.rule === 'mx.routing-mismatch');
    assert.equal(w.length, 1, show(fs));
    assert.equal(w[0].severity, 'warn');
    assert.match(w[0].message, SET_LOCAL);
  });

  test('the same preference as another host: not a backup (senders pick either), the warning stays', async () => {
    const map: ZoneMap = { ...OWN, ...google, [D]: { NS: OUR_NS, MX: mx([10, 'aspmx.l.google.com'], [10, 'server1.newhost.example']) } };
    const fs = await mxCheck(checkContext(D, map, { routing: 'remote' }, NS_ZONE));
    const w = fs.filter((f) => f.rule === 'mx.routing-mismatch');
    assert.deepEqual(rules(w), ['warn mx.routing-mismatch'], show(fs));
    assert.match(w[0].message, SET_LOCAL);
  });

  test('this server after a host whose address lookup timed out: no routing verdict (whose host it is is not known)', async () => {
    const map: ZoneMap = { ...OWN, [D]: { NS: OUR_NS, MX: mx([1, 'mx.unknown.example'], [20, 'server1.newhost.example']) }, 'mx.unknown.example': { A: 'TIMEOUT', AAAA: 'TIMEOUT' } };
    const fs = await mxCheck(checkContext(D, map, { routing: 'remote' }, NS_ZONE));
    assert.ok(!fs.some((f) => f.rule === 'mx.routing-mismatch'), show(fs));
    assert.ok(fs.some((f) => f.rule === 'mx.dns-error' && f.severity === 'unknown'), show(fs));
  });

  test('routing local with the same MX set: no backup note (this server delivers)', async () => {
    const map: ZoneMap = { ...OWN, ...google, [D]: { NS: OUR_NS, MX: mx([1, 'aspmx.l.google.com'], [20, 'server1.newhost.example']) } };
    const fs = await mxCheck(checkContext(D, map, { routing: 'local' }, NS_ZONE));
    assert.ok(!fs.some((f) => f.rule === 'mx.routing-mismatch' && /lower-priority MX/.test(f.message)), show(fs));
  });
});

/** The dns.* rule ids a message cites ("see dns.x"). */
const cited = (message: string) => [...message.matchAll(/see (dns\.[a-z-]+)/g)].map((m) => m[1]);

/** Runs the mx and dns checks on one context; asserts every dns.* rule an mx finding cites is one the dns check gave. */
async function citesOnlyGiven(map: ZoneMap, settings: Partial<MailSettings>, zone: ZoneRecord[]) {
  const ctx = checkContext(D, map, settings, zone);
  const mx = await mxCheck(ctx);
  const dns = await dnsCheck(ctx);
  const given = new Set(dns.map((f) => f.rule));
  for (const f of mx) for (const r of cited(f.message)) assert.ok(given.has(r), `${f.rule} cites ${r}, the dns check gave ${[...given].join(', ')}\n${show(mx)}`);
  return { mx, dns };
}

describe('routing local, MX elsewhere, the delegation not known', () => {
  const other = { 'mx.other.example': { A: ['198.51.100.7'] }, '7.100.51.198.in-addr.arpa': { PTR: ['mx.other.example'] } };

  test('NS lookup timed out: "may come from another DNS", cites dns.dns-error, not dns.not-authoritative', async () => {
    const map: ZoneMap = { ...OWN, ...other, [D]: { NS: 'TIMEOUT', MX: [{ priority: 10, exchange: 'mx.other.example' }] } };
    const { mx, dns } = await citesOnlyGiven(map, {}, NS_ZONE);
    assert.deepEqual(rules(dns), ['unknown dns.dns-error']);
    const w = mx.find((f) => f.rule === 'mx.routing-mismatch');
    assert.ok(w && w.severity === 'warn', show(mx));
    assert.match(w.message, /is not known \(DNS error: timeout\): the live MX may come from another DNS than the panel's zone \(no MX; see dns\.dns-error\)/);
    assert.doesNotMatch(w.message, /comes from that DNS|dns\.not-authoritative/);
    assert.match(w.message, /only if mx\.other\.example is where the mail is meant to go, set the routing to remote/);
  });

  test('the panel cannot tell whose nameservers these are: cites dns.authority-unknown', async () => {
    const map: ZoneMap = { ...OWN, ...other, [D]: { NS: OUR_NS, MX: [{ priority: 10, exchange: 'mx.other.example' }] } };
    const { mx, dns } = await citesOnlyGiven(map, { nameservers: [], nameserversUnknown: 'the panel could not tell (test)' }, NS_ZONE);
    assert.deepEqual(rules(dns), ['unknown dns.authority-unknown']);
    const w = mx.find((f) => f.rule === 'mx.routing-mismatch');
    assert.ok(w, show(mx));
    assert.match(w.message, /may come from another DNS than the panel's zone \(no MX; see dns\.authority-unknown\)/);
  });

  test('an MX host of the domain without an address, NS timed out: where to change it cites dns.dns-error', async () => {
    const map: ZoneMap = { ...OWN, [D]: { NS: 'TIMEOUT', MX: [{ priority: 10, exchange: `mail.${D}` }] }, [`mail.${D}`]: { TXT: [['x']] } };
    const { mx } = await citesOnlyGiven(map, {}, NS_ZONE);
    const u = mx.find((f) => f.rule === 'mx.unresolvable');
    assert.ok(u, show(mx));
    assert.match(u.message, /see dns\.dns-error\)/);
  });

  test('live nameservers another DNS host\'s: still "comes from that DNS" and dns.not-authoritative (unchanged)', async () => {
    const map: ZoneMap = { ...OWN, ...other, [D]: { NS: ['ns1.dnshost.example'], MX: [{ priority: 10, exchange: 'mx.other.example' }] } };
    const { mx, dns } = await citesOnlyGiven(map, {}, NS_ZONE);
    assert.ok(dns.some((f) => f.rule === 'dns.not-authoritative'), show(dns));
    const w = mx.find((f) => f.rule === 'mx.routing-mismatch');
    assert.ok(w, show(mx));
    assert.match(w.message, /the live MX comes from that DNS, not from the panel's zone \(no MX\)\. If the mail is meant for this server, fix the nameservers \(see dns\.not-authoritative\)/);
  });
});

describe('mx.missing says what the domain\'s address records are (RFC 5321 §5.1 implicit MX: A or AAAA)', () => {
  const missing = async (at: ZoneMap[string] | undefined) => {
    const map: ZoneMap = { ...OWN, ...(at ? { [D]: at } : {}) };
    const fs = await mxCheck(checkContext(D, map));
    const m = fs.filter((f) => f.rule === 'mx.missing');
    assert.equal(m.length, 1, show(fs));
    assert.equal(m[0].severity, 'warn', 'the severity of mx.missing is unchanged');
    return m[0].message;
  };

  test('no A, no AAAA: mail cannot be delivered, no fallback claimed', async () => {
    const msg = await missing({ NS: OUR_NS });
    assert.match(msg, /^cust\.example has no MX records and no address \(no A\/AAAA\): mail to cust\.example cannot be delivered/);
    assert.doesNotMatch(msg, /fall back to its/);
  });

  test('AAAA only: the fallback is its AAAA address, not an A record', async () => {
    const msg = await missing({ NS: OUR_NS, AAAA: ['2001:db8::1'] });
    assert.match(msg, /senders fall back to its address records \(AAAA 2001:db8::1; RFC 5321 §5\.1\)/);
    assert.doesNotMatch(msg, /A record\b|cannot be delivered/);
  });

  test('A and AAAA: both named', async () => {
    const msg = await missing({ NS: OUR_NS, A: ['192.0.2.80'], AAAA: ['2001:db8::1'] });
    assert.match(msg, /\(A 192\.0\.2\.80, AAAA 2001:db8::1; RFC 5321 §5\.1\)/);
  });

  test('no such name (NXDOMAIN): says the domain does not exist', async () => {
    const msg = await missing(undefined);
    assert.match(msg, /^cust\.example does not exist in DNS \(NXDOMAIN\)/);
    assert.doesNotMatch(msg, /fall back/);
  });

  test('the A lookup timed out, no AAAA: no claim about the addresses, says it is not known', async () => {
    const msg = await missing({ NS: OUR_NS, A: 'TIMEOUT' });
    assert.match(msg, /whether it has any is not known \(DNS timeout for cust\.example A\)/);
    assert.doesNotMatch(msg, /cannot be delivered|no address/);
  });
});

describe("mx.stale from the old host's zone names the panel's MX without the root dot", () => {
  test('"MX 0 server1.newhost.example", not "server1.newhost.example."', async () => {
    const zone: ZoneRecord[] = [...NS_ZONE, { name: D, ttl: 3600, type: 'MX', value: '0 server1.newhost.example.', ref: 'mx' }];
    const map: ZoneMap = { ...OWN, [D]: { NS: ['ns1.hostgator.com', 'ns2.hostgator.com'], MX: [{ priority: 10, exchange: `mail.${D}` }] }, [`mail.${D}`]: { A: ['192.0.2.50'] } };
    const fs = await mxCheck(checkContext(D, map, {}, zone));
    const s = fs.find((f) => f.rule === 'mx.stale');
    assert.ok(s && s.severity === 'fail', show(fs));
    assert.match(s.message, /the panel's zone names MX 0 server1\.newhost\.example; the panel's mail routing is right as it is\./);
  });
});
