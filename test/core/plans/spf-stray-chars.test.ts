// Stray invisible characters inside an SPF term, pasted from a web page or a document: `include:_spf.goo\u200Bgle.com`
// (a zero-width space; also a zero-width non-joiner or joiner, a word joiner, a byte-order mark, a soft hyphen, or a
// no-break space inside the name). Receivers fail the whole record (non-ASCII, RFC 7208 §3.1; one that looks the name
// up anyway finds no such name, and an include of it is permerror, §5.2). The fix used to drop the whole term as "not
// valid SPF" — removing the customer's Google include, so their Google mail then failed SPF. Now the check names the
// term and the character (escaped: record text is hostile) and the fix removes only the stray character, keeping the
// include, with a note; the two agree. Letters of another script (an IDN, a look-alike) are not stray characters.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'paste.example';

function setup(strings: string[], extra: ZoneMap = {}, settings: Partial<MailSettings> = {}) {
  const map: ZoneMap = { ...SPF_QA_WORLD, ...extra, [D]: { TXT: [strings] } };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: strings.join(''), txt: strings, ref: 'spf' }];
  return { ctx: checkContext(D, map, settings, zone), zone };
}

async function run(record: string, extra: ZoneMap = {}) {
  const { ctx, zone } = setup([record], extra);
  const p = await planSpf(ctx, zone, {});
  const after = p.changes.find((c) => c.after)?.after;
  const text = after ? (after.txt ?? [after.value]).join('') : null;
  const fs = await spfCheck(setup([record], extra).ctx);
  const show = `after: ${text}\nblocked: ${p.blocked}\n${p.notes.join('\n')}\n--\n${fs.map((f) => `${f.severity} ${f.rule} ${JSON.stringify(f.subject ?? '')} | ${f.message}`).join('\n')}`;
  return { p, after: text, fs, show };
}

/** No character of `s` outside printable ASCII (the message names characters as escapes only). */
const printable = (s: string) => /^[\x20-\x7e\u00a7\u2014\u2013]*$/.test(s);

const STRAYS: [string, string, string][] = [
  ['\u200B', 'a zero-width space', 'U+200B'],
  ['\u200C', 'a zero-width non-joiner', 'U+200C'],
  ['\u200D', 'a zero-width joiner', 'U+200D'],
  ['\u2060', 'a word joiner', 'U+2060'],
  ['\uFEFF', 'a byte-order mark', 'U+FEFF'],
  ['\u00AD', 'a soft hyphen', 'U+00AD'],
  ['\u00A0', 'a no-break space', 'U+00A0'],
];

describe('SPF: a stray invisible character inside the name of an include', () => {
  for (const [ch, name, cp] of STRAYS) {
    const record = `v=spf1 ip4:${SERVER_IP} include:_spf.goo${ch}gle.com -all`;
    test(`${name} (${cp}): the fix removes only that character and keeps the Google include; the check says so`, async () => {
      const { p, after, fs, show } = await run(record);
      assert.equal(p.blocked, undefined, show);
      assert.equal(after, `v=spf1 ip4:${SERVER_IP} include:_spf.google.com -all`, show);
      const esc = ch.charCodeAt(0) <= 0xff ? `\\x${ch.charCodeAt(0).toString(16)}` : `\\u${cp.slice(2)}`;
      const note = p.notes.find((n) => n.startsWith(`Removes ${name} (${cp}) from include:_spf.goo${esc}gle.com, leaving include:_spf.google.com: `));
      assert.ok(note, show);
      assert.match(note, /permerror/);
      assert.ok(!p.notes.some((n) => n.startsWith('Drops')), `nothing dropped\n${show}`);

      const syntax = fs.filter((f) => f.rule === 'spf.syntax');
      assert.equal(syntax.length, 1, `one finding for the term, not the record-level non-ASCII error beside it\n${show}`);
      const f = syntax[0];
      assert.equal(f.severity, 'fail');
      assert.equal(f.fix, 'spf', show);
      assert.equal(f.subject, `include:_spf.goo${ch}gle.com`);
      assert.ok(f.message.startsWith(`The SPF record has ${name} (${cp}) in include:_spf.google.com: `), show);
      assert.ok(f.message.includes(`"include:_spf.goo${esc}gle.com"`), `the term, escaped\n${show}`);
      assert.ok(printable(f.message), `no raw character in the message\n${show}`);
      assert.match(f.message, /RFC 7208 §3\.1.*permerror.*RFC 7208 §5\.2.*The SPF fix removes the stray character\.$/);
      // Google is judged as the term the fix keeps.
      assert.equal(fs.find((x) => x.subject === 'include:_spf.google.com')?.rule, 'spf.term', show);
    });
  }

  test('several stray characters in one name: all removed, named together', async () => {
    const { after, p, fs, show } = await run(`v=spf1 ip4:${SERVER_IP} include:_spf.\u00adgoo\u200bgle.com -all`);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} include:_spf.google.com -all`, show);
    assert.ok(p.notes.some((n) => n.startsWith('Removes a soft hyphen (U+00AD) and a zero-width space (U+200B) from include:_spf.\\xadgoo\\u200Bgle.com')), show);
    assert.match(fs.find((f) => f.rule === 'spf.syntax')?.message ?? '', /removes the stray characters\.$/, show);
  });

  test('a zero-width space in an a: name and an ip4 address: both repaired', async () => {
    const extra: ZoneMap = { 'mail.paste.example': { A: ['198.51.100.25'] } };
    const { after, show } = await run(`v=spf1 ip4:${SERVER_IP} a:mail.paste\u200b.example ip4:198.51.100\u200b.26 -all`, extra);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} a:mail.paste.example ip4:198.51.100.26 -all`, show);
  });

  test("a previous host's include with a stray character: the check calls it stale (as the fix reads it), the fix repairs and drops it", async () => {
    const { after, p, fs, show } = await run(`v=spf1 ip4:${SERVER_IP} include:website\u200bwelcome.com -all`);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} -all`, show);
    assert.ok(p.notes.some((n) => n.startsWith('Removes a zero-width space (U+200B)')), show);
    assert.ok(p.notes.some((n) => n.startsWith('Drops include:websitewelcome.com: ')), show);
    const stale = fs.find((f) => f.rule === 'spf.stale-term');
    assert.equal(stale?.subject, 'include:websitewelcome.com', show);
    assert.equal(stale?.fix, 'spf');
  });

  test('stray character and a no-break space between two terms: the character goes, the terms are separated', async () => {
    const { after, p, fs, show } = await run(`v=spf1 ip4:${SERVER_IP} include:_spf.goo\u200bgle.com\u00a0-all`);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} include:_spf.google.com -all`, show);
    assert.ok(p.notes.some((n) => n.startsWith('Separates include:_spf.goo\\u200Bgle.com\\xa0-all into include:_spf.google.com -all: ') && n.includes('a zero-width space (U+200B), which the repair removes')), show);
    assert.match(fs.find((f) => f.rule === 'spf.syntax')?.message ?? '', /separates them again and removes a zero-width space \(U\+200B\)\.$/, show);
  });
});

describe('SPF: the run-together handling stays as it was, and decides ambiguous tokens by what works', () => {
  test('a zero-width space between two whole terms still separates them (include:_spf.google.com-all does not exist)', async () => {
    const { after, p, show } = await run(`v=spf1 ip4:${SERVER_IP} include:_spf.google.com\u200b-all`);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} include:_spf.google.com -all`, show);
    assert.ok(p.notes.some((n) => n.startsWith('Separates include:_spf.google.com\\u200B-all into include:_spf.google.com -all: a zero-width space (U+200B) stands where a space belongs')), show);
  });

  test('a zero-width space that could be either: the name that exists wins (a:mail.example.ca, not a:mail.example.c + a)', async () => {
    const extra: ZoneMap = { 'mail.example.ca': { A: ['198.51.100.9'] } };
    const { after, show } = await run(`v=spf1 ip4:${SERVER_IP} a:mail.example.c\u200ba -all`, extra);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} a:mail.example.ca -all`, show);
  });

  test('the same, the other way round: a:mail.example.c exists, mail.example.ca does not → two terms', async () => {
    const extra: ZoneMap = { 'mail.example.c': { A: ['198.51.100.9'] } };
    const { after, show } = await run(`v=spf1 ip4:${SERVER_IP} a:mail.example.c\u200ba -all`, extra);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} a:mail.example.c a -all`, show);
  });

  test('no answer while choosing between the readings: nothing decided, the plan waits for DNS', async () => {
    const extra: ZoneMap = { 'mail.example.ca': { A: 'TIMEOUT' } };
    const { p, show } = await run(`v=spf1 ip4:${SERVER_IP} a:mail.example.c\u200ba -all`, extra);
    assert.match(p.blocked ?? '', /DNS did not answer/, show);
  });
});

describe('SPF: letters are not stray characters', () => {
  test('a Cyrillic letter in the name (a look-alike, or an IDN): not repaired, no stray-character finding', async () => {
    const { p, fs, show } = await run(`v=spf1 ip4:${SERVER_IP} include:_spf.g\u043eogle.com -all`);
    assert.ok(!p.notes.some((n) => n.startsWith('Removes') || n.startsWith('Separates')), show);
    assert.ok(!fs.some((f) => /stray character/.test(f.message)), show);
    // What the check says of it is escaped too.
    for (const f of fs) assert.ok(printable(f.message), `${f.rule}: ${f.message}`);
  });

  test('a right-to-left override (U+202E) is not removed: the text without it is not what was shown', async () => {
    const { p, show } = await run(`v=spf1 ip4:${SERVER_IP} include:_spf.\u202eelgoog\u202c.com -all`);
    assert.ok(!p.notes.some((n) => n.startsWith('Removes') || n.startsWith('Separates')), show);
  });

  test('a tab inside a name is not removed (it shows: no hidden paste artefact)', async () => {
    const { p, show } = await run(`v=spf1 ip4:${SERVER_IP} include:_spf.goo\tgle.com -all`);
    assert.ok(!p.notes.some((n) => n.startsWith('Removes')), show);
  });
});

test('hostile record text: every finding of a record full of invisible characters is printable', async () => {
  const { fs } = await run(`v=spf1 ip4:${SERVER_IP} include:_spf.goo\u200bgle.com a:x\u2062y.example\u00ad exp=e\u200dx.example -all`);
  const bad: Finding[] = fs.filter((f) => !printable(f.message));
  assert.deepEqual(bad.map((f) => f.message), []);
});
