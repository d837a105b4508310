// dns.not-authoritative for a subdomain without NS records of its own (review): the nameservers that decide are its
// parent zone's, found by walking up to the registrable domain. The messages named the subdomain as "not delegated"
// when it is the registrable domain that is (expired), and advised changing "the nameservers at the registrar" — for
// the parent's zone, which moves all of the parent's DNS, not the subdomain's. Rule ids and severities unchanged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsCheck } from '../../../src/core/checks/dns.js';
import type { Finding } from '../../../src/core/model.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from './context.js';

const SUB = 'shop.cust.example';
const OURS = 'ns1.newhost.example, ns2.newhost.example';

async function notAuthoritative(domain: string, map: ZoneMap, settings: Parameters<typeof checkContext>[2] = {}): Promise<Finding> {
  const out = await dnsCheck(checkContext(domain, map, settings));
  const f = out.find((x) => x.rule === 'dns.not-authoritative' || x.rule === 'dns.authority-unknown');
  assert.ok(f, out.map((x) => `${x.rule}: ${x.message}`).join('\n'));
  return f;
}

/** Two parentheses in a row ("shop.cust.example (in the zone cust.example) (ns1…)") read badly. */
const backToBack = /\)\s*\(/;

test('every name NXDOMAIN (the registrable domain expired): the registrable domain is named as the one not delegated', async () => {
  const f = await notAuthoritative(SUB, {});
  assert.equal(f.severity, 'fail');
  assert.match(f.message, /^cust\.example \(the registrable domain of shop\.cust\.example\) has no NS records in live DNS: it is not delegated \(or has expired\)/);
  assert.doesNotMatch(f.message, /^shop\.cust\.example has no NS records/);
  // Deeper, and under a multi-level public suffix: the registrable domain by the public suffix list, not the last two labels.
  assert.match((await notAuthoritative('a.b.cust.example', {})).message, /^cust\.example \(the registrable domain of a\.b\.cust\.example\)/);
  assert.match((await notAuthoritative('shop.cust.co.uk', {})).message, /^cust\.co\.uk \(the registrable domain of shop\.cust\.co\.uk\)/);
  // The registrable domain itself: as before.
  const own = await notAuthoritative('cust.example', {});
  assert.equal(own.severity, 'fail');
  assert.match(own.message, /^cust\.example has no NS records in live DNS: the domain is not delegated \(or has expired\)/);
});

test("a subdomain served from its parent's zone at another DNS host: delegate the subdomain there, not the parent's registrar", async () => {
  const map: ZoneMap = { 'cust.example': { NS: ['ns1.cloudflare.com', 'ns2.cloudflare.com'] }, [SUB]: { MX: [{ priority: 0, exchange: 'server1.newhost.example' }] } };
  const f = await notAuthoritative(SUB, map);
  assert.equal(f.severity, 'warn');
  assert.doesNotMatch(f.message, backToBack, f.message);
  assert.match(f.message, /^shop\.cust\.example has no nameservers of its own: it is served from the zone cust\.example, whose live nameservers \(ns1\.cloudflare\.com, ns2\.cloudflare\.com\) are not this server's/);
  assert.doesNotMatch(f.message, /or change the nameservers at the registrar/, f.message);
  assert.match(f.message, new RegExp(`publish at the DNS host that answers for cust\\.example, or delegate shop\\.cust\\.example to this server's nameservers \\(${OURS.replace(/\./g, '\\.')}\\) with NS records for it in the cust\\.example zone there`));
  assert.match(f.message, /changing the nameservers of cust\.example at its registrar would move the DNS of all of cust\.example, not only of shop\.cust\.example/);
  // The panel serves no zone of its own here (disabled, a secondary): no nameservers of this server to name.
  const none = await notAuthoritative(SUB, map, { nameservers: [] });
  assert.match(none.message, /or delegate shop\.cust\.example with NS records for it in the cust\.example zone there/);
  assert.doesNotMatch(none.message, /this server's nameservers \(/);
});

test("the registrable domain's own delegation elsewhere: the registrar advice, as before", async () => {
  const f = await notAuthoritative('cust.example', { 'cust.example': { NS: ['ns1.cloudflare.com'] } });
  assert.match(f.message, /^The live nameservers of cust\.example \(ns1\.cloudflare\.com\) are not this server's/);
  assert.match(f.message, /or change the nameservers at the registrar to this server's \(ns1\.newhost\.example, ns2\.newhost\.example\)\.$/);
});

test("a subdomain served from its parent's zone at the previous host: fix first by delegating it; the parent's registrar only if all of the parent moved", async () => {
  const f = await notAuthoritative(SUB, { 'cust.example': { NS: ['ns1.hostgator.com', 'ns2.hostgator.com'] } });
  assert.equal(f.severity, 'warn');
  assert.equal(f.classification?.class, 'stale');
  assert.doesNotMatch(f.message, backToBack, f.message);
  assert.match(f.message, /Fix this first: receivers get the old host's copy of the zone cust\.example — the MX of shop\.cust\.example/);
  assert.doesNotMatch(f.message, /come from that copy: at the registrar of cust\.example, set its nameservers/, f.message);
  assert.match(f.message, /come from that copy: delegate shop\.cust\.example to this server's nameservers \(ns1\.newhost\.example, ns2\.newhost\.example\) with NS records for shop\.cust\.example in the cust\.example zone/);
  assert.match(f.message, /if all of cust\.example has moved to this server, set the nameservers of cust\.example at its registrar to this server's \(that moves the DNS of all of cust\.example, not only of shop\.cust\.example\)/);
  // The domain's own zone at the previous host: its registrar, as before.
  const own = await notAuthoritative('cust.example', { 'cust.example': { NS: ['ns1.hostgator.com', 'ns2.hostgator.com'] } });
  assert.match(own.message, /come from that copy: at the registrar of cust\.example, set its nameservers to this server's \(ns1\.newhost\.example, ns2\.newhost\.example\)/);
});

test("a subdomain whose parent zone's nameservers are split with the previous host: the parent's registrar is named as such", async () => {
  const f = await notAuthoritative(SUB, { 'cust.example': { NS: ['ns1.newhost.example', 'ns1.hostgator.com'] } });
  assert.equal(f.severity, 'warn');
  assert.match(f.message, /^Only some of the live nameservers of the zone cust\.example, which serves shop\.cust\.example, are this server's \(ns1\.newhost\.example\)/);
  assert.match(f.message, /At the registrar of cust\.example \(shop\.cust\.example has no nameservers of its own; this changes the delegation of all of cust\.example, which this server already serves in part\), remove ns1\.hostgator\.com/);
  assert.doesNotMatch(f.message, /At the registrar, remove/);
  const own = await notAuthoritative('cust.example', { 'cust.example': { NS: ['ns1.newhost.example', 'ns1.hostgator.com'] } });
  assert.match(own.message, /At the registrar, remove ns1\.hostgator\.com and keep this server's nameservers\./);
});

test("a subdomain whose parent's nameservers the panel cannot judge: one parenthesis naming the zone and its nameservers", async () => {
  const f = await notAuthoritative(SUB, { 'cust.example': { NS: ['ns1.cloudflare.com'] } }, { nameservers: [], nameserversUnknown: 'the panel could not say' });
  assert.equal(f.rule, 'dns.authority-unknown');
  assert.equal(f.severity, 'unknown');
  assert.doesNotMatch(f.message, backToBack, f.message);
  assert.equal(f.message, "Could not tell whether this server's DNS is the live one for shop.cust.example (served from the zone cust.example, whose live nameservers are ns1.cloudflare.com): the panel could not say.");
});
