// cPanel / WHM zones with text that is not ASCII (cpanel.md §3: parse_zone's base64 decodes to any octets; §4.2:
// mass_edit_zone takes printable ASCII only). Read: UTF-8 text reads as typed. Write: a mail record holding such text
// could not be put back by an undo, so fixes on that zone are blocked at preview, and nothing non-ASCII is ever sent.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { CpanelPanel } from '../../../../src/adapters/panels/cpanel/index.js';
import { UapiHttp } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { decodeZone, massEditParams, splitTxt, type ParseZoneItem } from '../../../../src/adapters/panels/cpanel/zonefile.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { decodeTxtStrings } from '../../../../src/adapters/dns/wire.js';
import { WhmHttp, WhmPanel } from '../../../../src/adapters/panels/whm/index.js';
import { auditDomain } from '../../../../src/core/audit.js';
import { openStore } from '../../../../src/adapters/store/store.js';
import { applyPlan } from '../../../../src/core/plans/apply.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { PanelError } from '../../../../src/core/panel.js';
import { makeCpState, startCpanelServer, zoneView, type CpState } from '../../../helpers/emulators/cpanel.js';
import { startWhmServer } from '../../../helpers/emulators/whm.js';
import { MapResolver, zoneToMap } from '../../../helpers/map-resolver.js';

const FIXED = new Date('2027-03-01T12:00:00.000Z');
const Z = 'alice.example';
/** The zone file's octets as the emulator holds them: one character per octet. */
const octets = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function setup(change: (s: CpState) => void): Promise<{ state: CpState; panel: CpanelPanel; whm: WhmPanel }> {
  const state = makeCpState();
  change(state);
  const srv = await startCpanelServer(state);
  const wsrv = await startWhmServer(state);
  cleanup.push(async () => {
    await srv.close();
    await wsrv.close();
  });
  const panel = new CpanelPanel({ transport: new UapiHttp(new PanelHttpClient({ baseUrl: srv.url, headers: { authorization: 'cpanel alice:tok-alice' } })), user: 'alice' });
  const whm = new WhmPanel({ transport: new WhmHttp(new PanelHttpClient({ baseUrl: wsrv.url, headers: { authorization: 'whm root:tok-root' } })), user: 'root', root: null });
  return { state, panel, whm };
}

const addTxt = (s: CpState, dname: string, value: string) => s.zones[Z].lines.push({ kind: 'record', dname, ttl: 14400, type: 'TXT', data: [octets(value)] });
const OWNED = 'v=DMARC1; p=reject; rua=mailto:équipe@alice.example';
const NOTE = 'Politique DMARC gérée par l’équipe';
const SPF_NBSP = 'v=spf1 +a +mx include:websitewelcome.com\u00a0~all'; // a no-break space pasted from a web page

describe('parse_zone text', () => {
  it('UTF-8 octets read as the text typed; other octets one character each (no byte lost), as the wire resolver reads them', async () => {
    const items: ParseZoneItem[] = [
      { line_index: 0, type: 'record', record_type: 'SOA', ttl: 86400, dname_b64: b64(`${Z}.`), data_b64: ['ns1.', 'h.', '2024061100', '1', '1', '1', '1'].map(b64) },
      { line_index: 1, type: 'record', record_type: 'TXT', ttl: 14400, dname_b64: b64('note'), data_b64: [b64('café '), b64('noté')] },
      { line_index: 2, type: 'record', record_type: 'TXT', ttl: 14400, dname_b64: b64('bin'), data_b64: [Buffer.from([0x61, 0xe9, 0x62]).toString('base64')] },
    ];
    const z = decodeZone(Z, items);
    assert.deepEqual(z.records.find((r) => r.name === `note.${Z}`)?.txt, ['café ', 'noté']);
    assert.equal(z.records.find((r) => r.name === `note.${Z}`)?.value, 'café noté');
    // A byte that is not part of a UTF-8 character: the lone surrogate U+DC00+byte, exactly as wire.ts decodes it live.
    assert.equal(z.records.find((r) => r.name === `bin.${Z}`)?.value, 'a\udce9b');
    assert.deepEqual(z.records.find((r) => r.name === `bin.${Z}`)?.txt, decodeTxtStrings([Buffer.from([0x61, 0xe9, 0x62])]));

    // A character split across two strings (as a 255-octet split leaves it) reads whole, as live DNS gives it.
    const e = Buffer.from('é');
    const split = decodeZone(Z, [{ line_index: 3, type: 'record', record_type: 'TXT', ttl: 14400, dname_b64: b64('split'), data_b64: [Buffer.concat([Buffer.from('a'), e.subarray(0, 1)]).toString('base64'), Buffer.concat([e.subarray(1), Buffer.from('z')]).toString('base64')] }]);
    assert.equal(split.records[0].value, 'aéz');

    const { panel } = await setup((s) => addTxt(s, '_dmarc', NOTE));
    assert.ok((await panel.readZone(Z)).records.some((r) => r.name === `_dmarc.${Z}` && r.value === NOTE));
  });
});

describe('non-ASCII mail records and fixes', () => {
  it('a mail record with non-ASCII text blocks fixes at preview, naming it; nothing is written', async () => {
    // A record the DMARC fix owns (meant as DMARC) with non-ASCII text; a note beside it is not the fix's (below).
    const { state, panel, whm } = await setup((s) => {
      addTxt(s, '_dmarc', 'v=DMARC1; p=none; rua=mailto:postmaster@alice.example');
      addTxt(s, '_dmarc', OWNED);
    });
    const z = await panel.readZone(Z);
    assert.match(z.writeBlocked ?? '', /_dmarc\.alice\.example \(U\+00E9 in "v=DMARC1; p=reject; rua=mailto:équipe@alice\.example"\).*not printable ASCII.*could not be undone/);
    assert.equal((await whm.readZone(Z)).writeBlocked, z.writeBlocked, 'WHM reads the same');
    const resolver = { resolve: async <T extends Parameters<MapResolver['resolve']>[1]>(name: string, type: T) => new MapResolver(zoneToMap(await panel.readZone(Z))).resolve(name, type) };
    const dir = mkdtempSync(join(tmpdir(), 'mh-cpanel-utf8-'));
    const store = openStore(join(dir, 'h.sqlite'), { now: () => FIXED.getTime() });
    cleanup.push(() => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const deps = { panel, resolver, history: store, byUser: 'alice', now: () => FIXED };
    const plan = await makePlan({ domain: Z, check: 'dmarc' }, deps);
    assert.ok(plan.changes.some((c) => c.action === 'remove' && c.before?.value === OWNED), 'the fix would remove the record');
    assert.equal(plan.blocked, z.writeBlocked);
    const before = JSON.stringify(state.zones[Z]);
    const out = await applyPlan({ domain: Z, check: 'dmarc', planHash: plan.planHash }, deps);
    assert.equal(out.status, 'refused');
    assert.equal(JSON.stringify(state.zones[Z]), before);

    // The SPF record itself (a pasted no-break space): the SPF check reports it; its fix is blocked the same way.
    const spf = await setup((s) => {
      const l = s.zones[Z].lines.find((x) => x?.kind === 'record' && x.type === 'TXT' && x.dname === `${Z}.`);
      if (l?.kind === 'record') l.data = [octets(SPF_NBSP)];
    });
    assert.match((await spf.panel.readZone(Z)).writeBlocked ?? '', /alice\.example \(U\+00A0/);
    const audit = await auditDomain(Z, { panel: spf.panel, resolver: new MapResolver(zoneToMap(await spf.panel.readZone(Z))), now: () => FIXED, checks: ['spf'] });
    assert.ok(audit.findings.some((f) => f.rule === 'spf.syntax' && /\\xa0/.test(f.message)), audit.findings.map((f) => f.message).join('\n'));
  });

  it('a TXT meant as SPF with a no-break space after v=spf1 does not block the zone (review): the SPF fix rewrites it', async () => {
    const near = 'v=spf1\u00a0+a +mx ~all';
    const { panel } = await setup((s) => {
      const l = s.zones[Z].lines.find((x) => x?.kind === 'record' && x.type === 'TXT' && x.dname === `${Z}.`);
      if (l?.kind === 'record') l.data = [octets(near)];
    });
    const z = await panel.readZone(Z);
    assert.equal(z.writeBlocked, undefined);
    const plan = await makePlan({ domain: Z, check: 'spf' }, { panel, resolver: new MapResolver(zoneToMap(z)), now: () => FIXED });
    assert.equal(plan.blocked, undefined);
    assert.ok(plan.changes.some((c) => c.action === 'edit' && c.before?.value === near), JSON.stringify(plan.changes));
  });

  it('non-ASCII text no fix touches (another TXT) blocks nothing', async () => {
    const { panel } = await setup((s) => addTxt(s, 'note', NOTE));
    const z = await panel.readZone(Z);
    assert.equal(z.writeBlocked, undefined);
    assert.equal(z.records.find((r) => r.name === `note.${Z}`)?.value, NOTE);
  });

  it('a non-ASCII note at _dmarc that is not a DMARC record blocks nothing: the DMARC fix leaves it', async () => {
    const { panel } = await setup((s) => {
      addTxt(s, '_dmarc', 'v=DMARC1; p=none; rua=mailto:dmarc@websitewelcome.com');
      addTxt(s, '_dmarc', NOTE);
    });
    const z = await panel.readZone(Z);
    assert.equal(z.writeBlocked, undefined);
    const resolver = new MapResolver(zoneToMap(z));
    const plan = await makePlan({ domain: Z, check: 'dmarc' }, { panel, resolver, now: () => FIXED });
    assert.equal(plan.blocked, undefined);
    assert.ok(plan.changes.length > 0, 'the stale report address is fixed');
    assert.ok(!plan.changes.some((c) => c.before?.value === NOTE), 'the note is not touched');
  });

  it('a write of non-ASCII TXT (an undo putting such a record back) is refused before anything is sent', async () => {
    const { state, panel } = await setup(() => {});
    const z = await panel.readZone(Z);
    const calls = state.calls.length;
    await assert.rejects(
      panel.applyChanges(Z, [{ action: 'add', name: `_dmarc.${Z}`, type: 'TXT', ttl: 3600, before: null, after: { name: `_dmarc.${Z}`, ttl: 3600, type: 'TXT', value: NOTE, txt: [NOTE] } }], z.version),
      (e: unknown) => e instanceof PanelError && e.code === 'unsupported' && /_dmarc\.alice\.example.*U\+00E9.*nothing was sent to cPanel/.test(e.message),
    );
    assert.ok(!state.calls.slice(calls).some((c) => c.startsWith('DNS::mass_edit_zone')), 'nothing sent');
    assert.throws(() => massEditParams(Z, '1', [{ action: 'add', name: `x.${Z}`, type: 'TXT', ttl: 300, before: null, after: { name: `x.${Z}`, ttl: 300, type: 'TXT', value: '\u00a0' } }]), PanelError);
    assert.equal(zoneView(state, Z).filter((r) => r.name === `_dmarc.${Z}`).length, 0);
  });

  it('TXT text is cut into ≤255-byte strings on character boundaries', () => {
    const chunks = splitTxt('é'.repeat(200));
    assert.deepEqual(chunks.map((c) => Buffer.byteLength(c, 'utf8')), [254, 146]);
    assert.equal(chunks.join(''), 'é'.repeat(200));
    assert.deepEqual(splitTxt('a'.repeat(300)).map((c) => c.length), [255, 45]);
    assert.deepEqual(splitTxt(''), ['']);
  });
});
