// cPanel's parse_zone data (cpanel.md §3: one element of `data_b64` per field of the record's data, in presentation
// form, names fully qualified: MX → ["10", "mail.example.com."]) read as the files panel reads the same records from a
// zone file (files/zonefile.ts), so an audit reads one zone the same whichever panel holds it:
// (a) the names in AFSDB, RT, KX, PX, RP, MINFO, MB, MG, MR, NAPTR, SVCB and HTTPS data are names — absolute, lower
//     case, no final dot — as those of NS, CNAME, PTR, DNAME, MX, SRV and SOA were (they kept the final dot, and a
//     relative one was not read under the zone), and the root `.` stays `.` (an MX to the root read as "0 " here,
//     "0 ." there); written back, each gets its final dot again (sent without it, cPanel would read it under the zone);
// (b) a record item whose `data_b64` is an empty list is no record cPanel's parser gives (every type has a field but
//     APL): the read fails naming the line, as for any item of another shape (it was read as a record with no data —
//     a TXT with no text, an SPF record the audit saw as there).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { CpanelPanel } from '../../../../src/adapters/panels/cpanel/index.js';
import { UapiHttp } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { decodeZone, massEditParams, recordData } from '../../../../src/adapters/panels/cpanel/zonefile.js';
import { FilesPanel } from '../../../../src/adapters/panels/files/index.js';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import type { ZoneRecord } from '../../../../src/core/model.js';
import { PanelError } from '../../../../src/core/panel.js';
import { makeCpState, parseZoneItems, startCpanelServer, type CpState } from '../../../helpers/emulators/cpanel.js';
import { writePanel } from '../../../helpers/scenario.js';

const Z = 'alice.example';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

/** The cPanel adapter over HTTP to the emulator holding `state`. */
async function cpanelOf(state: CpState): Promise<CpanelPanel> {
  const srv = await startCpanelServer(state);
  cleanup.push(() => srv.close());
  return new CpanelPanel({ transport: new UapiHttp(new PanelHttpClient({ baseUrl: srv.url, headers: { authorization: 'cpanel alice:tok-alice' } })), user: 'alice' });
}

/**
 * The same records twice: as cPanel's parser hands them back (owner relative to the zone, each field of the data in
 * presentation form, names absolute — one relative, defensively) and as a zone-file line. (A NAPTR's strings are given
 * without quotes, as TXT strings are (§3) — INFERRED for NAPTR: what this pins is its replacement name.)
 */
const RECORDS: { dname: string; type: string; data: string[]; line: string }[] = [
  { dname: 'afs', type: 'AFSDB', data: ['1', 'afs.alice.example.'], line: 'afs IN AFSDB 1 afs.alice.example.' },
  { dname: 'afs2', type: 'AFSDB', data: ['2', 'afsdb2'], line: 'afs2 IN AFSDB 2 afsdb2' },
  { dname: 'rt', type: 'RT', data: ['10', 'Relay.Alice.Example.'], line: 'rt IN RT 10 Relay.Alice.Example.' },
  { dname: 'kx', type: 'KX', data: ['10', 'kx.other.example.'], line: 'kx IN KX 10 kx.other.example.' },
  { dname: 'px', type: 'PX', data: ['10', 'map822.alice.example.', 'mapx400.alice.example.'], line: 'px IN PX 10 map822.alice.example. mapx400.alice.example.' },
  { dname: 'rp', type: 'RP', data: ['admin.alice.example.', 'txt.alice.example.'], line: 'rp IN RP admin.alice.example. txt.alice.example.' },
  { dname: 'rp2', type: 'RP', data: ['admin.alice.example.', '.'], line: 'rp2 IN RP admin.alice.example. .' },
  { dname: 'minfo', type: 'MINFO', data: ['rmail.alice.example.', 'email.alice.example.'], line: 'minfo IN MINFO rmail.alice.example. email.alice.example.' },
  { dname: 'mb', type: 'MB', data: ['mbox.alice.example.'], line: 'mb IN MB mbox.alice.example.' },
  { dname: 'mg', type: 'MG', data: ['member.alice.example.'], line: 'mg IN MG member.alice.example.' },
  { dname: 'mr', type: 'MR', data: ['renamed.alice.example.'], line: 'mr IN MR renamed.alice.example.' },
  { dname: 'nap', type: 'NAPTR', data: ['100', '10', 'S', 'SIP+D2U', '!^.*$!x!', '_sip._udp.alice.example.'], line: 'nap IN NAPTR 100 10 "S" "SIP+D2U" "!^.*$!x!" _sip._udp.alice.example.' },
  { dname: 'nap2', type: 'NAPTR', data: ['100', '10', 'u', 'E2U+sip', '!^.*$!sip:info@alice.example!', '.'], line: 'nap2 IN NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:info@alice.example!" .' },
  { dname: '_svc', type: 'SVCB', data: ['1', 'svc.alice.example.', 'port=8443'], line: '_svc IN SVCB 1 svc.alice.example. port=8443' },
  { dname: 'web', type: 'HTTPS', data: ['1', '.', 'alpn=h2'], line: 'web IN HTTPS 1 . alpn=h2' },
  { dname: 'nomail', type: 'MX', data: ['0', '.'], line: 'nomail IN MX 0 .' },
];

/** A record's type and value as the audit compares it. */
const shown = (r: ZoneRecord) => `${r.name} ${r.type} ${r.value}`;
const ours = (rs: ZoneRecord[]) => rs.filter((r) => RECORDS.some((x) => `${x.dname}.${Z}` === r.name)).map(shown);

describe('(a) the names in the data of every type that holds one, read as the files panel reads them', () => {
  it('through the cPanel adapter (parse_zone over HTTP) and the files panel: the same records, the same values', async () => {
    const state = makeCpState();
    for (const r of RECORDS) state.zones[Z].lines.push({ kind: 'record', dname: r.dname, ttl: 14400, type: r.type, data: r.data });
    const cp = await (await cpanelOf(state)).readZone(Z);

    const root = mkdtempSync(join(tmpdir(), 'mailhealth-cpanel-names-'));
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const zone = ['$TTL 14400', '@ IN SOA ns1.host.example. hostmaster.alice.example. 2024061100 3600 1800 1209600 86400', '@ IN NS ns1.host.example.', ...RECORDS.map((r) => r.line), ''].join('\n');
    writePanel(root, { domains: { [Z]: { zone } } });
    const files = await new FilesPanel(root).readZone(Z);
    assert.equal(files.writeBlocked, undefined, 'every line a zone file may hold');

    assert.deepEqual(ours(cp.records), ours(files.records));
    // What they read, spelled out: absolute, lower case, no final dot; a relative name under the zone; the root `.`.
    assert.deepEqual(ours(cp.records), [
      'afs.alice.example AFSDB 1 afs.alice.example',
      'afs2.alice.example AFSDB 2 afsdb2.alice.example',
      'rt.alice.example RT 10 relay.alice.example',
      'kx.alice.example KX 10 kx.other.example',
      'px.alice.example PX 10 map822.alice.example mapx400.alice.example',
      'rp.alice.example RP admin.alice.example txt.alice.example',
      'rp2.alice.example RP admin.alice.example .',
      'minfo.alice.example MINFO rmail.alice.example email.alice.example',
      'mb.alice.example MB mbox.alice.example',
      'mg.alice.example MG member.alice.example',
      'mr.alice.example MR renamed.alice.example',
      'nap.alice.example NAPTR 100 10 S SIP+D2U !^.*$!x! _sip._udp.alice.example',
      'nap2.alice.example NAPTR 100 10 u E2U+sip !^.*$!sip:info@alice.example! .',
      '_svc.alice.example SVCB 1 svc.alice.example port=8443',
      'web.alice.example HTTPS 1 . alpn=h2',
      'nomail.alice.example MX 0 .',
    ]);
  });

  it('decodeZone on the emulator\'s items: each name field, and only those, made absolute', () => {
    const state = makeCpState();
    for (const r of RECORDS) state.zones[Z].lines.push({ kind: 'record', dname: r.dname, ttl: 14400, type: r.type, data: r.data });
    const z = decodeZone(Z, parseZoneItems(state.zones[Z]));
    const at = (name: string) => z.records.find((r) => r.name === `${name}.${Z}`)!.value;
    assert.equal(at('afs'), '1 afs.alice.example');
    assert.equal(at('afs2'), '2 afsdb2.alice.example');
    assert.equal(at('rt'), '10 relay.alice.example');
    assert.equal(at('px'), '10 map822.alice.example mapx400.alice.example');
    assert.equal(at('rp2'), 'admin.alice.example .');
    assert.equal(at('nap2'), '100 10 u E2U+sip !^.*$!sip:info@alice.example! .');
    assert.equal(at('_svc'), '1 svc.alice.example port=8443');
    assert.equal(at('web'), '1 . alpn=h2');
    assert.equal(at('nomail'), '0 .');
  });

  it('written back, every name field gets its final dot again (cPanel reads a name without one under the zone)', () => {
    const rec = (type: string, value: string): ZoneRecord => ({ name: `x.${Z}`, ttl: 300, type, value });
    assert.deepEqual(recordData(rec('AFSDB', '1 afs.alice.example')), ['1', 'afs.alice.example.']);
    assert.deepEqual(recordData(rec('PX', '10 map822.alice.example mapx400.alice.example')), ['10', 'map822.alice.example.', 'mapx400.alice.example.']);
    assert.deepEqual(recordData(rec('RP', 'admin.alice.example .')), ['admin.alice.example.', '.']);
    assert.deepEqual(recordData(rec('MX', '0 .')), ['0', '.']);
    assert.deepEqual(recordData(rec('SVCB', '1 svc.alice.example port=8443')), ['1', 'svc.alice.example.', 'port=8443']);
    const [, add] = massEditParams(Z, '2024061100', [{ action: 'add', name: `kx.${Z}`, type: 'KX', ttl: 300, before: null, after: rec('KX', '10 kx.other.example') }]).find(([k]) => k === 'add')!;
    assert.deepEqual(JSON.parse(add).data, ['10', 'kx.other.example.']);
  });
});

describe('(b) a record item whose data_b64 is an empty list', () => {
  const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
  const soa = { line_index: 2, type: 'record', record_type: 'SOA', ttl: 86400, dname_b64: b64(`${Z}.`), data_b64: ['ns1.host.example.', `hostmaster.${Z}.`, '2024061100', '3600', '1800', '1209600', '86400'].map(b64) };
  const item = (type: string) => ({ line_index: 4, type: 'record', record_type: type, ttl: 14400, dname_b64: b64(`${Z}.`), data_b64: [] as string[] });

  it('is no record: the read fails naming the line and the type (for every type but APL)', () => {
    for (const type of ['TXT', 'MX', 'A', 'CNAME', 'TYPE65534']) {
      assert.throws(
        () => decodeZone(Z, [soa, item(type)], `cPanel's answer to DNS::parse_zone for ${Z}`),
        (e: unknown) =>
          e instanceof PanelError &&
          e.code === 'other' &&
          e.message === `cPanel's answer to DNS::parse_zone for ${Z} had an unexpected shape: the ${type} record on line 5 has no data (data_b64 is an empty list)`,
        type,
      );
    }
  });

  it('an APL record, whose address list may be empty, still reads (as BIND and the files panel read `a APL`)', () => {
    const z = decodeZone(Z, [soa, item('APL')]);
    assert.deepEqual(
      z.records.filter((r) => r.type === 'APL').map((r) => [r.name, r.value]),
      [[Z, '']],
    );
  });

  it('through the adapter: the zone with such a line cannot be read, the error naming the line', async () => {
    const state = makeCpState();
    state.zones[Z].lines.push({ kind: 'record', dname: `${Z}.`, ttl: 14400, type: 'TXT', data: [] });
    const line = state.zones[Z].lines.length;
    const panel = await cpanelOf(state);
    await assert.rejects(
      panel.readZone(Z),
      (e: unknown) => e instanceof PanelError && e.code === 'other' && e.message.includes(`the TXT record on line ${line} has no data (data_b64 is an empty list)`),
    );
  });
});
