// The SPF fix on terms whose only macros are %{d} and %{o}: it judges each by the name receivers look up for the
// domain's mail (src/core/spf/tree.ts termTarget) as it judges a plain term — drops an a/mx of a name that does not
// exist, drops a previous host's redirect= and keeps the policy of the record it led to (following redirect=%{d}… there
// as receivers do) — and never rewrites one: a term it keeps stays as written.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'macro-plan.example';

async function plan(spf: string, more: ZoneMap = {}) {
  const map: ZoneMap = { [D]: { TXT: [[spf]], A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }] }, [`mail.${D}`]: { A: [SERVER_IP] }, ...more };
  const zone: ZoneRecord[] = [{ name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' }];
  const p = await planSpf(checkContext(D, map, {}, zone), zone, {});
  const after = p.changes.find((c) => c.after)?.after;
  return { p, after: after ? (after.txt ?? [after.value]).join('') : null, show: `${p.blocked ?? ''}\n${p.notes.join('\n')}` };
}

describe('SPF fix: terms with %{d} and %{o} judged by the name they expand to, kept as written', () => {
  test('a:%{d}.<a name that does not exist> is dropped, the name said', async () => {
    const { p, after, show } = await plan(`v=spf1 ip4:${SERVER_IP} a:%{d}.gone.example exists:%{o}.list.example ?all`, { [`${D}.list.example`]: { A: ['127.0.0.2'] } });
    assert.equal(p.blocked, undefined, show);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} exists:%{o}.list.example ~all`, show);
    assert.ok(p.notes.includes(`Drops a:%{d}.gone.example: ${D}.gone.example does not exist, so it authorises nobody and each receiver counts a void lookup for it (more than 2 are a permanent error).`), show);
  });

  test("a previous host's redirect=%{d}.<its name> is dropped, and the record keeps the -all the record it led to applied", async () => {
    const { after, show } = await plan(`v=spf1 ip4:${SERVER_IP} redirect=%{d}._spf.websitewelcome.com`, { [`${D}._spf.websitewelcome.com`]: { TXT: [['v=spf1 ip4:192.185.0.0/16 -all']] } });
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} -all`, show);
    assert.match(show, new RegExp(`Ends the record with -all, as ${D.replace(/\./g, '\\.')}\\._spf\\.websitewelcome\\.com's record does`));
  });

  test('the dropped redirect\'s record hands on with redirect=%{d}.…: followed with %{d} that record\'s name', async () => {
    const { after, show } = await plan(`v=spf1 ip4:${SERVER_IP} redirect=_spf.websitewelcome.com`, {
      '_spf.websitewelcome.com': { TXT: [['v=spf1 ip4:192.185.0.0/16 redirect=%{d}.final.example']] },
      '_spf.websitewelcome.com.final.example': { TXT: [['v=spf1 -all']] },
    });
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} -all`, show);
    assert.match(show, /Ends the record with -all, as _spf\.websitewelcome\.com\.final\.example's record does/);
  });

  test('an include with %{d} that works is kept as written while the fix changes the rest', async () => {
    const { after, show } = await plan(`v=spf1 include:%{d}._spf.mailer.example ip4:${SERVER_IP} ?all`, { [`${D}._spf.mailer.example`]: { TXT: [['v=spf1 ip4:198.51.100.0/24 ~all']] } });
    assert.equal(after, `v=spf1 include:%{d}._spf.mailer.example ip4:${SERVER_IP} ~all`, show);
  });
});
