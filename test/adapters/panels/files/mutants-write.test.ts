// The files panel's write guard, where no other test pinned it (found by mutation testing of
// src/adapters/panels/files/index.ts): each test below fails when the check it names is taken out of applyChanges or
// writeZoneFile. Races are simulated as write-safety.test.ts does: a node:fs function the panel calls is wrapped, and
// the "other party" acts at an exact step of the write, never by timing.
import assert from 'node:assert/strict';
import fs, { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fsWrapper, isTemp } from './fs-wrap.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { FilesPanel } from '../../../../src/adapters/panels/files/index.js';
import { PanelError } from '../../../../src/core/panel.js';
import type { Change, ZoneRecord } from '../../../../src/core/model.js';
import { writePanel } from '../../../helpers/scenario.js';

const ZONE = `$TTL 3600
@\tIN\tSOA\tns1.newhost.example. hostmaster.newhost.example. 2024010101 3600 1800 1209600 300
\tIN\tNS\tns1.newhost.example.
@\tIN\tA\t203.0.113.10
@\tIN\tTXT\t"v=spf1 +a +mx include:websitewelcome.com ~all"
_dmarc\tIN\tTXT\t"v=DMARC1; p=none"
`;

let root: string;
let zones: string;
let zone: string;
let panel: FilesPanel;
const restore: (() => void)[] = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mailhealth-files-mut-'));
  writePanel(root, { domains: { 'bakery.test': { zone: ZONE } } });
  zones = join(root, 'zones');
  zone = join(zones, 'bakery.test.db');
  panel = new FilesPanel(root);
  panel.now = () => new Date(Date.UTC(2026, 10, 1));
});
afterEach(() => {
  while (restore.length) restore.pop()!();
  rmSync(root, { recursive: true, force: true });
});

const wrapFs = fsWrapper(restore);
/** What a write may leave next to zone files: temp files and lock files. */
const debris = (dir: string) => readdirSync(dir).filter((f) => /\.mailhealth[-.]/.test(f));
const spfOf = (records: ZoneRecord[]) => records.find((r) => r.type === 'TXT' && r.value.startsWith('v=spf1'))!;
const txt = (name: string, value: string): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: [value] });

test('the zone file removed by hand while the new one is being made: stale, nothing written — the file is not brought back', async () => {
  const z = await panel.readZone('bakery.test');
  const before = spfOf(z.records);
  const changes: Change[] = [{ action: 'edit', name: before.name, type: 'TXT', ttl: before.ttl, before, after: txt(before.name, 'v=spf1 +a +mx ~all') }];
  wrapFs('chmodSync', (orig) => ((p: fs.PathLike, mode: fs.Mode) => {
    orig(p, mode);
    if (isTemp(p)) fs.unlinkSync(zone); // the admin's `rm`, after mailhealth's first read
  }) as never);
  await assert.rejects(panel.applyChanges('bakery.test', changes, z.version), (e: unknown) => e instanceof PanelError && e.code === 'stale' && /changed during the write/.test(e.message));
  assert.equal(existsSync(zone), false, 'the removal stands: no zone file written in its place');
  assert.deepEqual(debris(zones), []);
});

test('two changes to one record (an edit and a removal of the same line): refused, the file untouched', async () => {
  const z = await panel.readZone('bakery.test');
  const before = spfOf(z.records);
  const changes: Change[] = [
    { action: 'edit', name: before.name, type: 'TXT', ttl: before.ttl, before, after: txt(before.name, 'v=spf1 +a +mx ~all') },
    { action: 'remove', name: before.name, type: 'TXT', ttl: before.ttl, before, after: null },
  ];
  await assert.rejects(panel.applyChanges('bakery.test', changes, z.version), (e: unknown) => e instanceof PanelError && /two changes to the same record bakery\.test TXT/.test(e.message));
  assert.equal(readFileSync(zone, 'utf8'), ZONE);
  assert.deepEqual(debris(zones), []);
});

test("an added record's source text (an undo's) that holds more than that record is not used: only the record is written", async () => {
  const z = await panel.readZone('bakery.test');
  const record = txt('spf2.bakery.test', 'v=spf1 -all');
  // The source the record is said to have had: its own line, and a line of another record after it.
  const after: ZoneRecord = { ...record, source: 'spf2\tIN\tTXT\t"v=spf1 -all"\nsneaky\tIN\tA\t192.0.2.66' };
  await panel.applyChanges('bakery.test', [{ action: 'add', name: record.name, type: 'TXT', ttl: record.ttl, before: null, after }], z.version);
  const now = await panel.readZone('bakery.test');
  assert.ok(now.records.some((r) => r.name === 'spf2.bakery.test' && r.value === 'v=spf1 -all'), 'the record is added');
  assert.equal(now.records.length, z.records.length + 1, 'and nothing else');
  assert.ok(!now.records.some((r) => r.name.startsWith('sneaky.')));
});

test("an added record's source text that would leave the zone file unreadable (a directive mailhealth cannot read) is never written", async () => {
  const z = await panel.readZone('bakery.test');
  const record = txt('spf2.bakery.test', 'v=spf1 -all');
  const after: ZoneRecord = { ...record, source: 'spf2\tIN\tTXT\t"v=spf1 -all"\n$INCLUDE /etc/passwd' };
  // Refused today ("the edited zone would not parse"); whatever the answer, the file must stay one mailhealth (and the
  // name server) can read, without the directive.
  await panel.applyChanges('bakery.test', [{ action: 'add', name: record.name, type: 'TXT', ttl: record.ttl, before: null, after }], z.version).catch((e: unknown) => {
    assert.ok(e instanceof PanelError && e.code === 'invalid-zone', String(e));
  });
  assert.doesNotMatch(readFileSync(zone, 'utf8'), /\$INCLUDE/);
  assert.equal((await panel.readZone('bakery.test')).writeBlocked, undefined);
  assert.deepEqual(debris(zones), []);
});

// Fuzz QA: a record written from its rendered line (no source text to write back) was not checked to read back as
// itself, as the source path is. A value the zone-file syntax cannot carry as given — an MX host with a space in it,
// of which BIND (and the parser) read the first word only — was written as another record.
test('a new record whose rendered line would read back as another record is refused; the file is left as it was', async () => {
  const z = await panel.readZone('bakery.test');
  const text = readFileSync(zone);
  const mx: ZoneRecord = { name: 'bakery.test', ttl: 3600, type: 'MX', value: '10 mail example.net.' };
  await assert.rejects(
    panel.applyChanges('bakery.test', [{ action: 'add', name: mx.name, type: 'MX', ttl: mx.ttl, before: null, after: mx }], z.version),
    (e: unknown) => e instanceof PanelError && e.code === 'invalid-zone' && /the record bakery\.test MX "10 mail example\.net\." cannot be written to the zone file as given/.test(e.message),
  );
  assert.deepEqual(readFileSync(zone), text, 'nothing written');
  assert.deepEqual(debris(zones), []);
  // A value it can carry is written, as before.
  const ok: ZoneRecord = { name: 'bakery.test', ttl: 3600, type: 'MX', value: '10 mail.example.net.' };
  await panel.applyChanges('bakery.test', [{ action: 'add', name: ok.name, type: 'MX', ttl: ok.ttl, before: null, after: ok }], z.version);
  assert.ok((await panel.readZone('bakery.test')).records.some((r) => r.type === 'MX' && /^10 mail\.example\.net\.?$/.test(r.value)));
});
