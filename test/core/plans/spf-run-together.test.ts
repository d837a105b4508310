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

// QA pass 2: (1) `v=spf1` with a no-break space or byte-order mark beside it, or `"v=spf1" "mx …"` joined with no space,
// was reported as spf.missing and the fix ADDED a second record beside it, losing its terms. It is the SPF record
// meant: the check names the version tag, the fix rewrites that TXT record in place, terms and all. (2) A modifier at
// a join (`include:_spf.google.com` + `exp=…`) was not separated, and Google was dropped. (3) One term with a stray
// no-break space after it was "separated into" itself: the wording now says a stray character is removed.
describe('SPF: a version tag receivers do not recognise (the record meant, rewritten in place)', () => {
  const cases: [string, string[], string][] = [
    ['a no-break space right after v=spf1', ['v=spf1\u00a0include:_spf.google.com -all'], /a no-break space \(U\+00A0\) stands right after v=spf1/.source],
    ['a byte-order mark before v=spf1', ['\ufeffv=spf1 include:_spf.google.com -all'], /a byte-order mark \(U\+FEFF\) stands before v=spf1/.source],
    ['"v=spf1" as a string of its own, joined with no space', ['v=spf1', 'include:_spf.google.com -all'], /the first of them "v=spf1" with no space after it.*RFC 7208 §3\.3/.source],
  ];
  for (const [name, strings, why] of cases) {
    test(`${name}: the fix edits that record, keeping include:_spf.google.com and -all (no second record)`, async () => {
      const { p, after, show } = await plan(strings);
      assert.equal(p.blocked, undefined, show);
      assert.deepEqual(
        p.changes.map((c) => c.action),
        ['edit'],
        show,
      );
      assert.equal(p.changes[0].before?.value, strings.join(''), show);
      assert.equal(after, 'v=spf1 include:_spf.google.com ip4:203.0.113.10 -all', show);
      assert.ok(p.notes.some((n) => n.startsWith('Rewrites the TXT record') && new RegExp(why).test(n) && /RFC 7208 §4\.5/.test(n)), show);
    });
    test(`${name}: the check says spf.syntax naming the version tag, with the fix — not spf.missing`, async () => {
      const { ctx } = setup(strings);
      const fs = await spfCheck(ctx);
      const show = fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''} | ${f.message}`).join('\n');
      assert.ok(!fs.some((f) => f.rule === 'spf.missing'), show);
      const f = fs.find((x) => x.rule === 'spf.syntax');
      assert.ok(f, show);
      assert.equal(f.fix, 'spf', show);
      assert.match(f.message, new RegExp(`is meant as the SPF record, but .*${why}.*The SPF fix rewrites it in place, keeping its terms\\.`));
    });
  }

  test('with a relay: the record rewritten, Google kept, the relay added', async () => {
    const { p, after, show } = await plan(['v=spf1\u00a0include:_spf.google.com -all'], {}, RELAY);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 include:_spf.google.com include:relay.mailchannels.net -all', show);
  });

  test('"v=spf10 …" or other text is not taken for an SPF record', async () => {
    const { p, show } = await plan(['v=spf1', '0 include:_spf.google.com -all']);
    assert.equal(p.changes[0]?.action, 'add', show);
  });
});

describe('SPF fix: a modifier at a string join is separated too', () => {
  test('include:_spf.google.com + exp=…: Google and exp= kept', async () => {
    const { p, after, show } = await plan(['v=spf1 mx include:_spf.google.com', 'exp=explain.split.example -all']);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 mx include:_spf.google.com exp=explain.split.example -all', show);
    assert.ok(p.notes.some((n) => n.startsWith('Separates include:_spf.google.comexp=explain.split.example into include:_spf.google.com exp=explain.split.example')), show);
  });

  test('ip4 + redirect=: both kept', async () => {
    const { p, after, show } = await plan(['v=spf1 mx ip4:203.0.113.10', 'redirect=_spf.google.com']);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 mx ip4:203.0.113.10 redirect=_spf.google.com', show);
  });
});

describe('SPF: one term with a stray no-break space', () => {
  test('fix note and check message say a stray character is removed (not "separates -all\\xa0 into -all")', async () => {
    const strings = ['v=spf1 include:_spf.google.com -all\u00a0'];
    const { p, show } = await plan(strings);
    assert.ok(p.notes.some((n) => n.startsWith('Removes a no-break space (U+00A0) from -all\\xa0, leaving -all: ')), show);
    assert.ok(!p.notes.some((n) => n.startsWith('Separates')), show);
    const fs = await spfCheck(setup(strings).ctx);
    const f = fs.find((x) => x.rule === 'spf.syntax');
    assert.match(f?.message ?? '', /^The SPF record has a no-break space \(U\+00A0\) in -all: .*The SPF fix removes the stray character\.$/);
    assert.ok(!/runs -all together/.test(f?.message ?? ''));
  });
});

test('apply’s ownership guard lets the SPF fix rewrite a record meant as SPF (version tag run together), never write one', async () => {
  const { ownershipProblem } = await import('../../../src/core/plans/plan.js');
  const D = 'guard.example';
  const near = { name: D, ttl: 3600, type: 'TXT', value: 'v=spf1\u00a0include:_spf.google.com -all' };
  const spf = { name: D, ttl: 3600, type: 'TXT', value: 'v=spf1 include:_spf.google.com include:relay.mailchannels.net -all' };
  const token = { name: D, ttl: 3600, type: 'TXT', value: 'google-site-verification=abc' };
  assert.equal(ownershipProblem('spf', D, 'default', [{ action: 'edit', name: D, type: 'TXT', ttl: 3600, before: near, after: spf }]), null);
  assert.match(ownershipProblem('spf', D, 'default', [{ action: 'edit', name: D, type: 'TXT', ttl: 3600, before: spf, after: near }]) ?? '', /non-SPF TXT/);
  assert.match(ownershipProblem('spf', D, 'default', [{ action: 'edit', name: D, type: 'TXT', ttl: 3600, before: token, after: spf }]) ?? '', /non-SPF TXT/);
});

describe('review: records meant as SPF', () => {
  test('"v=spf1" "mx" "-all" (three strings) is the record meant: rewritten in place, terms kept', async () => {
    const { p, after, show } = await plan(['v=spf1', 'mx', '-all']);
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, 'v=spf1 mx -all', show);
    assert.ok(p.changes.every((c) => c.action !== 'add'), `rewritten in place, nothing added beside it\n${show}`);
  });
  test('a no-break space followed by text that is no SPF term (a verification token) is not taken for SPF', async () => {
    const { versionRunTogether } = await import('../../../src/core/spf/joins.js');
    assert.equal(versionRunTogether(['v=spf1\u00a0google-site-verification=abc']), null);
    assert.notEqual(versionRunTogether(['v=spf1\u00a0redirect=_spf.google.com']), null);
  });
  test('two records meant as SPF: spf.multiple says receivers read none (result none), not permerror', async () => {
    const strings = ['v=spf1\u00a0mx -all'];
    const second = ['v=spf1\u00a0a -all'];
    const map: ZoneMap = { ...SPF_QA_WORLD, [D]: { MX: [{ priority: 10, exchange: 'server1.newhost.example' }], TXT: [strings, second] } };
    const zone: ZoneRecord[] = [strings, second].map((s, i) => ({ name: D, ttl: 3600, type: 'TXT', value: s.join(''), txt: s, ref: `r${i}` }));
    const findings = await spfCheck(checkContext(D, map, {}, zone));
    const m = findings.find((f) => f.rule === 'spf.multiple');
    assert.ok(m, findings.map((f) => f.rule).join(', '));
    assert.match(m.message, /meant as the SPF record, and receivers read none of them \(SPF result none\)/);
    assert.doesNotMatch(m.message, /permanent error/);
  });
});
