// The DMARC fix where the domain's DNS is served elsewhere (the registrar still delegates to the previous host): the
// plan is made from the live records (publish-elsewhere), and with no DMARC record live it proposed a new default
// (`v=DMARC1; p=none; rua=mailto:postmaster@<domain>`) even when the panel's zone had the customer's own record with
// another, valid report address (demo: lawyer.example's panel record reports to dmarc@lawyer.example). The record to
// publish is now the panel's — fixed as the DMARC fix fixes it in the panel (a previous host's report address dropped,
// an unreadable record repaired without switching its policy on) — and the notes say where each value came from. A
// record live DNS has is still the one fixed (receivers apply it today: never weakened), taking the panel's report
// addresses only where none of its own is left. Core (MapResolver + the panel's zone as records) and the demo panel.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { makePlanWith } from '../../../src/core/plans/index.js';
import type { Plan } from '../../../src/core/plans/plan.js';
import { playPerTest, servedData } from '../../helpers/fixplay.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const D = 'd.example';
const NAME = `_dmarc.${D}`;
/** The registrar still delegates to the previous host (HostGator): the panel's zone is not the live one. */
const ELSEWHERE = { NS: ['ns1.hostgator.com', 'ns2.hostgator.com'] };
const OURS = { NS: ['ns1.newhost.example', 'ns2.newhost.example'] };

const txt = (name: string, value: string, ttl = 1800, ref = `r:${value.length}`): ZoneRecord => ({ name, ttl, type: 'TXT', value, txt: [value], ref });

/** The panel's zone: NS at this server's nameservers, and `dmarc` at _dmarc (TXT values, or a CNAME). */
function panelZone(dmarc: string[] | { cname: string }): ZoneRecord[] {
  const base: ZoneRecord[] = [
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example', ref: 'r:ns1' },
    { name: D, ttl: 3600, type: 'NS', value: 'ns2.newhost.example', ref: 'r:ns2' },
  ];
  if (Array.isArray(dmarc)) return [...base, ...dmarc.map((v, i) => txt(NAME, v, 1800, `r:dmarc${i}`))];
  return [...base, { name: NAME, ttl: 1800, type: 'CNAME', value: dmarc.cname, ref: 'r:alias' }];
}

/** Live DNS: the previous host serves the domain, with `live` at _dmarc (nothing there when empty). */
function world(live: string[], ns = ELSEWHERE, extra: ZoneMap = {}): ZoneMap {
  return { [D]: ns, ...(live.length ? { [NAME]: { TXT: live.map((v) => [v]) } } : {}), ...extra };
}

async function plan(live: string[], panel: string[] | { cname: string }, ns = ELSEWHERE, extra: ZoneMap = {}): Promise<Plan> {
  return makePlanWith(checkContext(D, world(live, ns, extra), {}, panelZone(panel)), 'dmarc');
}

const text = (p: Plan) => [`mode ${p.mode}`, ...p.changes.map((c) => `${c.action} ${c.type} ${c.before?.value ?? '-'} -> ${c.after?.value ?? '-'}`), ...p.notes, p.blocked ?? ''].join('\n');
const published = (p: Plan) => p.changes.filter((c) => c.after).map((c) => c.after!.value);

describe('DMARC fix, DNS served elsewhere, no DMARC record live: the panel’s record is the one to publish', () => {
  test('a valid panel record is published as it is (not p=none with postmaster@), and the notes say it is the panel’s', async () => {
    const p = await plan([], ['v=DMARC1; p=none; rua=mailto:dmarc@d.example']);
    assert.equal(p.mode, 'publish-elsewhere', text(p));
    assert.equal(p.blocked, undefined, text(p));
    assert.deepEqual(
      p.changes.map((c) => [c.action, c.name, c.type, c.before, c.after?.value]),
      [['add', NAME, 'TXT', null, 'v=DMARC1; p=none; rua=mailto:dmarc@d.example']],
      text(p),
    );
    // The panel record's TTL, not the placeholder of the live pseudo-zone.
    assert.equal(p.changes[0].ttl, 1800);
    assert.ok(!p.notes.some((n) => /postmaster@/.test(n)), text(p));
    assert.ok(p.notes.some((n) => /^Publishes the panel's DMARC record \("v=DMARC1; p=none; rua=mailto:dmarc@d\.example"\) instead of a new one: the live DNS has no DMARC record for d\.example/.test(n)), text(p));
  });

  test("the panel's policy and tags are kept; a previous host's report address in it is dropped, said as the panel record's", async () => {
    const p = await plan([], ['v=DMARC1; p=quarantine; pct=50; rua=mailto:dmarc@d.example,mailto:reports@hostgator.com']);
    assert.deepEqual(published(p), ['v=DMARC1; p=quarantine; pct=50; rua=mailto:dmarc@d.example'], text(p));
    assert.ok(p.notes.some((n) => /with the changes below, as the DMARC fix makes them in the panel/.test(n)), text(p));
    assert.ok(p.notes.some((n) => /^The panel's record: drops rua reports@hostgator\.com: /.test(n)), text(p));
    // Nothing applies today, so keeping quarantine weakens nothing — but it is said, with what to publish first.
    assert.ok(p.notes.some((n) => /^Keeps p=quarantine, the panel's policy: receivers apply no DMARC policy to d\.example today .*Publish the records of the SPF and DKIM fixes at the same host first\./.test(n)), text(p));
  });

  test("the panel's only report address is a previous host's: its policy is kept, reports go to postmaster@ (the fix's default)", async () => {
    const p = await plan([], ['v=DMARC1; p=none; rua=mailto:reports@hostgator.com']);
    assert.deepEqual(published(p), ['v=DMARC1; p=none; rua=mailto:postmaster@d.example'], text(p));
    assert.ok(p.notes.some((n) => /^The panel's record: drops rua reports@hostgator\.com/.test(n)), text(p));
    assert.ok(p.notes.some((n) => /^The panel's record: sends aggregate reports to postmaster@d\.example\.$/.test(n)), text(p));
  });

  test("a panel record receivers could not read is repaired as the fix repairs it in the panel: its p=reject is not switched on", async () => {
    const p = await plan([], ['v=DMARC1 p=reject rua=mailto:dmarc@d.example']);
    assert.deepEqual(published(p), ['v=DMARC1; p=none; rua=mailto:dmarc@d.example'], text(p));
    assert.ok(p.notes.some((n) => /^The panel's record says p=reject, but receivers cannot read it, so they would apply no DMARC policy from it: the fix publishes p=none/.test(n)), text(p));
    assert.ok(!p.notes.some((n) => /^Keeps p=/.test(n)), text(p));
  });

  test('a panel record without p= but with a report address: p=none added, worded for a record receivers do not read yet', async () => {
    const p = await plan([], ['v=DMARC1; rua=mailto:dmarc@d.example']);
    assert.deepEqual(published(p), ['v=DMARC1; p=none; rua=mailto:dmarc@d.example'], text(p));
    assert.ok(p.notes.some((n) => /^The panel's record: adds the missing p=none \(the record had no policy; receivers would apply it as p=none/.test(n)), text(p));
    assert.ok(!p.notes.some((n) => /already apply|today \(it has/.test(n)), text(p));
  });

  test("the panel's zone has no DMARC record either (a verification token only): the default, saying so", async () => {
    const p = await plan([], ['google-site-verification=abc']);
    assert.deepEqual(published(p), ['v=DMARC1; p=none; rua=mailto:postmaster@d.example'], text(p));
    assert.ok(p.notes.some((n) => /postmaster@d\.example \(the panel's zone has no DMARC record for d\.example either\)\.$/.test(n)), text(p));
  });

  test("the panel's _dmarc is an alias (a DMARC service): blocked, no TXT made up in its place", async () => {
    const p = await plan([], { cname: 'd-example.dmarc.service.example' });
    assert.deepEqual(p.changes, [], text(p));
    assert.match(p.blocked ?? '', /the panel's zone has _dmarc\.d\.example as an alias \(CNAME to d-example\.dmarc\.service\.example\).*publish the same alias at the live DNS host/);
  });

  test('an SPF record published at _dmarc live is still removed, and the panel’s record added', async () => {
    const p = await plan(['v=spf1 -all'], ['v=DMARC1; p=none; rua=mailto:dmarc@d.example']);
    assert.deepEqual(
      p.changes.map((c) => `${c.action} ${c.before?.value ?? '-'} -> ${c.after?.value ?? '-'}`),
      ['remove v=spf1 -all -> -', 'add - -> v=DMARC1; p=none; rua=mailto:dmarc@d.example'],
      text(p),
    );
  });
});

describe('DMARC fix, DNS served elsewhere, a DMARC record live: that record is fixed, the panel’s used only where it adds', () => {
  test("the live record's only address is a previous host's: its policy stays (never weakened), reports go to the panel record's address", async () => {
    const p = await plan(['v=DMARC1; p=reject; rua=mailto:reports@hostgator.com'], ['v=DMARC1; p=none; rua=mailto:dmarc@d.example']);
    assert.deepEqual(
      p.changes.map((c) => `${c.action} ${c.before?.value ?? '-'} -> ${c.after?.value ?? '-'}`),
      ['edit v=DMARC1; p=reject; rua=mailto:reports@hostgator.com -> v=DMARC1; p=reject; rua=mailto:dmarc@d.example'],
      text(p),
    );
    assert.ok(p.notes.some((n) => /^Takes the aggregate report address of the panel's DMARC record \(mailto:dmarc@d\.example\): none of the live record's is left\.$/.test(n)), text(p));
    assert.ok(!p.notes.some((n) => /postmaster@/.test(n)), text(p));
    // The panel's record (p=none) differs: named, and why the live one is what is fixed.
    assert.ok(p.notes.some((n) => /^The panel's zone has another DMARC record for d\.example \("v=DMARC1; p=none; rua=mailto:dmarc@d\.example"\): this plan fixes the record the live DNS serves/.test(n)), text(p));
  });

  test('the live record is the panel’s: nothing to change, nothing more said', async () => {
    const r = 'v=DMARC1; p=quarantine; rua=mailto:dmarc@d.example';
    const p = await plan([r], [r]);
    assert.deepEqual(p.changes, [], text(p));
    assert.equal(p.notes.length, 1, text(p)); // only "The live DNS of d.example is served by …"
  });

  test('a working live record that differs from the panel’s: left as it is, the difference said', async () => {
    const p = await plan(['v=DMARC1; p=none; rua=mailto:ops@d.example'], ['v=DMARC1; p=none; rua=mailto:dmarc@d.example']);
    assert.deepEqual(p.changes, [], text(p));
    assert.ok(p.notes.some((n) => /^The panel's zone has another DMARC record for d\.example/.test(n)), text(p));
  });
});

describe('DMARC fix: where policy is inherited, or the panel’s zone is the live one, nothing changes', () => {
  test('a subdomain that inherits its parent’s reject: nothing published, the panel’s own record named', async () => {
    const sub = `shop.${D}`;
    const zone: ZoneRecord[] = [
      { name: sub, ttl: 3600, type: 'NS', value: 'ns1.newhost.example', ref: 'r:ns' },
      txt(`_dmarc.${sub}`, 'v=DMARC1; p=none; rua=mailto:dmarc@d.example'),
    ];
    const ctx = checkContext(sub, { [sub]: ELSEWHERE, [NAME]: { TXT: [['v=DMARC1; p=reject']] } }, {}, zone);
    const p = await makePlanWith(ctx, 'dmarc');
    assert.equal(p.mode, 'publish-elsewhere');
    assert.deepEqual(p.changes, [], text(p));
    assert.ok(p.notes.some((n) => /^Publishes no DMARC record: shop\.d\.example has none of its own and inherits p=reject from d\.example/.test(n)), text(p));
    assert.ok(p.notes.some((n) => /^The panel's zone has a DMARC record for shop\.d\.example \("v=DMARC1; p=none; rua=mailto:dmarc@d\.example"\); it is not published at the live DNS host for that reason\.$/.test(n)), text(p));
  });

  test("apply mode (the panel's zone is the live one): planDmarc over the zone, as before — no panel wording", async () => {
    const zone = panelZone(['v=DMARC1; p=none; rua=mailto:reports@hostgator.com']);
    const ctx = checkContext(D, world(['v=DMARC1; p=none; rua=mailto:reports@hostgator.com'], OURS), {}, zone);
    const p = await makePlanWith(ctx, 'dmarc');
    assert.equal(p.mode, 'apply');
    assert.deepEqual(published(p), ['v=DMARC1; p=none; rua=mailto:postmaster@d.example'], text(p));
    assert.ok(!p.notes.some((n) => /panel's/.test(n)), text(p));
    // planDmarc without the panel's zone is the planner the apply path and the drift check use.
    const direct = await planDmarc(ctx, zone);
    assert.deepEqual(published(direct as Plan), published(p));
  });
});

describe('DMARC fix through the demo panel: lawyer.example (nameservers still at HostGator)', () => {
  const start = playPerTest();
  test("the record to publish at HostGator is the panel's, reporting to dmarc@lawyer.example", async () => {
    const p = await start();
    const plan = await p.plan('lawyer.example', 'dmarc');
    assert.equal(plan.mode, 'publish-elsewhere', text(plan));
    assert.deepEqual(
      plan.changes.map((c) => [c.action, c.name, c.after?.value]),
      [['add', '_dmarc.lawyer.example', 'v=DMARC1; p=none; rua=mailto:dmarc@lawyer.example']],
      text(plan),
    );
    assert.ok(plan.notes.some((n) => /^Publishes the panel's DMARC record/.test(n)), text(plan));
    // HostGator's copy later gains the old host's own DMARC record: that one is fixed, the panel's address taken.
    const map = servedData(p.dir);
    map['_dmarc.lawyer.example'] = { TXT: [['v=DMARC1; p=quarantine; rua=mailto:dmarc@hostgator.com']] };
    p.dns.setData(map);
    const again = await p.plan('lawyer.example', 'dmarc');
    assert.deepEqual(
      again.changes.map((c) => [c.action, c.after?.value]),
      [['edit', 'v=DMARC1; p=quarantine; rua=mailto:dmarc@lawyer.example']],
      text(again),
    );
  });
});
