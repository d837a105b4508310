// SPF fix defects found by QA: a plan must produce a record that actually authorises this server, and never offer a
// write whose record receivers would still reject (permerror) or still fail for this server.
//  - redirect= next to an `all` term (receivers ignore the redirect, RFC 7208 §6.1);
//  - void lookups left in the fixed record (more than 2 → permerror, §4.6.4);
//  - two exp= after merging two records (§6: at most once, else permerror);
//  - include:<the domain itself> (a loop → permerror);
//  - the final gate: the planned record is walked and evaluated with check_host before it is offered.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { parseSpf } from '../../../src/core/spf/parse.js';
import { walkSpfRecord } from '../../../src/core/spf/tree.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'cust.example';
const HELO = 'server1.newhost.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;

function world(extra: ZoneMap = {}): ZoneMap {
  return {
    'server1.newhost.example': { A: [SERVER_IP] },
    '10.113.0.203.in-addr.arpa': { PTR: ['server1.newhost.example'] },
    '_spf.google.com': { TXT: [['v=spf1 ip4:172.217.0.0/19 ~all']] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
    'websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] },
    ...extra,
  };
}

function txtRecord(value: string): ZoneRecord {
  return { name: D, ttl: 3600, type: 'TXT', value, txt: [value], ref: `r:${value}` };
}

/** Plan the SPF fix for `spf` (one or more records at the apex) in `extra`'s world. */
async function plan(spf: string[], extra: ZoneMap = {}, settings: Partial<MailSettings> = {}) {
  const map = world(extra);
  map[D] = { ...(map[D] ?? {}), TXT: spf.map((s) => [s]) };
  const zone = [{ name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' } as ZoneRecord, ...spf.map(txtRecord)];
  const ctx = checkContext(D, map, settings, zone);
  const p = await planSpf(ctx, zone, {});
  const after = p.changes.find((c) => c.after)?.after;
  return { p, after: after ? (after.txt ?? [after.value]).join('') : null };
}

/** check_host(this server) with `record` published at the apex of `extra`'s world. */
async function evaluate(record: string, extra: ZoneMap = {}) {
  const map = world(extra);
  map[D] = { ...(map[D] ?? {}), TXT: [[record]] };
  return checkHost(SERVER_IP, D, `postmaster@${D}`, HELO, new MapResolver(map));
}

const show = (p: { notes: string[]; blocked?: string }, after: string | null) => `after: ${after}\nblocked: ${p.blocked}\n${p.notes.join('\n')}`;

describe('SPF fix: redirect= beside an all term', () => {
  const extra: ZoneMap = { '_spf.cust.example': { TXT: [[`v=spf1 ip4:${SERVER_IP} include:relay.mailchannels.net -all`]] } };
  const RECORD = 'v=spf1 include:_spf.google.com redirect=_spf.cust.example ~all';

  test('no relay: the ignored redirect is dropped, ~all kept, this server added — and the result passes', async () => {
    const { p, after } = await plan([RECORD], extra);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.ok(after, `a change is planned\n${show(p, after)}`);
    assert.equal(after, `v=spf1 include:_spf.google.com ip4:${SERVER_IP} ~all`);
    assert.ok(p.notes.some((n) => /Drops redirect=_spf\.cust\.example: receivers ignore redirect=/.test(n)), show(p, after));
    assert.equal((await evaluate(after, extra)).result, 'pass');
  });

  test('relay: the ignored redirect is dropped and the relay include added', async () => {
    const { p, after } = await plan([RECORD], extra, RELAY);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, 'v=spf1 include:_spf.google.com include:relay.mailchannels.net ~all');
    const map = world(extra);
    const tree = await walkSpfRecord(new MapResolver(map), D, after!);
    assert.ok(tree.terms.some((t) => t.target === 'relay.mailchannels.net' && !t.ignored));
  });

  test('a redirect without an all term still decides (kept as before)', async () => {
    const { p, after } = await plan(['v=spf1 include:_spf.google.com redirect=_spf.cust.example'], extra);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, null, 'nothing to change: the redirect target authorises this server');
  });
});

describe('SPF fix: void lookups', () => {
  test('a:/mx:/include: terms of names that do not exist are dropped; the fixed record passes', async () => {
    const { p, after } = await plan(['v=spf1 a:gone1.cust.example mx:gone2.cust.example a:gone3.cust.example/24 include:gone4.cust.example ~all']);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} ~all`);
    for (const t of ['a:gone1.cust.example', 'mx:gone2.cust.example', 'a:gone3.cust.example/24', 'include:gone4.cust.example']) {
      assert.ok(p.notes.some((n) => n.startsWith(`Drops ${t}:`) && /does not exist/.test(n)), `${t}\n${show(p, after)}`);
    }
    const ev = await evaluate(after!);
    assert.equal(ev.result, 'pass');
  });

  test('void lookups the fix cannot drop (names that exist without addresses) → blocked, not a useless write', async () => {
    const extra: ZoneMap = {
      'noaddr1.cust.example': { TXT: [['hello']] },
      'noaddr2.cust.example': { TXT: [['hello']] },
      'noaddr3.cust.example': { TXT: [['hello']] },
    };
    const { p, after } = await plan(['v=spf1 a:noaddr1.cust.example a:noaddr2.cust.example a:noaddr3.cust.example ~all'], extra);
    assert.equal((await evaluate(after ?? 'v=spf1', extra)).result, 'permerror', 'the planned record would be permerror');
    assert.match(p.blocked ?? '', /void lookups/, show(p, after));
    assert.match(p.blocked ?? '', /a:noaddr1\.cust\.example/);
  });
});

describe('SPF fix: merging records with exp=', () => {
  test('two records each with exp= → one exp= (the first record’s), and the merged record passes', async () => {
    const extra: ZoneMap = { [D]: { A: [SERVER_IP] } };
    const { p, after } = await plan(['v=spf1 a exp=why.cust.example -all', 'v=spf1 include:_spf.google.com exp=explain.cust.example ~all'], extra);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.ok(after);
    assert.deepEqual(parseSpf(after).errors, []);
    assert.equal(after.match(/exp=/g)?.length, 1, after);
    assert.match(after, /exp=why\.cust\.example/);
    assert.ok(p.notes.some((n) => n.startsWith('Drops exp=explain.cust.example:')), show(p, after));
    assert.equal((await evaluate(after, extra)).result, 'pass');
  });

  test('one record with two exp= → the second goes', async () => {
    const { p, after } = await plan([`v=spf1 ip4:${SERVER_IP} exp=a.cust.example exp=b.cust.example -all`]);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} exp=a.cust.example -all`);
  });
});

describe('SPF fix: the domain including itself', () => {
  const extra: ZoneMap = { [D]: { A: [SERVER_IP] } };

  test('include:<the domain> (a loop) is dropped, even though the domain’s A record is this server', async () => {
    const { p, after } = await plan(['v=spf1 include:cust.example include:websitewelcome.com ~all'], extra);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} ~all`);
    assert.ok(p.notes.some((n) => n.startsWith('Drops include:cust.example:') && /loop/.test(n)), show(p, after));
    assert.equal((await evaluate(after!, extra)).result, 'pass');
  });

  test('redirect=<the domain> is dropped too', async () => {
    const { p, after } = await plan([`v=spf1 a redirect=Cust.Example.`], extra);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.ok(after && !/redirect=/i.test(after), show(p, after));
    assert.equal((await evaluate(after!, extra)).result, 'pass');
  });
});

describe('SPF fix: the planned record is checked before it is offered', () => {
  test('a kept include whose record is broken → blocked with the reason (the fix would still be permerror)', async () => {
    const extra: ZoneMap = { 'esp.example': { TXT: [['v=spf1 ip4:192.0.2.0/24 foo:bar -all']] } };
    const { p, after } = await plan(['v=spf1 include:esp.example ~all'], extra);
    assert.equal((await evaluate(after ?? 'v=spf1', extra)).result, 'permerror');
    assert.match(p.blocked ?? '', /permerror/, show(p, after));
    assert.match(p.blocked ?? '', /include:esp\.example/);
  });

  test('a record the gate accepts is not blocked (the usual case)', async () => {
    const { p, after } = await plan(['v=spf1 include:_spf.google.com include:websitewelcome.com ~all']);
    assert.equal(p.blocked, undefined, show(p, after));
    assert.equal(after, `v=spf1 include:_spf.google.com ip4:${SERVER_IP} ~all`);
  });

  test('DNS trouble anywhere in the planned record blocks as a DNS failure', async () => {
    const extra: ZoneMap = { 'esp.example': { TXT: [['v=spf1 include:slow.example ~all']] }, 'slow.example': { TXT: 'TIMEOUT' } };
    const { p, after } = await plan([`v=spf1 ip4:${SERVER_IP} include:esp.example ?all`], extra);
    assert.match(p.blocked ?? '', /DNS did not answer while planning/, show(p, after));
  });
});

describe('SPF fix: merging records, a term after all in one of them', () => {
  test('the same term where it counts in another record is kept (the dropped copy does not mark it as seen)', async () => {
    const { p, after } = await plan([`v=spf1 ip4:${SERVER_IP} -all include:_spf.google.com`, 'v=spf1 include:_spf.google.com ~all']);
    assert.ok(after, show(p, after));
    assert.match(after!, /include:_spf\.google\.com/, show(p, after));
    assert.ok(p.notes.some((n) => n.startsWith('Drops include:_spf.google.com: it stood after all')), show(p, after));
  });
});
