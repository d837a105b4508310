// A zone file with octets that are not UTF-8 (a comment saved in Latin-1, raw bytes in a TXT): a fix rewrote the whole
// file from text read as UTF-8, so every such octet became EF BF BD (U+FFFD) — bytes outside the edited record
// changed — and the zone's version hashed that lossy text, so an admin's edit of one such byte for another between
// the preview and the apply went unseen and was overwritten. Now the file is read losslessly (U+DC00 + octet, as the
// DNS client reads the wire) and written back octet for octet; the version is a hash of the octets.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { FilesPanel } from '../../../../src/adapters/panels/files/index.js';
import { PanelError } from '../../../../src/core/panel.js';
import type { Zone, ZoneRecord } from '../../../../src/core/model.js';
import { MAILCHANNELS, writePanel } from '../../../helpers/scenario.js';

const HEAD = '; Kunde: B\u00e4ckerei M\u00fcller\n$TTL 3600\n@\tIN\tSOA\tns1.newhost.example. hostmaster.newhost.example. ( 2024010101 3600 1800 1209600 300 )\n\tIN\tNS\tns1.newhost.example.\n';
const SPF = '@\tIN\tTXT\t"v=spf1 +a +mx include:websitewelcome.com ~all"\n';
const RAW_TXT = 'note\tIN\tTXT\t"caf\u00e9 \u00ff\u00fe"\n';
/** The zone's bytes: the comment and the note record in Latin-1 (one octet per char), the rest ASCII. */
const ZONE = Buffer.from(HEAD + SPF + RAW_TXT, 'latin1');

let root: string;
let panel: FilesPanel;
const file = () => join(root, 'zones', 'bakery.test.db');
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mailhealth-octets-'));
  writePanel(root, { server: { relay: MAILCHANNELS }, accounts: [{ user: 'root', role: 'admin' }, { user: 'alice', role: 'customer', domains: ['bakery.test'] }], domains: { 'bakery.test': { zone: '' } } });
  writeFileSync(file(), ZONE);
  panel = new FilesPanel(root);
  panel.now = () => new Date(Date.UTC(2026, 10, 1));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function spfEdit(z: Zone) {
  const before = z.records.find((r) => r.type === 'TXT' && r.value.startsWith('v=spf1'))!;
  const after: ZoneRecord = { name: 'bakery.test', ttl: 3600, type: 'TXT', value: 'v=spf1 +a +mx ~all', txt: ['v=spf1 +a +mx ~all'] };
  return [{ action: 'edit' as const, name: before.name, type: 'TXT', ttl: 3600, before, after }];
}

test('a fix keeps every octet outside the edited record, also those that are not UTF-8', async () => {
  const z = await panel.readZone('bakery.test');
  const note = z.records.find((r) => r.name === 'note.bakery.test')!;
  assert.equal(note.value, 'caf\udce9 \udcff\udcfe', 'non-UTF-8 octets read as U+DC00 + octet, as the DNS client reads them');
  await panel.applyChanges('bakery.test', spfEdit(z), z.version);
  const after = readFileSync(file());
  const expected = Buffer.from((HEAD + SPF + RAW_TXT).replace('2024010101', '2026110100').replace(SPF, 'bakery.test.\t3600\tIN\tTXT\t"v=spf1 +a +mx ~all"\n'), 'latin1');
  assert.ok(after.equals(expected), `every other octet identical:\n${after.toString('latin1')}`);
  assert.ok(!after.includes(Buffer.from([0xef, 0xbf, 0xbd])), 'no U+FFFD written');
});

test('an edit of one non-UTF-8 octet for another after the read is seen: the write is refused as stale', async () => {
  const z = await panel.readZone('bakery.test');
  const edited = Buffer.from(ZONE);
  edited[edited.indexOf(0xe4)] = 0xf6; // B\u00e4ckerei → B\u00f6ckerei, as an admin's edit
  writeFileSync(file(), edited);
  assert.notEqual((await panel.readZone('bakery.test')).version, z.version);
  await assert.rejects(panel.applyChanges('bakery.test', spfEdit(z), z.version), (e: unknown) => e instanceof PanelError && e.code === 'stale');
  assert.ok(readFileSync(file()).equals(edited), 'the admin\u2019s edit stays');
});

test('a UTF-8 zone (the usual case) reads and writes as before', async () => {
  const text = (HEAD + SPF).replace('B\u00e4ckerei', 'B\u00e4ckerei \u{1F370}');
  writeFileSync(file(), text);
  const z = await panel.readZone('bakery.test');
  await panel.applyChanges('bakery.test', spfEdit(z), z.version);
  assert.equal(readFileSync(file(), 'utf8'), text.replace('2024010101', '2026110100').replace(SPF, 'bakery.test.\t3600\tIN\tTXT\t"v=spf1 +a +mx ~all"\n'));
});
