// QA: an SPF record whose terms run together — split into character-strings with no space at the join (zone text
// `( "v=spf1 mx include:_spf.google.com" "-all" )`, which receivers read as `include:_spf.google.com-all`, RFC 7208
// §3.3), or with a pasted no-break space (U+00A0) between two terms — lost Google (the fix dropped
// `include:_spf.google.com-all` as "does not exist") and had its -all weakened to ~all ("it had no all term"). The fix
// now separates the terms, saying so in a note, as it already joins `include _spf.google.com`; the SPF check reports
// the same thing, and only a token that is clearly several terms and does not work as read is taken apart.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';
import { checkContext } from '../checks/context.js';

const D = 'split.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;

/** `strings`: the record's character-strings, as the zone (and DNS) holds them. */
function setup(strings: string[], extra: ZoneMap = {}, settings: Partial<MailSettings> = {}) {
  const map: ZoneMap = { ...SPF_QA_WORLD, ...extra, [D]: { MX: [{ priority: 10, exchange: 'server1.newhost.example' }], TXT: [strings] } };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: strings.join(''), txt: strings, ref: 'spf' }];
  return { ctx: checkContext(D, map, settings, zone), zone };
}

async function plan(strings: string[], extra: ZoneMap = {}, settings: Partial<MailSettings> = {}) {
  const { ctx, zone } = setup(strings, extra, settings);
  const p = await planSpf(ctx, zone, {});
  const after = p.changes.find((c) => c.after)?.after;
  const text = after ? (after.txt ?? [after.value]).join('') : null;
  return { p, after: text, show: `after: ${text}\nblocked: ${p.blocked}\n${p.notes.join('\n')}` };
}

describe('SPF fix: terms run together are separated, not dropped', () => {
  test('strings joined with no space: include:_spf.google.com and -all both kept, with a note citing RFC 7208 §3.3', async () => {
    const { p, after, show } = await plan(['v=spf1 mx include:_spf.google.com', '-all']);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 mx include:_spf.google.com -all', show);
    assert.ok(p.notes.some((n) => /^Separates include:_spf\.google\.com-all into include:_spf\.google\.com -all: .*several strings.*RFC 7208 §3\.3/.test(n)), show);
    assert.ok(!p.notes.some((n) => n.startsWith('Drops')), `Google is not dropped\n${show}`);
    assert.ok(!p.notes.some((n) => /Ends the record with ~all/.test(n)), `-all is not weakened\n${show}`);
  });

  test('with a relay: Google kept, the relay added, -all kept (the QA scenario)', async () => {
    const { p, after, show } = await plan(['v=spf1 mx include:_spf.google.com', '-all'], {}, RELAY);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 mx include:_spf.google.com include:relay.mailchannels.net -all', show);
  });

  test('a no-break space (U+00A0) between two terms: replaced, and the note names the character', async () => {
    const { p, after, show } = await plan(['v=spf1 mx include:_spf.google.com\u00a0-all']);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 mx include:_spf.google.com -all', show);
    assert.ok(p.notes.some((n) => /^Separates include:_spf\.google\.com\\xa0-all into include:_spf\.google\.com -all: a no-break space \(U\+00A0\)/.test(n)), show);
  });

  test('two mechanisms run together at a join (ip4 then mx): separated', async () => {
    const { p, after, show } = await plan(['v=spf1 ip4:198.51.100.7', 'mx -all']);
    assert.equal(after, 'v=spf1 ip4:198.51.100.7 mx -all', show);
    assert.ok(p.notes.some((n) => n.startsWith('Separates ip4:198.51.100.7mx into ip4:198.51.100.7 mx')), show);
  });

  test('a name split mid-way that works as joined (a:mail.example.c + a) is left as it is', async () => {
    const { p, show } = await plan(['v=spf1 mx a:mail.example.c', 'a -all'], { 'mail.example.ca': { A: ['198.51.100.9'] } });
    assert.equal(p.changes.length, 0, show);
    assert.ok(!p.notes.some((n) => n.startsWith('Separates')), show);
  });

  test('a string split inside one term (include:_spf.goo + gle.com) is not taken apart', async () => {
    const { p, after, show } = await plan(['v=spf1 mx include:_spf.goo', 'gle.com -all']);
    assert.ok(!p.notes.some((n) => n.startsWith('Separates')), show);
    // Receivers read include:_spf.google.com: nothing to repair there.
    assert.ok(after === null || after.includes('include:_spf.google.com'), show);
  });

  test('no answer for the name as read: nothing separated on a failed lookup, the plan waits for DNS', async () => {
    const { p, show } = await plan(['v=spf1 mx include:_spf.google.com', '-all'], { '_spf.google.com-all': { TXT: 'TIMEOUT' } });
    assert.match(p.blocked ?? '', /DNS did not answer/, show);
  });
});

describe('SPF check: terms run together are reported as such, as the fix repairs them', () => {
  test('strings joined with no space: spf.syntax naming the join and the repair; no "no all term", no unknown term', async () => {
    const { ctx } = setup(['v=spf1 mx include:_spf.google.com', '-all']);
    const fs = await spfCheck(ctx);
    const show = fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''} | ${f.message}`).join('\n');
    const f = fs.find((x) => x.rule === 'spf.syntax' && x.subject === 'include:_spf.google.com-all');
    assert.ok(f, show);
    assert.equal(f.severity, 'fail');
    assert.equal(f.fix, 'spf', show);
    assert.match(f.message, /runs include:_spf\.google\.com -all together: .*RFC 7208 §3\.3.*The SPF fix separates them again\./);
    assert.ok(!fs.some((x) => x.rule === 'spf.weak-all'), `the record's -all is there, swallowed\n${show}`);
    assert.ok(!fs.some((x) => x.rule === 'spf.unknown-term'), show);
    assert.equal(fs.filter((x) => x.subject === 'include:_spf.google.com-all').length, 1, show);
  });

  test('a no-break space: one finding naming U+00A0 (and the record-level non-ASCII error not repeated)', async () => {
    const { ctx } = setup(['v=spf1 mx include:_spf.google.com\u00a0-all']);
    const fs = await spfCheck(ctx);
    const show = fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''} | ${f.message}`).join('\n');
    const syntax = fs.filter((x) => x.rule === 'spf.syntax');
    assert.equal(syntax.length, 1, show);
    assert.match(syntax[0].message, /a no-break space \(U\+00A0\) stands where a space belongs/);
    assert.ok(!fs.some((x) => x.rule === 'spf.weak-all'), show);
  });

  test('the server passes once separated: the only failures are the run-together term', async () => {
    const { ctx } = setup(['v=spf1 mx include:_spf.google.com', '-all']);
    const fs = await spfCheck(ctx);
    assert.deepEqual(
      fs.filter((f) => f.severity === 'fail').map((f) => f.rule),
      ['spf.syntax'],
      fs.map((f) => `${f.rule} ${f.message}`).join('\n'),
    );
  });
});

describe('SPF fix: a join is separated only where each piece works on its own', () => {
  test('include:nospf.example + a, where nospf.example publishes no SPF record: not taken apart', async () => {
    const { p, show } = await plan(['v=spf1 mx include:nospf.example', 'a -all'], { 'nospf.example': { A: ['198.51.100.1'] } });
    assert.ok(!p.notes.some((n) => n.startsWith('Separates')), show);
  });
});
