// Review: the SPF fix said of a "-"/"~"/"?" ip4/ip6 term covering only this server (`-ip4:<this server's IP>`) that it
// "fails its mail" — also where an earlier term of the record already passes this server. check_host stops at the first
// matching term (RFC 7208 §4.6.2), so such a term decides nothing for anyone there; the note now says which it is
// (as check_host evaluates the record as written), and matches what the plan does with the term: dropped when the
// record is rewritten anyway, left as written (no note) when nothing else changes, dropped when it fails this server's
// mail. The same for the relay's include written with "~" (or another include reaching the relay with "~") after
// terms that pass the relay's addresses: its qualifier decided nothing for them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { checkHost } from '../../../src/core/spf/evaluate.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'shop.example';
const HELO = 'server1.newhost.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const WORLD: ZoneMap = {
  [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }] },
  [`mail.${D}`]: { A: [SERVER_IP] },
  'server1.newhost.example': { A: [SERVER_IP] },
  '10.113.0.203.in-addr.arpa': { PTR: ['server1.newhost.example'] },
  // A record of the new host's own, passing its network (this server among it).
  '_spf.newhost.example': { TXT: [['v=spf1 ip4:203.0.113.0/24 ~all']] },
  'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ~all']] },
  // A record that reaches the relay through its own include.
  'wrap.example': { TXT: [['v=spf1 include:relay.mailchannels.net ~all']] },
};

async function run(spf: string, settings: Partial<MailSettings> = {}, extra: ZoneMap = {}) {
  const map: ZoneMap = { ...WORLD, ...extra, [D]: { ...WORLD[D], TXT: [[spf]] } };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' }];
  const ctx = checkContext(D, map, settings, zone);
  const plan = await planSpf(ctx, zone, {});
  const after = plan.changes.find((c) => c.after)?.after;
  /** check_host for `ip` over the record as published today. */
  const today = (ip: string) => checkHost(ip, D, `postmaster@${D}`, HELO, new MapResolver(map));
  return { plan, after: after ? (after.txt ?? [after.value]).join('') : null, today, text: `${plan.blocked ?? ''}\n${plan.notes.join('\n')}` };
}

const DENY = `-ip4:${SERVER_IP}`;
/** The plan's note on the term covering only this server. */
const noteOn = (notes: readonly string[], term: string) => notes.find((n) => n.startsWith(`Drops ${term}: it covers only this server's IP`));

/** Terms that pass this server (the domain's A and MX are this server; the include's record covers its network). */
const PASSING = ['+a', '+mx', 'ip4:203.0.113.0/24', 'include:_spf.newhost.example'];

describe('a "-" term covering only this server, after a term that passes it', () => {
  for (const earlier of PASSING) {
    test(`${earlier} ${DENY}: the note says the earlier term decides, and the rewritten record leaves the term out`, async () => {
      // ?all: rewritten for a reason of its own (spf.weak-all), so the tidy drop rides along.
      const r = await run(`v=spf1 ${earlier} ${DENY} ?all`);
      // What receivers do today: the earlier term decides, with pass.
      const e = await r.today(SERVER_IP);
      assert.equal(e.result, 'pass');
      assert.equal(e.decidedBy, earlier);
      assert.equal(r.plan.blocked, undefined, r.text);
      assert.equal(r.after, `v=spf1 ${earlier} ~all`, r.text);
      const n = noteOn(r.plan.notes, DENY);
      assert.ok(n, r.text);
      assert.ok(n.includes(`which ${earlier} before it already passes (the first matching term decides), so it decides nothing for anyone`), n);
      assert.doesNotMatch(n, /fails (its|this server's) mail/);
    });

    test(`${earlier} ${DENY} -all: nothing else to change — the record is left as written, with no note on the term`, async () => {
      const r = await run(`v=spf1 ${earlier} ${DENY} -all`);
      assert.equal(r.plan.blocked, undefined, r.text);
      assert.deepEqual(r.plan.changes, [], r.text);
      assert.equal(noteOn(r.plan.notes, DENY), undefined, r.text);
    });
  }
});

describe('a "-" term covering only this server, before the term that passes it', () => {
  for (const later of PASSING) {
    test(`${DENY} ${later}: the note says it fails this server's mail (no term before it matches), and it goes`, async () => {
      const r = await run(`v=spf1 ${DENY} ${later} ?all`);
      const e = await r.today(SERVER_IP);
      assert.equal(e.result, 'fail');
      assert.equal(e.decidedBy, DENY);
      assert.equal(r.plan.blocked, undefined, r.text);
      assert.equal(r.after, `v=spf1 ${later} ~all`, r.text);
      const n = noteOn(r.plan.notes, DENY);
      assert.equal(n, `Drops ${DENY}: it covers only this server's IP ${SERVER_IP} and fails this server's mail: no term before it matches this server (the first matching term decides).`, r.text);
      // Dropped even with -all: it fails this server's mail, so the record is not right as written.
      const strict = await run(`v=spf1 ${DENY} ${later} -all`);
      assert.equal(strict.after, `v=spf1 ${later} -all`, strict.text);
      assert.ok(noteOn(strict.plan.notes, DENY)?.includes("fails this server's mail"), strict.text);
    });
  }

  test('~ip4 first: it softfails this server\'s mail', async () => {
    const r = await run(`v=spf1 ~ip4:${SERVER_IP} +a ?all`);
    assert.equal((await r.today(SERVER_IP)).result, 'softfail');
    assert.match(noteOn(r.plan.notes, `~ip4:${SERVER_IP}`) ?? '', /and softfails this server's mail: no term before it matches this server/, r.text);
  });
});

describe('other terms before it', () => {
  test('~a before it matches this server first (softfail): the -ip4 term decides nothing, and this server\'s IP goes before ~a', async () => {
    const r = await run(`v=spf1 ~a ${DENY} ?all`);
    const e = await r.today(SERVER_IP);
    assert.equal(e.result, 'softfail');
    assert.equal(e.decidedBy, '~a');
    assert.equal(r.after, `v=spf1 ip4:${SERVER_IP} ~a ~all`, r.text);
    const n = noteOn(r.plan.notes, DENY);
    assert.ok(n?.includes('which ~a before it already softfails (the first matching term decides), so it decides nothing for anyone'), r.text);
    assert.ok(r.plan.notes.some((x) => x.startsWith(`Adds ip4:${SERVER_IP} before ~a`)), r.text);
  });

  test('two server addresses, one passed before it: the note says which address it fails and which an earlier term passes', async () => {
    const other = '203.0.113.11';
    const r = await run(`v=spf1 ip4:${SERVER_IP} -ip4:${SERVER_IP}/31 ?all`, { ips: [SERVER_IP, other] });
    assert.equal((await r.today(SERVER_IP)).decidedBy, `ip4:${SERVER_IP}`);
    assert.equal((await r.today(other)).decidedBy, `-ip4:${SERVER_IP}/31`);
    assert.equal(r.after, `v=spf1 ip4:${SERVER_IP} ip4:${other} ~all`, r.text);
    assert.equal(
      noteOn(r.plan.notes, `-ip4:${SERVER_IP}/31`),
      `Drops -ip4:${SERVER_IP}/31: it covers only this server's IPs ${SERVER_IP} and ${other} and fails the mail from ${other}: no term before it matches it (the first matching term decides); ip4:${SERVER_IP} before it already passes ${SERVER_IP}.`,
      r.text,
    );
  });

  test('a ptr term before it whose lookup gets no answer: not called failing this server\'s mail, and the plan waits for DNS', async () => {
    const r = await run(`v=spf1 ptr ${DENY} ?all`, {}, { '10.113.0.203.in-addr.arpa': { PTR: 'TIMEOUT' } });
    assert.match(r.plan.blocked ?? '', /^DNS did not answer while planning/, r.text);
    const n = noteOn(r.plan.notes, DENY) ?? '';
    assert.match(n, /fails this server's mail unless a term before it matches first, which DNS did not say/, r.text);
    assert.doesNotMatch(n, /no term before it matches/);
  });

  test('a permanent error before it (an include of a name that does not exist): it decides nothing today', async () => {
    const r = await run(`v=spf1 include:nothere.example ${DENY} ?all`);
    const e = await r.today(SERVER_IP);
    assert.equal(e.result, 'permerror');
    assert.equal(e.decidedBy, undefined);
    assert.equal(r.after, `v=spf1 ip4:${SERVER_IP} ~all`, r.text);
    const n = noteOn(r.plan.notes, DENY) ?? '';
    assert.match(n, /decides nothing for this server's mail today: receivers stop at a permanent error before it \(include:nothere\.example/, r.text);
    assert.doesNotMatch(n, /fails/);
  });
});

describe('the relay\'s include with "~", after terms that pass the relay\'s addresses', () => {
  const RELAY_IP = '23.83.208.1';

  test('ip4:<the relay\'s range> ~include:<relay>: its "~" decided nothing for them; the include is made plain all the same', async () => {
    const r = await run('v=spf1 ip4:23.83.208.0/20 ~include:relay.mailchannels.net -all', RELAY);
    const e = await r.today(RELAY_IP);
    assert.equal(e.result, 'pass');
    assert.equal(e.decidedBy, 'ip4:23.83.208.0/20');
    assert.equal(r.after, 'v=spf1 ip4:23.83.208.0/20 include:relay.mailchannels.net -all', r.text);
    const n = r.plan.notes.find((x) => x.startsWith('Replaces ~include:relay.mailchannels.net with include:relay.mailchannels.net:')) ?? '';
    assert.match(n, /terms before it pass the relay's addresses \(23\.83\.208\.0\/20\) today, so its "~" qualifier decides nothing for them/, r.text);
    assert.doesNotMatch(n, /gave the relay's mail softfail/);
  });

  test('only part of the relay\'s range passed before it: the note says it decides for the rest only', async () => {
    const r = await run('v=spf1 ip4:23.83.208.0/21 ~include:relay.mailchannels.net -all', RELAY);
    assert.equal((await r.today(RELAY_IP)).decidedBy, 'ip4:23.83.208.0/21');
    assert.equal((await r.today('23.83.216.1')).result, 'softfail');
    const n = r.plan.notes.find((x) => x.startsWith('Replaces ~include:relay.mailchannels.net with include:relay.mailchannels.net:')) ?? '';
    assert.match(n, /gave softfail instead of pass to the relay's mail that no term before it matches first/, r.text);
  });

  test('nothing before it: the note says it gave the relay\'s mail softfail', async () => {
    const r = await run('v=spf1 ~include:relay.mailchannels.net -all', RELAY);
    assert.equal((await r.today(RELAY_IP)).result, 'softfail');
    assert.ok(r.plan.notes.some((x) => x.startsWith(`Replaces ~include:relay.mailchannels.net with include:relay.mailchannels.net: its "~" qualifier gave the relay's mail softfail instead of pass;`)), r.text);
  });

  test('another include reaching the relay with "~" after ip4:<the relay\'s range>: the added include\'s note does not say it decides first', async () => {
    const r = await run('v=spf1 ip4:23.83.208.0/20 ~include:wrap.example -all', RELAY);
    assert.equal((await r.today(RELAY_IP)).decidedBy, 'ip4:23.83.208.0/20');
    assert.equal(r.after, 'v=spf1 ip4:23.83.208.0/20 include:relay.mailchannels.net ~include:wrap.example -all', r.text);
    const n = r.plan.notes.find((x) => x.startsWith('Adds include:relay.mailchannels.net before ~include:wrap.example')) ?? '';
    assert.match(n, /terms before it pass the relay's addresses \(23\.83\.208\.0\/20\) today, so it decides nothing for them/, r.text);
    assert.doesNotMatch(n, /would decide first/);
  });
});

describe('the SPF as published is a permanent error today (review, 2026-11-29)', () => {
  // A syntax error anywhere in the record, or a second SPF record: receivers answer permerror for every sender, so the
  // "-ip4:<this server>" term decides nothing — it was said to fail this server's mail, or to pass through "+a before it".
  for (const [what, records] of [
    ['a syntax error after it', [`v=spf1 -ip4:${SERVER_IP} +a foo:bar ?all`]],
    ['two SPF records', [`v=spf1 +a -ip4:${SERVER_IP} ~all`, 'v=spf1 mx ~all']],
  ] as const) {
    test(what, async () => {
      const map: ZoneMap = { ...WORLD, [D]: { ...WORLD[D], TXT: records.map((r) => [r]) } };
      const zone: ZoneRecord[] = records.map((r, i) => ({ name: D, ttl: 3600, type: 'TXT', value: r, txt: [r], ref: `s${i}` }));
      const today = await checkHost(SERVER_IP, D, `postmaster@${D}`, 'server1.newhost.example', new MapResolver(map));
      assert.equal(today.result, 'permerror');
      const plan = await planSpf(checkContext(D, map, {}, zone), zone, {});
      const note = plan.notes.find((n) => n.startsWith(`Drops -ip4:${SERVER_IP}`));
      assert.ok(note, plan.notes.join('\n'));
      assert.match(note, /decides nothing for this server's mail today: receivers answer permerror for the SPF as published/);
      assert.doesNotMatch(note, /fails this server's mail|already passes/);
    });
  }
});
