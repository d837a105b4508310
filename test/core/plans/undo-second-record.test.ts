// Undo after the customer added a record of the fix's kind at the fix's name (QA D2, every panel): the DMARC fix
// applied, then a second `v=DMARC1; p=reject` published at _dmarc by hand, then undo — it put the old DMARC record back
// beside the customer's and answered "undone" (verified yes): two DMARC records, so receivers applied no DMARC policy
// at all (RFC 7489 §6.6.3). The same for two SPF records at the apex (permerror, RFC 7208 §4.5), two _mailchannels
// records, two keys at a DKIM selector. Undo now refuses — nothing written, the history unchanged — saying what the
// name holds and what to do; records of another kind added since (a verification token) still stay and do not stop it.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { Change, Zone, ZoneRecord } from '../../../src/core/model.js';
import { applyPlan, undoChange, undoLeavesTwo, type ApplyOutcome } from '../../../src/core/plans/apply.js';
import { makePlan } from '../../../src/core/plans/index.js';
import { addTxtAsCustomer, baseRecords, DOMAIN, makeRig, type Kind, type Rig } from '../../helpers/emulators/rig.js';
import { playPerTest, type Play } from '../../helpers/fixplay.js';

const start = playPerTest();

/** The customer adds a line to the zone by hand (the files panel's zone file), and the DNS server picks it up. */
function addByHand(p: Play, domain: string, line: string): void {
  p.writeZone(domain, p.zoneText(domain) + line + '\n');
  p.refresh();
}
function dropByHand(p: Play, domain: string, line: string): void {
  const text = p.zoneText(domain);
  assert.ok(text.includes(line + '\n'), `the zone holds ${line}`);
  p.writeZone(domain, text.replace(line + '\n', ''));
  p.refresh();
}
function txtAt(p: Play, domain: string, rel: string): string[] {
  return p.zoneText(domain)
    .split('\n')
    .filter((l) => l.startsWith(`${rel}\t`) || l.startsWith(`${rel}.${domain}.\t`))
    .map((l) => l.slice(l.indexOf('"')));
}

async function applied(p: Play, domain: string, check: 'spf' | 'dkim' | 'lockdown' | 'dmarc'): Promise<number> {
  const plan = await p.plan(domain, check);
  const out = await applyPlan({ domain, check, planHash: plan.planHash }, p.deps());
  assert.equal(out.status, 'applied', JSON.stringify(out));
  return (out as { changeId: number }).changeId;
}

/** Undo refused with nothing written: the zone byte for byte as before, no new change, the fix still applied. */
async function refusedUntouched(p: Play, domain: string, id: number): Promise<string> {
  const zoneBefore = p.zoneText(domain);
  const changesBefore = p.store.changesForDomain(domain, 100).length;
  const u = await undoChange(id, p.deps());
  assert.equal(u.status, 'refused', JSON.stringify(u));
  assert.equal(p.zoneText(domain), zoneBefore, 'nothing written');
  assert.equal(p.store.changesForDomain(domain, 100).length, changesBefore, 'no undo recorded');
  const ch = p.store.getChange(id)!;
  assert.equal(ch.status, 'applied');
  assert.equal(ch.undoneBy, null);
  return (u as { reason: string }).reason;
}

describe('files panel: undo after a record of the same kind was added at the fix\'s name', () => {
  test('DMARC (QA D2): refused, saying what _dmarc holds and what to do; after the added record is deleted the undo goes through', async () => {
    const p = await start();
    const d = 'florist.example';
    const id = await applied(p, d, 'dmarc');
    const fixs = txtAt(p, d, '_dmarc');
    assert.equal(fixs.length, 1);
    const added = '_dmarc\tIN\tTXT\t"v=DMARC1; p=reject"';
    addByHand(p, d, added);
    const reason = await refusedUntouched(p, d, id);
    assert.match(reason, /^Not undone: _dmarc\.florist\.example holds 2 DMARC records now: "v=DMARC1; p=[a-z]+[^"]*", written by change \d+, and "v=DMARC1; p=reject", added since\./);
    assert.match(reason, /would put back "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@dreamhost\.com" beside the one added since, leaving 2 DMARC records there/);
    assert.match(reason, /receivers apply no DMARC policy at all \(RFC 7489 §6\.6\.3\)/);
    assert.match(reason, /Nothing was written\./);
    assert.match(reason, new RegExp(`delete the DMARC record added since in the panel's DNS editor, then undo change ${id} again`));
    assert.match(reason, new RegExp(`to keep the one added since, leave change ${id} as it is and delete the record it wrote`));
    // Done as the refusal says: the undo puts the old record back, alone.
    dropByHand(p, d, added);
    const u = await undoChange(id, p.deps());
    assert.equal(u.status, 'applied', JSON.stringify(u));
    assert.equal((u as { verified: string }).verified, 'yes');
    assert.deepEqual(txtAt(p, d, '_dmarc'), ['"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@dreamhost.com"']);
  });

  test('SPF: a second SPF record at the apex refuses the undo (permerror); a verification token there does not', async () => {
    const p = await start();
    const d = 'florist.example';
    const id = await applied(p, d, 'spf');
    addByHand(p, d, '@\tIN\tTXT\t"google-site-verification=abc"');
    addByHand(p, d, '@\tIN\tTXT\t"v=spf1 include:_spf.google.com ~all"');
    const reason = await refusedUntouched(p, d, id);
    assert.match(reason, /^Not undone: florist\.example holds 2 SPF records now: .*, written by change \d+, and "v=spf1 include:_spf\.google\.com ~all", added since\./);
    assert.match(reason, /leaving 2 SPF records there: two SPF records are a permanent error \(RFC 7208 §4\.5\)/);
    assert.doesNotMatch(reason, /google-site-verification/);
  });

  test('an added record of another kind only (a token at the apex): the undo goes through and keeps it', async () => {
    const p = await start();
    const d = 'florist.example';
    const id = await applied(p, d, 'spf');
    addByHand(p, d, '@\tIN\tTXT\t"google-site-verification=abc"');
    const u = await undoChange(id, p.deps());
    assert.equal(u.status, 'applied', JSON.stringify(u));
    assert.match(p.zoneText(d), /google-site-verification=abc/);
    assert.match(p.zoneText(d), /include:netblocks\.dreamhost\.com/);
  });

  test('lockdown: a second _mailchannels record refuses the undo', async () => {
    const p = await start();
    const d = 'florist.example';
    const id = await applied(p, d, 'lockdown');
    addByHand(p, d, '_mailchannels\tIN\tTXT\t"v=mc1 auth=newhostmc auth=other"');
    const reason = await refusedUntouched(p, d, id);
    assert.match(reason, /^Not undone: _mailchannels\.florist\.example holds 2 _mailchannels \(Domain Lockdown\) records now: /);
    assert.match(reason, /would put back "v=mc1 auth=dreamhost" beside the one added since/);
  });

  test('DKIM: another key added at the selector refuses the undo (the key shown cut short)', async () => {
    const p = await start();
    const d = 'plumber.example';
    const id = await applied(p, d, 'dkim');
    addByHand(p, d, 'default._domainkey\tIN\tTXT\t"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC2QYjS1lNpNE"');
    const reason = await refusedUntouched(p, d, id);
    assert.match(reason, /^Not undone: default\._domainkey\.plumber\.example holds 2 DKIM records now: /);
    assert.match(reason, /leaving 2 DKIM records there: verifiers read only one record at a selector/);
    assert.match(reason, /"v=DKIM1; k=rsa; p=MII[A-Za-z0-9+/]+\.\.\."/);
  });

  test('a fix that added the record (no DMARC before): the undo takes it out and leaves the one added since', async () => {
    const p = await start();
    const d = 'dentist.example';
    const id = await applied(p, d, 'dmarc');
    addByHand(p, d, '_dmarc\tIN\tTXT\t"v=DMARC1; p=reject"');
    const u = await undoChange(id, p.deps());
    assert.equal(u.status, 'applied', JSON.stringify(u));
    assert.deepEqual(txtAt(p, d, '_dmarc'), ['"v=DMARC1; p=reject"']);
  });
});

describe('undoLeavesTwo', () => {
  const D = 'a.example';
  const rec = (name: string, value: string): ZoneRecord => ({ name, ttl: 300, type: 'TXT', value, txt: [value] });
  const zone = (...records: ZoneRecord[]): Zone => ({ domain: D, serial: null, records, version: 'v' });
  const inverse = (z: Zone, changes: Change[]): Change[] =>
    changes.map((c) => {
      if (c.action === 'remove') return { action: 'add', name: c.name, type: c.type, ttl: c.ttl, before: null, after: c.before };
      const cur = z.records.find((r) => r.value === c.after!.value)!;
      return c.action === 'add' ? { action: 'remove', name: c.name, type: c.type, ttl: c.ttl, before: cur, after: null } : { action: 'edit', name: c.name, type: c.type, ttl: c.ttl, before: cur, after: c.before };
    });

  test('a fix that removed a record, and one of its kind added since: refused, the removed one named', () => {
    const old = rec(`_mailchannels.${D}`, 'v=mc1 auth=oldhost');
    const changes: Change[] = [{ action: 'remove', name: old.name, type: 'TXT', ttl: 300, before: old, after: null }];
    const z = zone(rec(`_mailchannels.${D}`, 'v=mc1 auth=newhostmc'));
    const why = undoLeavesTwo(D, 7, z, changes, inverse(z, changes));
    assert.ok(why);
    assert.match(why, /^Not undone: _mailchannels\.a\.example holds a _mailchannels \(Domain Lockdown\) record added since change 7: "v=mc1 auth=newhostmc"\./);
    assert.match(why, /To go back to the record change 7 removed, delete the _mailchannels \(Domain Lockdown\) record added since/);
    assert.match(why, /to keep the one added since, leave change 7 as it is\.$/);
  });

  test('a merge undone (two DMARC records before the fix, none added since): not refused — that is the state before the fix', () => {
    const a = rec(`_dmarc.${D}`, 'v=DMARC1; p=none');
    const b = rec(`_dmarc.${D}`, 'v=DMARC1; p=reject');
    const merged = rec(`_dmarc.${D}`, 'v=DMARC1; p=none; rua=mailto:x@a.example');
    const changes: Change[] = [
      { action: 'edit', name: a.name, type: 'TXT', ttl: 300, before: a, after: merged },
      { action: 'remove', name: b.name, type: 'TXT', ttl: 300, before: b, after: null },
    ];
    const z = zone(rec(`_dmarc.${D}`, merged.value), rec(`_dmarc.${D}`, 'google-site-verification=x'));
    assert.equal(undoLeavesTwo(D, 3, z, changes, inverse(z, changes)), null);
    // A third one added since: refused, the two put back named.
    const z3 = zone(rec(`_dmarc.${D}`, merged.value), rec(`_dmarc.${D}`, 'v=DMARC1; p=quarantine'));
    const why = undoLeavesTwo(D, 3, z3, changes, inverse(z3, changes));
    assert.ok(why);
    assert.match(why, /would put back "v=DMARC1; p=none" and "v=DMARC1; p=reject" beside the one added since, leaving 3 DMARC records there/);
    assert.match(why, /To go back to the records change 3 replaced or removed/);
  });

  test('one of two identical SPF records removed: the copy left is no record "added since"; a new one beside it is', () => {
    const spf = rec(D, 'v=spf1 +a +mx ~all');
    const changes: Change[] = [{ action: 'remove', name: D, type: 'TXT', ttl: 300, before: spf, after: null, copiesBefore: 2 }];
    const z = zone(rec(D, spf.value));
    assert.equal(undoLeavesTwo(D, 4, z, changes, inverse(z, changes)), null);
    const z2 = zone(rec(D, spf.value), rec(D, 'v=spf1 include:_spf.google.com ~all'));
    const why = undoLeavesTwo(D, 4, z2, changes, inverse(z2, changes));
    assert.ok(why);
    assert.match(why, /^Not undone: a\.example holds 2 SPF records now: "v=spf1 \+a \+mx ~all", there before it, and "v=spf1 include:_spf\.google\.com ~all", added since\. .*leaving 3 SPF records there/);
    assert.match(why, /to keep the one added since, leave change 4 as it is and delete the other SPF records at a\.example in the panel, so that one is left\.$/);
  });

  test('a record not read as DMARC at _dmarc (a broken one, a token) added since is not a second DMARC record', () => {
    const old = rec(`_dmarc.${D}`, 'v=DMARC1; p=quarantine; rua=mailto:d@old.example');
    const mine = rec(`_dmarc.${D}`, 'v=DMARC1; p=quarantine');
    const changes: Change[] = [{ action: 'edit', name: old.name, type: 'TXT', ttl: 300, before: old, after: mine }];
    const z = zone(rec(mine.name, mine.value), rec(mine.name, 'v=dmarc1; p=reject'), rec(mine.name, 'site-token=1'));
    assert.equal(undoLeavesTwo(D, 1, z, changes, inverse(z, changes)), null);
  });
});

// Through real adapters (the cPanel and Plesk emulators): the QA repro, refused with nothing written.
let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});
for (const kind of ['cpanel', 'plesk'] as Kind[]) {
  test(`${kind}: undo of the DMARC fix after the customer published a second DMARC record is refused, nothing written`, async () => {
    const r = (rig = await makeRig(kind, [...baseRecords(), { name: `_dmarc.${DOMAIN}`, ttl: 7200, type: 'TXT', data: ['v=DMARC1; p=quarantine; rua=mailto:dmarc@websitewelcome.com'] }]));
    const plan = await makePlan({ domain: DOMAIN, check: 'dmarc' }, r.deps());
    const out = await applyPlan({ domain: DOMAIN, check: 'dmarc', planHash: plan.planHash }, r.deps());
    assert.equal(out.status, 'applied', JSON.stringify(out));
    const id = (out as { changeId: number }).changeId;
    addTxtAsCustomer(r, '_dmarc', 'v=DMARC1; p=reject');
    await r.panel.refresh();
    const before = await r.records();
    const writes = r.panel.writes;
    const u: ApplyOutcome = await undoChange(id, r.deps());
    assert.equal(u.status, 'refused', JSON.stringify(u));
    assert.match((u as { reason: string }).reason, /^Not undone: _dmarc\.alice\.example holds 2 DMARC records now: .*"v=DMARC1; p=reject", added since\./);
    assert.equal(r.panel.writes, writes, 'no write reached the panel');
    assert.deepEqual(await r.records(), before);
    assert.equal(r.store.getChange(id)!.status, 'applied');
    assert.equal(r.store.getChange(id)!.undoneBy, null);
    assert.equal(r.store.changesForDomain(DOMAIN, 100).length, 1);
  });
}
