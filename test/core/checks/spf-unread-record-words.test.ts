// A TXT record meant as SPF that receivers do not read as one (`v=spf1` followed by a no-break space, or published as
// a string of its own): receivers find no SPF record today (result none, RFC 7208 §4.5). The check judges the record
// as the fix will write it, and its findings about that record — errors, limits, +all — are said as what holds once
// receivers read it, not as what they do today (review: `"v=spf1\u00a0a" "-all"` was said to make receivers "fail the
// whole record (permerror)" beside the finding that they find no SPF record at all).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { checkContext } from './context.js';

const D = 'shop.example';
const ONCE = /^Once receivers read the TXT records? meant as SPF as (one|SPF records) \(today they find no SPF record, see spf\.syntax\): /;

async function findings(txt: string[][], extra: Record<string, Record<string, unknown>> = {}) {
  const zone: ZoneRecord[] = txt.map((t) => ({ name: D, ttl: 3600, type: 'TXT', value: t.join(''), txt: t }));
  const ctx = checkContext(D, { [D]: { TXT: txt, A: ['192.0.2.1'] }, ...extra } as never, { ips: ['192.0.2.1'] } as Partial<MailSettings>, zone);
  return spfCheck(ctx);
}

test('a record receivers do not read as SPF: its own findings say what holds once they read it', async () => {
  const gone = { 'gone1.example': {}, 'gone2.example': {}, 'gone3.example': {}, 'nospf.example': { TXT: [['hello']] } };
  for (const [txt, rule, claim] of [
    [['v=spf1\u00a0a', '-all'], 'spf.syntax', /runs a -all together[^]*receivers fail the whole record \(permerror\)/],
    [['v=spf1\u00a0a +all'], 'spf.permissive-all', /\+all: it authorises every server/],
    [['v=spf1\u00a0a a:gone1.example a:gone2.example a:gone3.example -all'], 'spf.void-lookups', /receivers return permerror/],
    [['v=spf1', 'a foo:bar -all'], 'spf.syntax', /unknown mechanism "foo"/],
    [['v=spf1\u00a0a include:nospf.example -all'], 'spf.unknown-term', /receivers return permerror for all mail/],
  ] as const) {
    const fs = await findings([[...txt]], gone);
    // Today: no SPF record at all, said once, unprefixed.
    const unread = fs.filter((f) => f.rule === 'spf.syntax' && /is meant as the SPF record, but/.test(f.message));
    assert.equal(unread.length, 1, JSON.stringify(txt));
    assert.match(unread[0].message, /they find no SPF record at all \(SPF result none\)/);
    assert.doesNotMatch(unread[0].message, ONCE);
    const f = fs.find((x) => x.rule === rule && claim.test(x.message));
    assert.ok(f, `${JSON.stringify(txt)}: ${rule} ${fs.map((x) => x.message).join(' | ')}`);
    assert.match(f.message, ONCE, f.message);
    // The authorisation finding speaks of today (result none) and is not prefixed.
    const auth = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.ok(auth);
    assert.match(auth.message, /check_host = none/);
    assert.doesNotMatch(auth.message, ONCE);
    // Every finding that says what receivers do with the record's terms is prefixed.
    for (const x of fs) {
      if (x === unread[0] || x === auth || x.rule === 'spf.term') continue;
      if (/receivers|permerror|authorises every/.test(x.message.replace(ONCE, ''))) assert.match(x.message, ONCE, x.message);
    }
  }
});

test('notes that say nothing of receivers, and records receivers do read, are not prefixed', async () => {
  const fs = await findings([['v=spf1\u00a0a include:i1.example -all']], { 'i1.example': { TXT: [['v=spf1 -all']] } });
  const note = fs.find((x) => x.rule === 'spf.unknown-term' && /i1\.example/.test(x.message));
  assert.ok(note, fs.map((x) => x.message).join(' | '));
  assert.doesNotMatch(note.message, ONCE);
  // The same record with an ASCII space: receivers read it, and its findings speak of today.
  const read = await findings([['v=spf1 a +all']]);
  const all = read.find((x) => x.rule === 'spf.permissive-all');
  assert.ok(all);
  assert.match(all.message, /^The record ends in \+all/);
  for (const x of read) assert.doesNotMatch(x.message, ONCE);
});
