// Review R9, item 1 (core): a mail service's term the user selects for removal. Its note said "mail … still sends
// through Google Workspace fails SPF from now on" for `+mx` while include:_spf.google.com — the include Google
// documents — stayed in the record; and the blocked plan told every surface to run the CLI (`mailhealth fix …
// --remove-term TERM`), a web customer included. Now the note says the provider's mail fails only when nothing kept
// still authorises it as the provider documents, and the block names the terms without a surface's way to select them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'shop.example';
const GOOGLE_MX = 'aspmx.l.google.com';

/** The domain's mail at Google Workspace (its MX), served by this server otherwise; `spf` its one SPF record. */
async function plan(spf: string, removeTerms: string[], extra: ZoneMap = {}) {
  const map: ZoneMap = {
    ...SPF_QA_WORLD,
    [D]: { A: [SERVER_IP], MX: [{ priority: 1, exchange: GOOGLE_MX }], TXT: [[spf]] },
    [GOOGLE_MX]: { A: ['142.250.27.26'] },
    ...extra,
  };
  const zone: ZoneRecord[] = [
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' },
    { name: D, ttl: 3600, type: 'A', value: SERVER_IP, ref: 'a' },
    { name: D, ttl: 3600, type: 'MX', value: `1 ${GOOGLE_MX}.`, ref: 'mx' },
    { name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' },
  ];
  const p = await planSpf(checkContext(D, map, {}, zone), zone, { removeTerms });
  const after = p.changes.find((c) => c.after)?.after;
  return { p, after: after ? (after.txt ?? [after.value]).join('') : null, show: `blocked: ${p.blocked}\n${p.notes.join('\n')}` };
}

const removedNote = (notes: string[], term: string) => notes.find((n) => n.startsWith(`Removes ${term} (you selected it)`));

describe("SPF fix: a selected mail service's term — its note, and the block that names it", () => {
  test('+mx removed while include:_spf.google.com stays: Google Workspace mail is not said to fail', async () => {
    const { p, after, show } = await plan('v=spf1 +a +mx include:_spf.google.com ~all', ['+mx']);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 +a include:_spf.google.com ~all', show);
    const note = removedNote(p.notes, '+mx');
    assert.ok(note, show);
    assert.doesNotMatch(note!, /fails SPF/, 'the include Google documents still authorises its mail');
    assert.match(note!, /still authorises through include:_spf\.google\.com/);
    assert.match(note!, /still passes SPF/);
  });

  test('the include stands after the removed term in the record: still found (notes worded once every kept term is known)', async () => {
    const { p, show } = await plan('v=spf1 +mx +a include:_spf.google.com ~all', ['mx']);
    const note = removedNote(p.notes, '+mx');
    assert.ok(note, show);
    assert.doesNotMatch(note!, /fails SPF/, show);
  });

  test("include:_spf.google.com removed while +mx stays: Google's mail fails (+mx names its inbound servers, not its senders)", async () => {
    const { p, after, show } = await plan('v=spf1 +a +mx include:_spf.google.com ~all', ['include:_spf.google.com']);
    assert.equal(after, 'v=spf1 +a +mx ~all', show);
    const note = removedNote(p.notes, 'include:_spf.google.com');
    assert.ok(note, show);
    assert.match(note!, /it authorises Google Workspace, so mail shop\.example still sends through Google Workspace fails SPF from now on/);
  });

  test('both removed: each note says the mail fails (nothing kept authorises Google)', async () => {
    const { p, show } = await plan('v=spf1 +a +mx include:_spf.google.com ~all', ['+mx', 'include:_spf.google.com']);
    for (const t of ['+mx', 'include:_spf.google.com']) assert.match(removedNote(p.notes, t) ?? '', /fails SPF from now on/, show);
  });

  test('a "~" include of the same service does not count as keeping its mail passing', async () => {
    const { p, show } = await plan('v=spf1 +a +mx ~include:_spf.google.com ~all', ['+mx']);
    assert.match(removedNote(p.notes, '+mx') ?? '', /fails SPF from now on/, show);
  });

  test('a blocked plan names the mail services’ terms to select, without telling every surface to run the CLI', async () => {
    // 12 lookups: this server's own a: terms (kept whatever they cost) and Google's two terms.
    const own = ['a:h1.newhost.example', 'a:h2.newhost.example', 'a:h3.newhost.example', 'a:h4.newhost.example', 'a:h5.newhost.example', 'a:h6.newhost.example', 'a:h7.newhost.example'];
    const hosts: ZoneMap = Object.fromEntries(own.map((t) => [t.slice(2), { A: [SERVER_IP] }]));
    const { p, show } = await plan(`v=spf1 +a +mx ${own.join(' ')} include:_spf.google.com ~all`, [], hosts);
    assert.match(p.blocked ?? '', /would need 1[1-9] DNS lookups/, show);
    assert.match(p.blocked!, /select its term for removal and the fix drops it: [^.]*include:_spf\.google\.com \(2\)/, show);
    assert.match(p.blocked!, /\+mx \(1\)/, show);
    assert.doesNotMatch(p.blocked!, /mailhealth fix|--remove-term/, 'how to select is the surface’s to say');
  });
});
