// Review of 39d7259 (stray invisible characters in an SPF term are removed, the term kept): that held for a record
// stored as one string, not when a string boundary falls inside the damaged term. cPanel and Plesk store a TXT record
// over 255 bytes as 255-byte strings cut wherever byte 255 falls (adapters' splitTxt), so the term crossing byte 255 of
// a long SPF record can be it. Every join inside a token was read as a cut between two terms; receivers join the
// strings with nothing between (RFC 7208 §3.3), so `include:_spf.go` + `o\u200Bgle.com` had no valid reading, was one
// invalid term, and the fix DROPPED it (the Google include lost; with a no-break space before -all, the -all too,
// replaced by ~all). Now the strings are also read joined, as receivers read them, and the stray characters removed;
// the joined reading comes before a cut at the join, as for a token with no stray character.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitTxt as cpanelSplit } from '../../../src/adapters/panels/cpanel/zonefile.js';
import { splitTxt as filesSplit } from '../../../src/adapters/panels/files/zonefile.js';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { runTogetherTerms } from '../../../src/core/spf/joins.js';
import { MapResolver, type ZoneMap } from '../../helpers/map-resolver.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'paste.example';

/** `strings`: the record's character-strings, as the zone (and DNS) holds them. */
async function run(strings: string[], extra: ZoneMap = {}) {
  const map: ZoneMap = { ...SPF_QA_WORLD, ...extra, [D]: { TXT: [strings] } };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: strings.join(''), txt: strings, ref: 'spf' }];
  const p = await planSpf(checkContext(D, map, {}, zone), zone, {});
  const after = p.changes.find((c) => c.after)?.after;
  const text = after ? (after.txt ?? [after.value]).join('') : null;
  const fs = await spfCheck(checkContext(D, map, {}, zone));
  const show = `strings: ${JSON.stringify(strings)}\nafter: ${text}\nblocked: ${p.blocked}\n${p.notes.join('\n')}\n--\n${fs.map((f) => `${f.severity} ${f.rule} ${JSON.stringify(f.subject ?? '')} | ${f.message}`).join('\n')}`;
  return { p, after: text, fs, show };
}

/** 12 ip4 terms of 18 bytes: with `v=spf1 ip4:<server>` before them, byte 255 falls inside the term that follows. */
const PAD = Array.from({ length: 12 }, (_, i) => `ip4:198.51.100.${i + 100}`).join(' ');

/** The premise: the first string ends inside `token` (the last term of it is a start of `token`). */
function boundaryInside(strings: string[], token: string): boolean {
  const last = strings[0].split(' ').pop() ?? '';
  return strings.length > 1 && last !== '' && last !== token && token.startsWith(last);
}

/** Nothing of the Google include dropped, -all not weakened. */
function keepsEverything(r: Awaited<ReturnType<typeof run>>) {
  assert.equal(r.p.blocked, undefined, r.show);
  assert.ok(!r.p.notes.some((n) => n.startsWith('Drops')), `nothing dropped\n${r.show}`);
  assert.ok(!r.p.notes.some((n) => /~all/.test(n)), `-all not weakened\n${r.show}`);
}

describe('SPF: a stray character in a term a string boundary falls inside', () => {
  test('two strings, the boundary inside the damaged name: the zero-width space goes, the Google include stays; the check says the same', async () => {
    const r = await run([`v=spf1 ip4:${SERVER_IP} include:_spf.go`, `o\u200bgle.com -all`]);
    keepsEverything(r);
    assert.equal(r.after, `v=spf1 ip4:${SERVER_IP} include:_spf.google.com -all`, r.show);
    assert.ok(r.p.notes.some((n) => n.startsWith('Removes a zero-width space (U+200B) from include:_spf.goo\\u200Bgle.com, leaving include:_spf.google.com: ')), r.show);
    const syntax = r.fs.filter((f) => f.rule === 'spf.syntax');
    assert.equal(syntax.length, 1, r.show);
    assert.equal(syntax[0].subject, 'include:_spf.goo\u200bgle.com');
    assert.match(syntax[0].message, /^The SPF record has a zero-width space \(U\+200B\) in include:_spf\.google\.com: .*The SPF fix removes the stray character\.$/);
    // Google is judged as the term the fix keeps, not as an invalid term.
    assert.equal(r.fs.find((f) => f.subject === 'include:_spf.google.com')?.rule, 'spf.term', r.show);
  });

  for (const [panel, split] of [
    ['cPanel', cpanelSplit],
    ['Plesk (zone file)', (s: string) => filesSplit(s)],
  ] as const) {
    test(`a long record as the ${panel} adapter stores it (255-byte strings): the damaged Google include is repaired, not dropped`, async () => {
      const record = `v=spf1 ip4:${SERVER_IP} ${PAD} include:_spf.goo\u200bgle.com -all`;
      const strings = split(record);
      assert.ok(boundaryInside(strings, 'include:_spf.goo\u200bgle.com'), JSON.stringify(strings));
      const r = await run(strings);
      keepsEverything(r);
      assert.equal(r.after?.includes(`${PAD} include:_spf.google.com -all`), true, r.show);
    });
  }

  test('a no-break space before -all and the boundary inside the include before it: Google and -all both kept', async () => {
    const record = `v=spf1 ip4:${SERVER_IP} ${PAD} include:_spf.google.com\u00a0-all`;
    const strings = cpanelSplit(record);
    assert.ok(boundaryInside(strings, 'include:_spf.google.com\u00a0-all'), JSON.stringify(strings));
    const r = await run(strings);
    keepsEverything(r);
    assert.ok(r.after?.endsWith(' include:_spf.google.com -all'), r.show);
    assert.ok(r.p.notes.some((n) => n.startsWith('Separates include:_spf.google.com\\xa0-all into include:_spf.google.com -all: a no-break space (U+00A0)')), r.show);
    const syntax = r.fs.filter((f) => f.rule === 'spf.syntax');
    assert.equal(syntax.length, 1, r.show);
    assert.match(syntax[0].message, /runs include:_spf\.google\.com -all together: a no-break space \(U\+00A0\) stands where a space belongs/);
    assert.ok(!r.fs.some((f) => f.rule === 'spf.weak-all'), r.show);
    // The same record as one string reads the same.
    assert.equal((await run([record])).after, r.after);
  });

  test('a soft hyphen right at the boundary (end of the first string): removed, the name joined', async () => {
    const r = await run([`v=spf1 ip4:${SERVER_IP} include:_spf.goo\u00ad`, `gle.com -all`]);
    keepsEverything(r);
    assert.equal(r.after, `v=spf1 ip4:${SERVER_IP} include:_spf.google.com -all`, r.show);
  });
});

describe('SPF: with a stray character, the strings joined as receivers join them come before a cut at the join', () => {
  const resolverWith = (extra: ZoneMap) => new MapResolver({ ...SPF_QA_WORLD, ...extra });
  const strings = [`v=spf1 ip4:${SERVER_IP} a:mail.example.c`, `\u200ba -all`];

  test('both readings work (mail.example.ca and mail.example.c exist): the joined one, a:mail.example.ca, as with no stray character', async () => {
    const extra: ZoneMap = { 'mail.example.ca': { A: ['198.51.100.9'] }, 'mail.example.c': { A: ['198.51.100.8'] } };
    const r = await runTogetherTerms(resolverWith(extra), strings);
    assert.deepEqual(r.found.map((f) => [f.cause, f.parts]), [['stray', ['a:mail.example.ca']]]);
    // The same without the stray character: left as it is (receivers read a:mail.example.ca, which works).
    assert.deepEqual((await runTogetherTerms(resolverWith(extra), [strings[0], 'a -all'])).found, []);
  });

  test('only the cut works (mail.example.c exists): two terms', async () => {
    const r = await runTogetherTerms(resolverWith({ 'mail.example.c': { A: ['198.51.100.8'] } }), strings);
    assert.deepEqual(r.found.map((f) => [f.cause, f.parts]), [['join', ['a:mail.example.c', 'a']]]);
  });

  test('neither works: the cut at the join, as before (a stays)', async () => {
    const r = await runTogetherTerms(resolverWith({}), strings);
    assert.deepEqual(r.found.map((f) => f.parts), [['a:mail.example.c', 'a']]);
  });

  test('no answer for the joined name: nothing decided, the plan waits for DNS', async () => {
    const r = await run(strings, { 'mail.example.ca': { A: 'TIMEOUT' }, 'mail.example.c': { A: ['198.51.100.8'] } });
    assert.match(r.p.blocked ?? '', /DNS did not answer/, r.show);
  });

  test('two whole terms at the join with a stray character after them: still separated (include:_spf.google.com-all does not exist)', async () => {
    const r = await run([`v=spf1 ip4:${SERVER_IP} include:_spf.google.com`, `-all\u00a0`]);
    keepsEverything(r);
    assert.equal(r.after, `v=spf1 ip4:${SERVER_IP} include:_spf.google.com -all`, r.show);
  });
});
