// The SPF fix and an exists: term whose name does not exist (NXDOMAIN, for every sender: no macro, or only %{d}/%{o}):
// it matches no sender and costs each receiver a void lookup, as an a:/mx: of a name that does not exist — which the
// fix drops. spf.void-lookups says "Remove the terms whose names no longer exist (the SPF fix drops those)" and offers
// the fix; with the void lookups all from such exists: terms, the fix kept them (review of the void-lookups wording).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'exists-gone.example';

async function run(spf: string, more: ZoneMap = {}) {
  const map: ZoneMap = { [D]: { TXT: [[spf]], A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }] }, [`mail.${D}`]: { A: [SERVER_IP] }, ...more };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' }];
  const ctx = checkContext(D, map, {}, zone);
  const findings = await spfCheck(ctx);
  const p = await planSpf(ctx, zone, {});
  const after = p.changes.find((c) => c.after)?.after;
  return { findings, p, after: after ? (after.txt ?? [after.value]).join('') : null, show: `${p.blocked ?? ''}\n${p.notes.join('\n')}` };
}

describe('SPF fix: exists: of a name that does not exist', () => {
  test('three such terms past the void limit: spf.void-lookups offers the fix, which drops them; the fixed record passes', async () => {
    const spf = `v=spf1 ip4:${SERVER_IP} exists:gone1.example exists:%{d}.gone2.example -exists:gone3.example ~all`;
    const { findings, p, after, show } = await run(spf);
    const voids = findings.find((f) => f.rule === 'spf.void-lookups');
    assert.ok(voids && voids.fix === 'spf', findings.map((f) => f.rule).join(', '));
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} ~all`, show);
    assert.ok(p.notes.includes('Drops exists:gone1.example: gone1.example does not exist, so it authorises nobody and each receiver counts a void lookup for it (more than 2 are a permanent error).'), show);
    assert.ok(p.notes.some((n) => n.startsWith(`Drops -exists:gone3.example: gone3.example does not exist`)), show);
    const again = await run(after!);
    assert.ok(again.findings.some((f) => f.rule === 'spf.ok'), again.findings.map((f) => f.rule).join(', '));
  });

  test('a name built with %{o} stays, even when it does not exist for this domain: for a domain that includes this record, %{o} is that domain', async () => {
    const spf = `v=spf1 ip4:${SERVER_IP} exists:%{o}._allow.list.example a:%{o}.gone.example ~all`;
    const { after, show } = await run(spf);
    assert.ok(after === null || after.includes('exists:%{o}._allow.list.example a:%{o}.gone.example'), show);
    assert.ok(!show.includes('Drops exists:%{o}') && !show.includes('Drops a:%{o}'), show);
  });

  test('an exists: whose name exists (with or without an address), or whose name depends on the sender, stays', async () => {
    const spf = `v=spf1 ip4:${SERVER_IP} exists:listed.example exists:empty.example exists:%{i}.list.example ~all`;
    const { after, show } = await run(spf, { 'listed.example': { A: ['127.0.0.2'] }, 'empty.example': { TXT: [['x']] } });
    // Nothing to drop: the record is left as it is (or rewritten with every exists: term kept).
    assert.ok(after === null || after.includes('exists:listed.example exists:empty.example exists:%{i}.list.example'), show);
  });
});
