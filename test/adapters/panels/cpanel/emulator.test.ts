// The cPanel / WHM emulators (test/helpers/emulators) against cpanel.md and the cPanel source it cites: a test of the
// test rig, so that the adapter tests run against the server cPanel is, not a friendlier one (QA's emulator deviations).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorityItem, makeCpState, massEdit, uapiCall, zoneView, type CpState, type Params } from '../../../helpers/emulators/cpanel.js';
import { whmCall } from '../../../helpers/emulators/whm.js';

const Z = 'alice.example';
const serialOf = (st: CpState) => String(st.zones[Z].serial);
const txt = (dname: string, value: string, extra: Record<string, unknown> = {}) => JSON.stringify({ dname, ttl: 14400, record_type: 'TXT', data: [value], ...extra });

describe('cPanel emulator: what a save does (cpanel.md §4.4, Cpanel::ZoneFile::LineEdit::save)', () => {
  it('a removed record’s line goes: the records after it move up by one; those before keep their line', () => {
    const st = makeCpState();
    const before = zoneView(st, Z);
    const spf = before.find((r) => r.name === Z && r.type === 'TXT')!;
    const r = massEdit(st, Z, [['zone', Z], ['serial', serialOf(st)], ['remove', String(spf.line)]], null);
    assert.equal(r.ok, true);
    const after = zoneView(st, Z);
    assert.equal(after.length, before.length - 1);
    for (const b of before) {
      if (b.line === spf.line || b.type === 'SOA') continue;
      const moved = b.line > spf.line ? b.line - 1 : b.line;
      assert.deepEqual(after.find((x) => x.line === moved), { ...b, line: moved }, `${b.name} ${b.type}`);
    }
  });

  it('the blank lines padding a removed record go with it; an add is appended after the last record', () => {
    const st = makeCpState();
    const z = st.zones[Z];
    const i = z.lines.findIndex((l) => l?.kind === 'record' && l.dname === '_mailchannels');
    z.lines.splice(i + 1, 0, null, null); // _mailchannels spanned three lines (a multi-line record, or blank lines after it)
    const next = zoneView(st, Z).find((r) => r.line > i)!;
    const r = massEdit(st, Z, [['zone', Z], ['serial', serialOf(st)], ['remove', String(i)], ['add', txt('_dmarc', 'v=DMARC1; p=none')]], null);
    assert.equal(r.ok, true);
    const after = zoneView(st, Z);
    assert.equal(after.find((x) => x.name === next.name && x.type === next.type)?.line, i, 'the next record now starts where the removed one did');
    assert.equal(after[after.length - 1].name, `_dmarc.${Z}`);
  });

  it('the serial becomes YYYYMMDD00 when that is larger, else old + 1', () => {
    const st = makeCpState();
    st.serialDate = '20270301';
    const line = zoneView(st, Z).find((r) => r.type === 'A')!.line;
    const edit = (ttl: number) => JSON.stringify({ line_index: line, dname: Z + '.', ttl, record_type: 'A', data: ['203.0.113.10'] });
    assert.deepEqual(massEdit(st, Z, [['zone', Z], ['serial', serialOf(st)], ['edit', edit(300)]], null), { ok: true, newSerial: 2027030100 });
    assert.deepEqual(massEdit(st, Z, [['zone', Z], ['serial', serialOf(st)], ['edit', edit(600)]], null), { ok: true, newSerial: 2027030101 });
    st.serialDate = '20240101'; // a serial already ahead of the date
    assert.deepEqual(massEdit(st, Z, [['zone', Z], ['serial', serialOf(st)], ['edit', edit(900)]], null), { ok: true, newSerial: 2027030102 });
  });

  it('the feature and record-type gates answer before the serial is compared (Cpanel/API/DNS.pm)', () => {
    const st = makeCpState();
    st.accounts.find((a) => a.user === 'alice')!.features = ['simplezoneedit', 'emailauth'];
    const r = uapiCall(st, 'alice', 'DNS', 'mass_edit_zone', [['zone', Z], ['serial', '1'], ['add', txt('x', 'y')]]) as { status: number; errors: string[] };
    assert.equal(r.status, 0);
    assert.match(r.errors[0], /cannot create “TXT” records/);
    st.accounts.find((a) => a.user === 'alice')!.features = ['zoneedit', 'emailauth'];
    const s = uapiCall(st, 'alice', 'DNS', 'mass_edit_zone', [['zone', Z], ['serial', '1'], ['add', txt('x', 'y')]]) as { status: number; data: { type?: string } };
    assert.equal(s.data.type, 'Stale');
  });
});

describe('cPanel emulator: has_local_authority (cpanel.md §5, Cpanel::DnsUtils::Authority)', () => {
  it('1 only while public DNS serves the local serial; the zone’s public nameservers are its own NS', () => {
    const st = makeCpState();
    st.zones[Z].lines = st.zones[Z].lines.map((l) => (l?.kind === 'record' && l.type === 'NS' && l.data[0] === 'ns2.host.example.' ? { ...l, data: ['ns9.brand.example.'] } : l));
    assert.deepEqual(authorityItem(st, Z), { domain: Z, zone: Z, local_authority: 1, nameservers: ['ns1.host.example', 'ns9.brand.example'], error: null });
    st.publicSerial = { [Z]: st.zones[Z].serial - 1 }; // a write not yet propagated
    assert.equal(authorityItem(st, Z).local_authority, 0);
    assert.deepEqual(authorityItem(st, Z).nameservers, ['ns1.host.example', 'ns9.brand.example']);
  });

  it('cPanel’s own lookup failing: 0, no nameservers, the error', () => {
    const st = makeCpState();
    st.authorityErrors = { [Z]: 'The DNS query (alice.example/SOA) timed out.' };
    assert.deepEqual(authorityItem(st, Z), { domain: Z, zone: null, local_authority: 0, nameservers: [], error: 'The DNS query (alice.example/SOA) timed out.' });
  });

  it('a subdomain: the zone’s answer, without nameservers (cPanel looks them up per zone)', () => {
    const st = makeCpState();
    assert.deepEqual(authorityItem(st, 'blog.alice.example'), { domain: 'blog.alice.example', zone: Z, local_authority: 1, nameservers: [], error: null });
  });
});

describe('cPanel emulator: EmailAuth gates and key publication (cpanel.md §7)', () => {
  it('ensure_dkim_keys_exist and enable_dkim need the emailauth feature', () => {
    const st = makeCpState();
    st.accounts.find((a) => a.user === 'alice')!.features = ['zoneedit'];
    for (const f of ['ensure_dkim_keys_exist', 'enable_dkim']) {
      const r = uapiCall(st, 'alice', 'EmailAuth', f, [['domain', Z]]) as { status: number; errors: string[] };
      assert.equal(r.status, 0, f);
      assert.match(r.errors[0], /emailauth/);
    }
  });

  it('enable_dkim for a subdomain publishes default._domainkey.<sub> in the parent zone', () => {
    const st = makeCpState();
    uapiCall(st, 'alice', 'EmailAuth', 'enable_dkim', [['domain', 'blog.alice.example']]);
    const rec = zoneView(st, Z).filter((r) => r.name === 'default._domainkey.blog.alice.example');
    assert.equal(rec.length, 1);
    assert.match(rec[0].data.join(''), /^v=DKIM1; k=rsa; p=/);
  });
});

describe('WHM emulator: mass_edit_dns_zone and uapi_cpanel (cpanel.md §6.1, §1–§2)', () => {
  const params = (st: CpState, change: [string, string]): Params => [['zone', Z], ['serial', serialOf(st)], change];

  it('adds are limited to WHM’s list of types; edits are not', () => {
    const st = makeCpState();
    const add = whmCall(st, 'root', 'mass_edit_dns_zone', params(st, ['add', JSON.stringify({ dname: 'x', ttl: 300, record_type: 'SPF', data: ['v=spf1 -all'] })]));
    assert.ok(add !== 'not-found');
    assert.equal(add.metadata.result, 0);
    assert.match(add.metadata.reason, /cannot create “SPF” records/);
    const line = zoneView(st, Z).find((r) => r.name === Z && r.type === 'TXT')!.line;
    const edit = whmCall(st, 'root', 'mass_edit_dns_zone', params(st, ['edit', JSON.stringify({ line_index: line, dname: `${Z}.`, ttl: 300, record_type: 'SPF', data: ['v=spf1 -all'] })]));
    assert.ok(edit !== 'not-found');
    assert.equal(edit.metadata.result, 1, edit.metadata.reason);
  });

  it('uapi_cpanel runs a UAPI call as an account the caller controls, the UAPI envelope under data.uapi', () => {
    const st = makeCpState();
    st.mxDetected[Z] = 'remote';
    const r = whmCall(st, 'res1', 'uapi_cpanel', [['cpanel.user', 'alice'], ['cpanel.module', 'Email'], ['cpanel.function', 'list_mxs'], ['domain', Z]]);
    assert.ok(r !== 'not-found');
    assert.equal(r.metadata.result, 1);
    const uapi = (r.data as { uapi: { status: number; data: { detected: string }[] } }).uapi;
    assert.equal(uapi.status, 1);
    assert.equal(uapi.data[0].detected, 'remote');
    const foreign = whmCall(st, 'res1', 'uapi_cpanel', [['cpanel.user', 'carol'], ['cpanel.module', 'Email'], ['cpanel.function', 'list_mxs'], ['domain', 'carol.example']]);
    assert.ok(foreign !== 'not-found');
    assert.equal(foreign.metadata.result, 0);
  });
});
