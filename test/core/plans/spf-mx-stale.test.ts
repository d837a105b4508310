// The SPF fix and `a`/`mx` terms that name the domain's MX while mx.stale is unresolved (the dentist.example story: the
// panel's zone still points mail.<domain> at the previous host's server, or the live MX names a hosting provider).
// What the fix does follows what the MX points at: a term naming the panel's own old mail.<domain> address (a trace) is
// the previous host's and dropped; one naming an MX at a hosting provider is kept (the mailboxes may still be there,
// classify.ts liveMxAt). Its notes said only "Drops mx: mx of dentist.example: …" (or nothing, when kept) — not that
// the MX is stale, nor what the term will name once mx.stale is settled, nor what to do first if the mail stayed at the
// old host. They now say all three, and these tests check that each claim holds (routing remote keeps the term; the
// MX pointed here makes it this server's).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { auditDomain } from '../../../src/core/audit.js';
import type { Finding, ZoneRecord } from '../../../src/core/model.js';
import type { Plan } from '../../../src/core/plans/plan.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { playPerTest, TODAY, type Play } from '../../helpers/fixplay.js';
import { zoneToMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const start = playPerTest();
const D = 'dentist.example';
const SPF = /^v=spf1 /;

const text = (p: { changes: Plan['changes']; notes: string[]; blocked?: string }) =>
  [...p.changes.map((c) => `${c.action} ${c.before?.value ?? '-'} -> ${c.after?.value ?? '-'}`), ...p.notes, p.blocked ?? ''].join('\n');
const after = (p: { changes: Plan['changes'] }) => p.changes.find((c) => c.after && SPF.test(c.after.value))?.after?.value ?? null;
const noteOf = (p: { notes: string[] }, term: string) => p.notes.find((n) => n.startsWith(`Drops ${term}:`) || n.startsWith(`Keeps ${term}:`));

/** The mx check's findings for dentist.example as the audit gives them (fresh resolver). */
async function mxFindings(p: Play): Promise<Finding[]> {
  const a = await auditDomain(D, { panel: p.panel, resolver: p.resolver(), checks: ['mx'], now: () => TODAY });
  return a.findings.filter((f) => f.check === 'mx');
}

/** dentist.example's zone with `edit` applied to its text, served at once. */
function rewrite(p: Play, edit: (zone: string) => string): void {
  p.writeZone(D, edit(p.zoneText(D)));
  p.refresh();
}

describe('SPF fix, dentist.example: `mx` names mail.dentist.example, still at the old Bluehost IP (mx.stale)', () => {
  test('the plan drops mx and says why, what mx names once the MX is fixed, and what to do if the mail stayed there', async () => {
    const p = await start();
    const mx = (await mxFindings(p)).find((f) => f.rule === 'mx.stale');
    assert.ok(mx, 'the audit reports mx.stale');
    const plan = await p.plan(D, 'spf');
    assert.equal(after(plan), 'v=spf1 a include:relay.mailchannels.net ~all', text(plan));
    const n = noteOf(plan, 'mx') ?? '';
    assert.match(n, /^Drops mx: it names dentist\.example's MX mail\.dentist\.example \(198\.51\.100\.20\), which is still the previous host's mail server \(mx\.stale: /, text(plan));
    assert.match(n, /so today it lets that server send as dentist\.example\./);
    assert.match(n, /The fixed record authorises this server's mail without it\./);
    assert.match(n, /Once you point mail\.dentist\.example at this server \(as mx\.stale says\), mx would name this server, which the record already authorises: it need not come back\./);
    assert.match(n, /If dentist\.example's mailboxes are still at the previous host, do not apply this yet: set the panel's mail routing for dentist\.example to remote .* then preview again — the fix then keeps mx/);
  });

  test("what the note promises: with the routing set to remote (the mail stayed at Bluehost), the fix keeps mx (and Bluehost's include)", async () => {
    const p = await start();
    writeFileSync(join(p.dir, 'domains', `${D}.json`), JSON.stringify({ mailRouting: 'remote' }));
    const plan = await p.plan(D, 'spf');
    assert.equal(after(plan), 'v=spf1 a mx include:bluehost.com include:relay.mailchannels.net ~all', text(plan));
    assert.equal(noteOf(plan, 'mx'), undefined, text(plan));
  });

  test('what the note promises: with mail.dentist.example pointed at this server, mx names this server and is kept, nothing said of mx.stale', async () => {
    const p = await start();
    rewrite(p, (z) => z.replace(/^mail\tIN\tA\t198\.51\.100\.20$/m, 'mail\tIN\tA\t203.0.113.10'));
    assert.ok(!(await mxFindings(p)).some((f) => f.rule === 'mx.stale'));
    const plan = await p.plan(D, 'spf');
    assert.match(after(plan) ?? '', /^v=spf1 a mx /, text(plan));
    assert.ok(!plan.notes.some((n) => /mx\.stale/.test(n)), text(plan));
  });

  test('a:mail.dentist.example and mx:dentist.example name the same stale MX: each dropped with the same explanation; ~mx (authorises nobody) keeps the plain note', async () => {
    const p = await start();
    rewrite(p, (z) => z.replace('"v=spf1 a mx ', '"v=spf1 a mx a:mail.dentist.example mx:dentist.example ~mx:dentist.example '));
    const plan = await p.plan(D, 'spf');
    assert.equal(after(plan), 'v=spf1 a include:relay.mailchannels.net ~all', text(plan));
    assert.match(noteOf(plan, 'a:mail.dentist.example') ?? '', /^Drops a:mail\.dentist\.example: it names mail\.dentist\.example \(198\.51\.100\.20\), dentist\.example's MX, which is still the previous host's mail server/, text(plan));
    assert.match(noteOf(plan, 'a:mail.dentist.example') ?? '', /a:mail\.dentist\.example would name this server/);
    assert.match(noteOf(plan, 'mx:dentist.example') ?? '', /^Drops mx:dentist\.example: it names dentist\.example's MX mail\.dentist\.example/, text(plan));
    assert.match(noteOf(plan, '~mx:dentist.example') ?? '', /^Drops ~mx:dentist\.example: mx of dentist\.example: /, text(plan));
    assert.doesNotMatch(noteOf(plan, '~mx:dentist.example') ?? '', /lets that server send/);
  });
});

describe('SPF fix, dentist.example with its MX at Bluehost by name (box123.bluehost.com, routing local): mx is kept', () => {
  test('the plan keeps mx and says what it authorises until mx.stale is settled, and how to drop it; selected, it goes', async () => {
    const p = await start();
    rewrite(p, (z) => z.replace('@\tIN\tMX\t0 mail.dentist.example.', '@\tIN\tMX\t0 box123.bluehost.com.'));
    assert.ok((await mxFindings(p)).some((f) => f.rule === 'mx.stale' && f.subject === 'box123.bluehost.com'));
    const plan = await p.plan(D, 'spf');
    assert.match(after(plan) ?? '', /^v=spf1 a mx /, text(plan));
    const n = noteOf(plan, 'mx') ?? '';
    assert.match(n, /^Keeps mx: it names dentist\.example's MX box123\.bluehost\.com \(198\.51\.100\.20\), which mx\.stale reports as a previous host's while this server delivers dentist\.example's mail/, text(plan));
    assert.match(n, /either that MX is left over or dentist\.example's mailboxes are still there/);
    assert.match(n, /once you point the MX at this server \(as mx\.stale says\), it names this server/);
    assert.match(n, /Until then it also lets that server send as dentist\.example: if the mailboxes are on this server, select mx for removal/);
    const chosen = await p.plan(D, 'spf', { removeTerms: ['mx'] });
    assert.doesNotMatch(after(chosen) ?? '', / mx /, text(chosen));
    assert.ok(chosen.notes.includes('Removes mx (you selected it).'), text(chosen));
  });
});

describe('SPF fix over an injected resolver and zone (core): the stale-MX note only for "+" a/mx terms that name the domain’s MX', () => {
  const S = 'shop.example';
  const zone = (spf: string): ZoneRecord[] => [
    { name: S, ttl: 300, type: 'NS', value: 'ns1.newhost.example', ref: 'r:ns' },
    { name: S, ttl: 300, type: 'A', value: '203.0.113.10', ref: 'r:a' },
    { name: S, ttl: 300, type: 'MX', value: `10 mail.${S}`, ref: 'r:mx' },
    { name: `mail.${S}`, ttl: 300, type: 'A', value: '198.51.100.20', ref: 'r:mail' },
    { name: `old.${S}`, ttl: 300, type: 'A', value: '198.51.100.20', ref: 'r:old' },
    { name: S, ttl: 300, type: 'TXT', value: spf, txt: [spf], ref: 'r:spf' },
  ];
  const ctxFor = (spf: string) => {
    const z = zone(spf);
    const map = zoneToMap({ domain: S, serial: 1, records: z, version: 't' });
    map[S] = { ...map[S], NS: ['ns1.newhost.example', 'ns2.newhost.example'] };
    map['server1.newhost.example'] = { A: ['203.0.113.10'] };
    return { ctx: checkContext(S, map, {}, z), z };
  };

  test('a bare mx and a:mail.<domain> get the note; a:old.<domain> (same old address, not the MX) keeps the plain one', async () => {
    const { ctx, z } = ctxFor('v=spf1 a mx a:mail.shop.example a:old.shop.example -all');
    const plan = await planSpf(ctx, z, {});
    assert.equal(after(plan), 'v=spf1 a -all', text(plan));
    assert.match(noteOf(plan, 'mx') ?? '', /^Drops mx: it names shop\.example's MX mail\.shop\.example \(198\.51\.100\.20\), which is still the previous host's mail server \(mx\.stale: /, text(plan));
    assert.match(noteOf(plan, 'mx') ?? '', /Once you point mail\.shop\.example at this server/);
    assert.match(noteOf(plan, 'a:mail.shop.example') ?? '', /^Drops a:mail\.shop\.example: it names mail\.shop\.example \(198\.51\.100\.20\), shop\.example's MX, which is still the previous host's mail server/, text(plan));
    const old = noteOf(plan, 'a:old.shop.example') ?? '';
    assert.match(old, /^Drops a:old\.shop\.example: /, text(plan));
    assert.doesNotMatch(old, /mx\.stale/);
  });

  test('routing remote: nothing is a stale MX (the MX is where the mail goes) — mx is kept, no note', async () => {
    const { z } = ctxFor('v=spf1 a mx -all');
    const map = zoneToMap({ domain: S, serial: 1, records: z, version: 't' });
    map[S] = { ...map[S], NS: ['ns1.newhost.example', 'ns2.newhost.example'] };
    const plan = await planSpf(checkContext(S, map, { routing: 'remote' }, z), z, {});
    assert.equal(after(plan), null, text(plan)); // nothing to change
    assert.ok(!plan.notes.some((n) => /mx\.stale/.test(n)), text(plan));
  });
});

// Review: `mx` naming two MX hosts, only one of them a previous host's. The note said the fixed record needs no `mx`
// once mail.<domain> points here — but `mx` also authorised the backup MX, which that would not bring back. With an MX
// host that is not stale, the plain note (no claim about what pointing the MX here restores).
test('mx over two MX hosts, only one stale: no stale-MX note claiming mx need not come back', async () => {
  const S = 'shop.example';
  const spf = 'v=spf1 a mx -all';
  const z: ZoneRecord[] = [
    { name: S, ttl: 300, type: 'NS', value: 'ns1.newhost.example', ref: 'r:ns' },
    { name: S, ttl: 300, type: 'A', value: '203.0.113.10', ref: 'r:a' },
    { name: S, ttl: 300, type: 'MX', value: `10 mail.${S}`, ref: 'r:mx' },
    { name: S, ttl: 300, type: 'MX', value: '20 mx2.backup-isp.example', ref: 'r:mx2' },
    { name: `mail.${S}`, ttl: 300, type: 'A', value: '198.51.100.20', ref: 'r:mail' },
    { name: S, ttl: 300, type: 'TXT', value: spf, txt: [spf], ref: 'r:spf' },
  ];
  const map = zoneToMap({ domain: S, serial: 1, records: z, version: 't' }) as Record<string, Record<string, unknown>>;
  map[S] = { ...map[S], NS: ['ns1.newhost.example', 'ns2.newhost.example'] };
  map['server1.newhost.example'] = { A: ['203.0.113.10'] };
  map['mx2.backup-isp.example'] = { A: ['192.0.2.77'] };
  const ctx = checkContext(S, map as never, {}, z);
  const plan = await planSpf(ctx, z, {});
  const mxNotes = plan.notes.filter((n) => /^(Drops|Keeps) mx\b/.test(n));
  assert.equal(mxNotes.length, 1, plan.notes.join('\n'));
  assert.doesNotMatch(mxNotes[0], /need not come back|point mail\.shop\.example at this server/);
});
