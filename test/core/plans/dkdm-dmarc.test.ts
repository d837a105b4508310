// DMARC fix, QA of what it writes against RFC 7489 and what receivers do (task dkdm):
// (1) a record that applies a policy and never had a rua= was given rua=mailto:postmaster@ whenever the fix rewrote it
//     for something else (a previous host's ruf) — and `fix --check dmarc` rewrote `v=DMARC1; p=none`, which the audit
//     passes (dmarc.ok), only to add it. postmaster@ now stands in only for report addresses the record had and lost,
//     and in a record receivers apply nothing from (a new record in effect);
// (2) a DMARC record the panel's zone stores as one string over 255 bytes (which a TXT record cannot carry, RFC 1035
//     §3.3.14) was left as it is when nothing else changed: it is now stored as strings of at most 255 bytes;
// (3) a record over 255 bytes was cut inside a report address; the cuts now fall after a ";", "," or space, so a reader
//     that joins the strings with a space (mail-auth.md §10.5) still reads every address.
// Plus the case matrix that was fine, kept as regression guards: policy never weakened, every other tag kept, only the
// previous host's address dropped (its !size suffix and the others' kept), external addresses kept.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import { parseDmarcRecord } from '../../../src/core/dmarc/record.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { dmarcStrings, planDmarc } from '../../../src/core/plans/dmarc.js';
import { makePlanWith } from '../../../src/core/plans/index.js';
import { checkContext } from '../checks/context.js';

const D = 'shop.example';
const NAME = `_dmarc.${D}`;
const NS = { NS: ['ns1.newhost.example', 'ns2.newhost.example'] };
/** A previous host's report address (HostGator's websitewelcome.com in providers.json). */
const STALE = 'mailto:dmarc@websitewelcome.com';

/** The panel's zone holding these DMARC records (their strings as given), served live as DNS carries them. */
function setup(...records: string[][]) {
  const zone: ZoneRecord[] = records.map((txt) => ({ name: NAME, ttl: 3600, type: 'TXT', value: txt.join(''), txt }));
  const ctx = checkContext(D, { [D]: NS, ...(records.length ? { [NAME]: { TXT: records.map((t) => dmarcStrings(t.join(''))) } } : {}) }, {}, zone);
  return { ctx, zone };
}

/** The one DMARC record the plan leaves (its strings), with the notes. */
async function leaves(...records: string[][]): Promise<{ strings: string[]; value: string; notes: string[]; changed: boolean }> {
  const { ctx, zone } = setup(...records);
  const plan = await planDmarc(ctx, zone);
  assert.equal(plan.blocked, undefined, plan.blocked);
  const removed = new Set(plan.changes.filter((c) => c.before).map((c) => c.before));
  const left = [...zone.filter((r) => !removed.has(r)), ...plan.changes.flatMap((c) => (c.after ? [c.after] : []))];
  assert.equal(left.length, 1, JSON.stringify(plan.changes));
  const strings = left[0].txt ?? [left[0].value];
  return { strings, value: strings.join(''), notes: plan.notes, changed: plan.changes.length > 0 };
}

describe('defect 1: postmaster@ only stands in for report addresses the record lost', () => {
  test('QA repro: v=DMARC1; p=none (the audit passes it) → the fix changes nothing', async () => {
    const { ctx } = setup(['v=DMARC1; p=none']);
    const rules = (await dmarcCheck(ctx)).map((f) => f.rule);
    assert.ok(rules.includes('dmarc.ok'), rules.join(' '));
    const plan = await makePlanWith(ctx, 'dmarc');
    assert.equal(plan.mode, 'apply');
    assert.deepEqual(plan.changes, []);
    assert.ok(!plan.notes.some((n) => n.includes('postmaster@')), plan.notes.join('\n'));
  });

  test('p=reject; t=y without rua: left as it is', async () => {
    const r = await leaves(['v=DMARC1; p=reject; t=y']);
    assert.equal(r.changed, false);
    assert.equal(r.value, 'v=DMARC1; p=reject; t=y');
  });

  test("QA repro: the only ruf is a previous host's and there is no rua → the ruf goes, no rua is added (as the check says)", async () => {
    const rec = `v=DMARC1; p=reject; ruf=${STALE}; fo=1`;
    const { ctx } = setup([rec]);
    const stale = (await dmarcCheck(ctx)).find((f) => f.rule === 'dmarc.stale-destination');
    assert.match(stale?.message ?? '', /with no other ruf address left, the record asks for no failure reports\.$/);
    const r = await leaves([rec]);
    assert.equal(r.value, 'v=DMARC1; p=reject; fo=1');
    assert.ok(!r.notes.some((n) => n.includes('postmaster@')), r.notes.join('\n'));
  });

  test('an invalid sp= dropped from a record without rua: p= kept, no rua added', async () => {
    const r = await leaves(['v=DMARC1; p=quarantine; sp=bogus']);
    assert.equal(r.value, 'v=DMARC1; p=quarantine');
  });

  test("still postmaster@: the record's only rua was a previous host's, or unreadable", async () => {
    assert.equal((await leaves([`v=DMARC1; p=quarantine; rua=${STALE}`])).value, `v=DMARC1; p=quarantine; rua=mailto:postmaster@${D}`);
    assert.equal((await leaves(['v=DMARC1; p=reject; rua=mailto:nobody'])).value, `v=DMARC1; p=reject; rua=mailto:postmaster@${D}`);
  });

  test('still postmaster@: a record receivers apply nothing from (no p=, no rua; unreadable) is a new record in effect', async () => {
    assert.equal((await leaves(['v=DMARC1; sp=reject'])).value, `v=DMARC1; p=none; rua=mailto:postmaster@${D}`);
    assert.equal((await leaves(['v=DMARC1 p=reject'])).value, `v=DMARC1; p=none; rua=mailto:postmaster@${D}`);
  });

  test('still postmaster@: no record at all', async () => {
    const { ctx } = setup();
    const plan = await planDmarc(ctx, []);
    assert.deepEqual(plan.changes.map((c) => c.after?.value), [`v=DMARC1; p=none; rua=mailto:postmaster@${D}`]);
  });

  test('two records, neither with rua: merged without one', async () => {
    const r = await leaves(['v=DMARC1; p=reject'], ['v=DMARC1; p=quarantine; pct=50']);
    assert.equal(r.value, 'v=DMARC1; p=quarantine; pct=50');
  });
});

/** A report list long enough to take the record over 255 bytes. */
const many = Array.from({ length: 8 }, (_, i) => `mailto:dmarc-aggregate-reports-${i}@${D}`);
const LONG = `v=DMARC1; p=reject; sp=quarantine; adkim=s; rua=${many.join(',')}`;

describe('defect 2: a record the zone stores as one string over 255 bytes', () => {
  test('QA repro: nothing else to change → rewritten as strings of at most 255 bytes, the same record', async () => {
    assert.ok(Buffer.byteLength(LONG) > 255);
    const r = await leaves([LONG]);
    assert.equal(r.changed, true);
    assert.equal(r.value, LONG);
    assert.ok(r.strings.length > 1 && r.strings.every((s) => Buffer.byteLength(s) <= 255), JSON.stringify(r.strings));
    assert.ok(r.notes.some((n) => /with a string of \d+ bytes/.test(n)), r.notes.join('\n'));
  });

  test('stored as strings of at most 255 bytes already (cut anywhere): left as it is', async () => {
    const r = await leaves([LONG.slice(0, 200), LONG.slice(200)]);
    assert.equal(r.changed, false);
  });
});

describe('defect 3: a record over 255 bytes is cut between tags or addresses, never inside one', () => {
  test('QA repro: every string ends at ";", "," or a space; joined with a space instead of nothing, the same addresses', async () => {
    const r = await leaves([`v=DMARC1; p=reject; rua=${many.join(',')},${STALE}`]);
    assert.equal(r.value, `v=DMARC1; p=reject; rua=${many.join(',')}`);
    assert.ok(r.strings.length > 1);
    for (const s of r.strings.slice(0, -1)) assert.match(s, /[;, ]$/, JSON.stringify(r.strings));
    const spaced = parseDmarcRecord(r.strings.join(' '));
    assert.deepEqual(spaced.errors, []);
    assert.deepEqual(spaced.rua.map((u) => u.raw), many);
  });

  test('dmarcStrings: short records are one string; a run of 255 bytes without a separator is cut where it must, never inside a UTF-8 character', () => {
    assert.deepEqual(dmarcStrings('v=DMARC1; p=none'), ['v=DMARC1; p=none']);
    const run = `v=DMARC1; p=none; rua=mailto:${'a'.repeat(300)}@${D}`;
    const parts = dmarcStrings(run);
    assert.equal(parts.join(''), run);
    assert.ok(parts.every((s) => Buffer.byteLength(s) <= 255));
    const wide = 'é'.repeat(200);
    const cut = dmarcStrings(wide);
    assert.equal(cut.join(''), wide);
    assert.ok(cut.every((s) => Buffer.byteLength(s) <= 255 && !s.includes('\ufffd')));
  });
});

describe('the case matrix that was fine (regression guards)', () => {
  test("p=reject with every tag: only the previous host's address goes; policy, sp, pct, alignment, fo, ri, ruf kept", async () => {
    const r = await leaves([`v=DMARC1; p=reject; sp=quarantine; pct=50; adkim=s; aspf=s; fo=1; ri=3600; rua=${STALE},mailto:a@${D}; ruf=mailto:f@${D}`]);
    assert.equal(r.value, `v=DMARC1; p=reject; sp=quarantine; pct=50; adkim=s; aspf=s; fo=1; ri=3600; rua=mailto:a@${D}; ruf=mailto:f@${D}`);
  });

  test('upper-case tags and values: read, written in lower case, policy kept', async () => {
    const r = await leaves([`V=DMARC1; P=Reject; SP=Quarantine; RUA=${STALE},mailto:a@${D}`]);
    assert.equal(r.value, `v=DMARC1; p=reject; sp=quarantine; rua=mailto:a@${D}`);
  });

  test('!size limits kept on the addresses that stay; the stale one dropped with its own', async () => {
    const r = await leaves([`v=DMARC1; p=quarantine; rua=mailto:a@${D}!10m,${STALE}!5m,mailto:b@${D}!1g; ruf=mailto:f@${D}!100k`]);
    assert.equal(r.value, `v=DMARC1; p=quarantine; rua=mailto:a@${D}!10m,mailto:b@${D}!1g; ruf=mailto:f@${D}!100k`);
  });

  test('a percent-encoded mailbox is kept as written', async () => {
    const r = await leaves([`v=DMARC1; p=none; rua=mailto:dmarc%2Creports@${D},${STALE}`]);
    assert.equal(r.value, `v=DMARC1; p=none; rua=mailto:dmarc%2Creports@${D}`);
  });

  test('v=DMARC1 not first: receivers apply nothing today, so the repaired record is p=none, the written policy named', async () => {
    const r = await leaves([`p=reject; v=DMARC1; rua=mailto:a@${D}`]);
    assert.equal(r.value, `v=DMARC1; p=none; rua=mailto:a@${D}`);
    assert.ok(r.notes.some((n) => /set p=reject yourself/.test(n)), r.notes.join('\n'));
  });
});
