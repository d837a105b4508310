// An SPF exp= modifier left pointing at a previous host (`exp=explain.websitewelcome.com`, or at the old host the
// record's stale terms point to) was kept and not flagged: the classifier called every exp= "explanation text only".
// exp= authorises nobody, but receivers that reject a message for failing SPF put the TXT text found at its name into
// the rejection (RFC 7208 §6.2): the old host writes what the senders of the domain's rejected mail are told. Now its
// name is judged like any foreign name (src/core/spf/exp.ts, shared by the check and the fix): a previous host's is
// spf.stale-term (warn: it breaks no delivery, but it is a leftover under the old host's control) and the fix drops it
// with a note; one at the customer's own domain is kept; one nobody could identify is kept, with a note.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

const D = 'moved.example';

/** `records`: the apex SPF record(s); `zoneExtra`: more records of the panel's zone (old NS…). */
function setup(records: string[], extra: ZoneMap = {}, zoneExtra: ZoneRecord[] = [], settings: Partial<MailSettings> = {}) {
  const map: ZoneMap = { ...SPF_QA_WORLD, ...extra, [D]: { ...(extra[D] ?? {}), TXT: records.map((r) => [r]) } };
  const zone: ZoneRecord[] = [
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example', ref: 'ns1' },
    ...zoneExtra,
    ...records.map((r, i) => ({ name: D, ttl: 3600, type: 'TXT', value: r, txt: [r], ref: `spf${i}` }) as ZoneRecord),
  ];
  return { ctx: checkContext(D, map, settings, zone), zone };
}

async function run(records: string[], extra: ZoneMap = {}, zoneExtra: ZoneRecord[] = [], removeTerms?: string[]) {
  const { ctx, zone } = setup(records, extra, zoneExtra);
  const p = await planSpf(ctx, zone, removeTerms ? { removeTerms } : {});
  const after = p.changes.find((c) => c.after)?.after;
  const text = after ? (after.txt ?? [after.value]).join('') : null;
  const fs = await spfCheck(setup(records, extra, zoneExtra).ctx);
  const show = `after: ${text}\nblocked: ${p.blocked}\n${p.notes.join('\n')}\n--\n${fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''} | ${f.message}`).join('\n')}`;
  return { p, after: text, fs, show };
}

const OWN = `ip4:${SERVER_IP}`;

describe("SPF: exp= at a previous host's name", () => {
  test('a known previous host (knowledge: websitewelcome.com is HostGator): warned with the fix, and the fix drops it', async () => {
    const { p, after, fs, show } = await run([`v=spf1 ${OWN} exp=explain.websitewelcome.com -all`]);
    const f = fs.find((x) => x.subject === 'exp=explain.websitewelcome.com');
    assert.equal(f?.rule, 'spf.stale-term', show);
    assert.equal(f.severity, 'warn');
    assert.equal(f.fix, 'spf');
    assert.equal(f.classification?.class, 'stale');
    assert.equal(f.classification?.provider, 'hostgator');
    assert.match(f.message, /explain\.websitewelcome\.com.*RFC 7208 §6\.2.*It does not change who may send; the SPF fix drops it\./);
    assert.equal(after, `v=spf1 ${OWN} -all`, show);
    assert.ok(p.notes.some((n) => n.startsWith('Drops exp=explain.websitewelcome.com: ') && /RFC 7208 §6\.2/.test(n)), show);
  });

  test('beside the old host\'s include, the record otherwise as it should be: both go, nothing else changes', async () => {
    const { after, fs, show } = await run([`v=spf1 ${OWN} include:websitewelcome.com exp=explain.websitewelcome.com -all`]);
    assert.equal(after, `v=spf1 ${OWN} -all`, show);
    assert.deepEqual(
      fs.filter((f) => f.rule === 'spf.stale-term').map((f) => f.subject),
      ['include:websitewelcome.com', 'exp=explain.websitewelcome.com'],
      show,
    );
  });

  test('the old nameservers the zone still lists name the old host: an exp= there is stale', async () => {
    const oldNs: ZoneRecord = { name: D, ttl: 3600, type: 'NS', value: 'ns1.oldhost.example', ref: 'old-ns' };
    const { after, fs, show } = await run([`v=spf1 ${OWN} exp=explain.oldhost.example -all`], {}, [oldNs]);
    assert.equal(fs.find((x) => x.subject === 'exp=explain.oldhost.example')?.rule, 'spf.stale-term', show);
    assert.equal(after, `v=spf1 ${OWN} -all`, show);
  });

  test("at the organisation the record's stale include points to (identified by its address): stale too", async () => {
    const extra: ZoneMap = {
      'spf.oldhost.example': { A: ['192.185.1.20'], TXT: [['v=spf1 ip4:192.185.1.0/24 ~all']] },
      '20.1.185.192.in-addr.arpa': { PTR: ['gator4020.hostgator.com'] },
    };
    const { after, p, fs, show } = await run([`v=spf1 ${OWN} include:spf.oldhost.example exp=explain.oldhost.example -all`], extra);
    assert.equal(fs.find((x) => x.subject === 'include:spf.oldhost.example')?.rule, 'spf.stale-term', show);
    const f = fs.find((x) => x.subject === 'exp=explain.oldhost.example');
    assert.equal(f?.rule, 'spf.stale-term', show);
    assert.match(f.message, /at oldhost\.example, as include:spf\.oldhost\.example is/);
    assert.equal(after, `v=spf1 ${OWN} -all`, show);
    assert.ok(p.notes.some((n) => n.startsWith('Drops exp=explain.oldhost.example: explain.oldhost.example is at oldhost.example')), show);
  });

  test('two records merged, the first one\'s exp= stale: the other record\'s own exp= is the one kept', async () => {
    const { after, show } = await run([`v=spf1 ${OWN} exp=explain.websitewelcome.com -all`, `v=spf1 mx exp=why.moved.example -all`], {
      [D]: { MX: [{ priority: 10, exchange: 'server1.newhost.example' }] },
    });
    assert.equal(after, `v=spf1 ${OWN} mx exp=why.moved.example -all`, show);
  });
});

describe('SPF: exp= the fix keeps', () => {
  test("at the customer's own domain: kept, info, no fix offered", async () => {
    const { p, after, fs, show } = await run([`v=spf1 ${OWN} exp=explain.moved.example -all`]);
    assert.equal(after, null, show);
    assert.deepEqual(p.notes, [], show);
    const f = fs.find((x) => x.subject === 'exp=explain.moved.example');
    assert.equal(f?.rule, 'spf.term', show);
    assert.equal(f.severity, 'info');
    assert.equal(f.fix, undefined);
    assert.ok(fs.some((x) => x.rule === 'spf.ok'), show);
  });

  test('at the domain itself through a macro (exp=explain._spf.%{d}): the customer\'s own', async () => {
    const { after, fs, show } = await run([`v=spf1 ${OWN} exp=explain._spf.%{d} -all`]);
    assert.equal(after, null, show);
    assert.equal(fs.find((x) => x.subject === 'exp=explain._spf.%{d}')?.rule, 'spf.term', show);
  });

  test('at a name nobody could identify: kept with a note, spf.unknown-term (info)', async () => {
    const { p, after, fs, show } = await run([`v=spf1 ${OWN} include:_spf.google.com exp=explain.somewhere.example -all`]);
    assert.equal(after, null, show);
    assert.ok(p.notes.some((n) => n.startsWith('Keeps exp=explain.somewhere.example: ')), show);
    const f = fs.find((x) => x.subject === 'exp=explain.somewhere.example');
    assert.equal(f?.rule, 'spf.unknown-term', show);
    assert.equal(f.severity, 'info');
  });

  test('an unknown exp= you selected for removal goes', async () => {
    const { p, after, show } = await run([`v=spf1 ${OWN} exp=explain.somewhere.example -all`], {}, [], ['exp=explain.somewhere.example']);
    assert.equal(after, `v=spf1 ${OWN} -all`, show);
    assert.ok(p.notes.some((n) => n.startsWith('Removes exp=explain.somewhere.example (you selected it)')), show);
  });

  test('its name did not answer: kept (nothing decided on a failed lookup), and the note says to preview again', async () => {
    const extra: ZoneMap = { 'explain.websitewelcome-like.example': { A: 'TIMEOUT', AAAA: 'TIMEOUT' } };
    const { p, after, fs, show } = await run([`v=spf1 ${OWN} exp=explain.websitewelcome-like.example -all`], extra);
    assert.equal(after, null, show);
    assert.ok(p.notes.some((n) => n.startsWith('Keeps exp=explain.websitewelcome-like.example: ') && /Preview the fix again when DNS answers/.test(n)), show);
    assert.ok(!fs.some((x) => x.rule === 'spf.stale-term'), show);
  });
});
