// The DMARC fix never writes report addresses over OpenDMARC's length limits (libopendmarc 1.4.2, judged at the
// boundaries in test/e2e/dmarc-opendmarc-judge.test.ts): a report URI of 256 octets or more makes OpenDMARC refuse the
// whole record (its receivers apply no policy), a rua=/ruf= list of 512 octets or more makes it send no report of that
// kind to any address. The fix used to keep both as they were. Now it writes a URI over the limit only by its !size
// suffix without the suffix, drops one over it anyway, keeps the addresses of a long list in the order written while
// they fit — and names every address it drops, with why and what is lost.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { checkContext } from '../checks/context.js';

const D = 'alice.example';

/** A mailto: URI of exactly `n` octets at the domain (its local part filled with "a"). */
const uriOf = (n: number, domain = D) => `mailto:${'a'.repeat(n - `mailto:@${domain}`.length)}@${domain}`;
/** `n` report addresses of 36 octets at the domain. */
const listOf = (n: number) => Array.from({ length: n }, (_, k) => `mailto:dmarc-report-${String(k).padStart(2, '0')}@${D}`);
const strings = (text: string) => text.match(/[^]{1,200}/g)!;

/** The record the fix leaves at _dmarc (the one it writes, or the one it leaves as it is), its notes and changes. */
async function fixed(values: string[], domain = D, panel?: string[]) {
  const name = `_dmarc.${domain}`;
  const rec = (value: string, i: number): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: strings(value), ref: `r${i}` });
  const recs = values.map(rec);
  const ctx = checkContext(domain, { [name]: { TXT: recs.map((r) => r.txt!) } }, {}, panel ? panel.map(rec) : recs);
  const plan = await planDmarc(ctx, recs, panel ? { records: panel.map(rec) } : undefined);
  const after = plan.changes.filter((c) => c.after).map((c) => c.after!);
  assert.ok(after.length <= 1, plan.notes.join('\n'));
  return { value: after[0] ? (after[0].txt ?? [after[0].value]).join('') : plan.changes.length ? null : values[0], notes: plan.notes, changes: plan.changes };
}

describe('DMARC fix: report URIs over 255 octets', () => {
  test('a URI of 256 octets is dropped, the others kept; the note names it whole, with its length and what is lost', async () => {
    const long = uriOf(256);
    const { value, notes } = await fixed([`v=DMARC1; p=reject; rua=mailto:d@alice.example,${long}`]);
    assert.equal(value, 'v=DMARC1; p=reject; rua=mailto:d@alice.example');
    assert.ok(
      notes.includes(
        `Drops rua ${long}: it is 256 octets long, and OpenDMARC (the DMARC milter of many Postfix and Sendmail receivers) refuses the whole DMARC record over a report URI of 256 octets or more, so its receivers would apply no DMARC policy at all. Receivers that follow RFC 7489 send their aggregate reports there today and will not any more: if that mailbox is still needed, give it an address of at most 255 octets as a URI and add it back.`,
      ),
      notes.join('\n'),
    );
  });

  test('a URI of 255 octets is kept: the record is left as it is', async () => {
    const value = `v=DMARC1; p=reject; rua=mailto:d@alice.example,${uriOf(255)}`;
    const out = await fixed([value]);
    assert.deepEqual(out.changes, [], out.notes.join('\n'));
  });

  test('over 255 octets only with its !size suffix: written without the suffix, said', async () => {
    const { value, notes } = await fixed([`v=DMARC1; p=quarantine; rua=${uriOf(252)}!10m,mailto:d@alice.example`]);
    assert.equal(value, `v=DMARC1; p=quarantine; rua=${uriOf(252)},mailto:d@alice.example`);
    assert.ok(notes.some((n) => n.startsWith(`Writes rua ${uriOf(252)}!10m as ${uriOf(252)}: with its !size suffix the URI is 256 octets, and OpenDMARC`) && n.includes('the same mailbox')), notes.join('\n'));
    // One over the limit even without its suffix is dropped.
    const { value: v2 } = await fixed([`v=DMARC1; p=quarantine; rua=${uriOf(256)}!10m,mailto:d@alice.example`]);
    assert.equal(v2, 'v=DMARC1; p=quarantine; rua=mailto:d@alice.example');
  });

  test('the only aggregate address over the limit: postmaster@ instead, as for any address the fix drops', async () => {
    const { value, notes } = await fixed([`v=DMARC1; p=none; rua=${uriOf(300)}`]);
    assert.equal(value, 'v=DMARC1; p=none; rua=mailto:postmaster@alice.example');
    assert.ok(notes.some((n) => n.startsWith(`Drops rua ${uriOf(300)}: it is 300 octets long`)), notes.join('\n'));
    assert.ok(notes.includes('Sends aggregate reports to postmaster@alice.example.'), notes.join('\n'));
  });

  test('a ruf URI over the limit: dropped, said as failure reports; with no other ruf left, none are asked for', async () => {
    const { value, notes } = await fixed([`v=DMARC1; p=reject; ruf=${uriOf(256)}; fo=1`]);
    assert.equal(value, 'v=DMARC1; p=reject; fo=1');
    assert.ok(notes.some((n) => n.startsWith(`Drops ruf ${uriOf(256)}: it is 256 octets long`) && n.includes('send their failure reports there today')), notes.join('\n'));
  });
});

describe('DMARC fix: rua=/ruf= lists over 511 octets', () => {
  test('a list of exactly 511 octets is left as it is', async () => {
    const list = [...listOf(13), `mailto:d12345678@${D}`].join(',');
    assert.equal(Buffer.byteLength(list), 511);
    const out = await fixed([`v=DMARC1; p=reject; rua=${list}`]);
    assert.deepEqual(out.changes, [], out.notes.join('\n'));
  });

  test('one of 517 octets: the addresses that fit in 511, in the order written, are kept; the one left out is named, with the numbers', async () => {
    const uris = listOf(14);
    const { value, notes } = await fixed([`v=DMARC1; p=reject; rua=${uris.join(',')}`]);
    assert.equal(value, `v=DMARC1; p=reject; rua=${uris.slice(0, 13).join(',')}`);
    assert.ok(
      notes.includes(
        `Drops rua ${uris[13]}: OpenDMARC (the DMARC milter of many Postfix and Sendmail receivers) skips a rua= list of 512 octets or more whole (it then sends no aggregate reports to any of its addresses), and with it the list would be 517 octets; the fix keeps the addresses, in the order written, that fit in 511 octets. Receivers that follow RFC 7489 send it no more aggregate reports: to keep one, put it before others in the record or take others out.`,
      ),
      notes.join('\n'),
    );
  });

  test('a list over 511 octets only with its spaces: every address kept, written without them', async () => {
    const uris = listOf(13);
    const { value, notes } = await fixed([`v=DMARC1; p=reject; rua=${uris.join(' ,  ')}`]);
    assert.equal(value, `v=DMARC1; p=reject; rua=${uris.join(',')}`);
    assert.ok(!notes.some((n) => n.startsWith('Drops')), notes.join('\n'));
  });

  test('two records merged: the list of both is fitted, each address left out named', async () => {
    const uris = listOf(16);
    const { value, notes } = await fixed([`v=DMARC1; p=reject; rua=${uris.slice(0, 8).join(',')}`, `v=DMARC1; p=quarantine; rua=${uris.slice(8).join(',')}`]);
    assert.equal(value, `v=DMARC1; p=quarantine; rua=${uris.slice(0, 13).join(',')}`);
    assert.ok(notes.some((n) => n.startsWith(`Drops rua ${uris.slice(13).join(', ')}: OpenDMARC`) && n.includes('with them the list would be 591 octets')), notes.join('\n'));
  });

  test('a ruf= list: the same, said as failure reports', async () => {
    const uris = listOf(15);
    const { value, notes } = await fixed([`v=DMARC1; p=reject; rua=mailto:d@alice.example; ruf=${uris.join(',')}`]);
    assert.equal(value, `v=DMARC1; p=reject; rua=mailto:d@alice.example; ruf=${uris.slice(0, 13).join(',')}`);
    assert.ok(notes.some((n) => n.startsWith(`Drops ruf ${uris[13]}, ${uris[14]}: OpenDMARC`) && n.includes('no failure reports')), notes.join('\n'));
  });
});

describe('DMARC fix: postmaster@ for a domain whose name makes it too long a report URI', () => {
  // mailto:postmaster@ is 18 octets: a name of 237 octets makes a URI of 255, one of 238 a URI of 256.
  const named = (n: number) => `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(n - 200)}.example`;

  test('a new record: with postmaster@ up to 237 octets; at 238, no rua (the note says why)', async () => {
    const ok = named(237);
    assert.equal(ok.length, 237);
    assert.equal((await fixed([], ok)).value, `v=DMARC1; p=none; rua=mailto:postmaster@${ok}`);
    const long = named(238);
    const { value, notes } = await fixed([], long);
    assert.equal(value, 'v=DMARC1; p=none');
    assert.ok(notes.includes(`Asks for no aggregate reports: postmaster@${long} would be a report URI of 256 octets, and OpenDMARC (the DMARC milter of many Postfix and Sendmail receivers) refuses the whole DMARC record over one of 256 octets or more. Add a shorter report address of your own if you want them.`), notes.join('\n'));
  });

  test('a record whose aggregate addresses are all dropped: no postmaster@ of 256 octets either', async () => {
    const long = named(238);
    const { value, notes } = await fixed([`v=DMARC1; p=none; rua=mailto:dmarc-reports@dreamhost.com`], long);
    assert.equal(value, 'v=DMARC1; p=none');
    assert.ok(notes.some((n) => n.startsWith('Asks for no aggregate reports: postmaster@')), notes.join('\n'));
  });
});

describe('DMARC fix published elsewhere: the panel\'s addresses stand in for a live record\'s over-long one', () => {
  test('the live record\'s only aggregate address is over 255 octets: the panel record\'s address is taken, not postmaster@', async () => {
    const { value, notes } = await fixed([`v=DMARC1; p=reject; rua=${uriOf(260)}`], D, ['v=DMARC1; p=reject; rua=mailto:reports@alice.example']);
    assert.equal(value, 'v=DMARC1; p=reject; rua=mailto:reports@alice.example');
    assert.ok(notes.some((n) => n.startsWith(`Drops rua ${uriOf(260)}: it is 260 octets long`)), notes.join('\n'));
    assert.ok(notes.some((n) => n.startsWith("Takes the aggregate report address of the panel's DMARC record (mailto:reports@alice.example)")), notes.join('\n'));
  });
});
