// The files panel's last guard: a write never makes a name hold an alias (CNAME) beside other data — a name that is an
// alias holds no other record (RFC 1034 §3.6.2, RFC 2181 §10.1), and BIND refuses to load such a zone (review R5: an
// undo put a TXT back beside a CNAME at _dmarc and the zone file no longer loaded). Core refuses such changes first
// (plans/plan.ts aliasClash); this guard holds whatever change list reaches the panel. A name the file already had
// that way is its owner's: a write elsewhere goes ahead.
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { FilesPanel } from '../../../../src/adapters/panels/files/index.js';
import { parseZoneFile } from '../../../../src/adapters/panels/files/zonefile.js';
import type { Change, ZoneRecord } from '../../../../src/core/model.js';
import { PanelError } from '../../../../src/core/panel.js';
import { writePanel } from '../../../helpers/scenario.js';

const ZONE = `$TTL 3600
@\tIN\tSOA\tns1.host.example. hostmaster.host.example. 2024010101 3600 1800 1209600 300
\tIN\tNS\tns1.host.example.
@\tIN\tA\t203.0.113.10
@\tIN\tTXT\t"v=spf1 +a +mx ~all"
_dmarc\tIN\tTXT\t"v=DMARC1; p=none"
www\tIN\tCNAME\t@
`;
/** The same zone with a name that already holds an alias beside a TXT (a file as the customer left it). */
const ZONE_WITH_CLASH = `${ZONE}old\tIN\tCNAME\t@\nold\tIN\tTXT\t"left over"\n`;

let root: string;
let panel: FilesPanel;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mailhealth-files-cname-'));
  writePanel(root, { domains: { 'bakery.test': { zone: ZONE }, 'clash.test': { zone: ZONE_WITH_CLASH } } });
  panel = new FilesPanel(root);
  panel.now = () => new Date(Date.UTC(2026, 10, 1));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const file = (d: string) => readFileSync(join(root, 'zones', `${d}.db`), 'utf8');
const txt = (name: string, value: string): ZoneRecord => ({ name, ttl: 3600, type: 'TXT', value, txt: [value] });
const add = (r: ZoneRecord): Change => ({ action: 'add', name: r.name, type: r.type, ttl: r.ttl, before: null, after: r });
const refusedAsAlias = (name: string) => (e: unknown) =>
  e instanceof PanelError && e.code === 'invalid-zone' && e.message.startsWith(`the edit would leave ${name} an alias (CNAME) beside other records`) && /Nothing was changed\.$/.test(e.message);

test('a TXT added at a name that is an alias: refused (invalid-zone), the file untouched', async () => {
  const zone = await panel.readZone('bakery.test');
  const before = file('bakery.test');
  await assert.rejects(panel.applyChanges('bakery.test', [add(txt('www.bakery.test', 'v=spf1 -all'))], zone.version), refusedAsAlias('www.bakery.test'));
  assert.equal(file('bakery.test'), before);
});

test('an alias added at a name that holds a TXT: refused; the same alias in place of the TXT is written', async () => {
  const zone = await panel.readZone('bakery.test');
  const before = file('bakery.test');
  const alias: ZoneRecord = { name: '_dmarc.bakery.test', ttl: 3600, type: 'CNAME', value: 'bakery.test.dmarc.service.example' };
  await assert.rejects(panel.applyChanges('bakery.test', [add(alias)], zone.version), refusedAsAlias('_dmarc.bakery.test'));
  assert.equal(file('bakery.test'), before);
  // The TXT taken out in the same write: the name is the alias alone, a valid zone.
  const dmarc = zone.records.find((r) => r.name === '_dmarc.bakery.test' && r.type === 'TXT')!;
  await panel.applyChanges('bakery.test', [{ action: 'remove', name: dmarc.name, type: 'TXT', ttl: dmarc.ttl, before: dmarc, after: null }, add(alias)], zone.version);
  const parsed = parseZoneFile(file('bakery.test'), 'bakery.test');
  assert.deepEqual(parsed.warnings, []);
  assert.deepEqual(
    parsed.records.filter((r) => r.name === '_dmarc.bakery.test').map((r) => r.type),
    ['CNAME'],
  );
});

test('a file that already holds an alias beside other data: writes go ahead — the guard is for a clash the write makes', async () => {
  const zone = await panel.readZone('clash.test');
  assert.deepEqual(parseZoneFile(file('clash.test'), 'clash.test').warnings, ['old.clash.test: CNAME and other data']);
  await panel.applyChanges('clash.test', [add(txt('_mailchannels.clash.test', 'v=mc1 cfid=host.example'))], zone.version);
  assert.match(file('clash.test'), /_mailchannels/);
  // A second record beside the alias there leaves the same warning: the file had it, so this guard does not stand in
  // the way (the name is the customer's to repair; core does not add beside an alias — aliasBlock, aliasClash).
  const again = await panel.readZone('clash.test');
  await panel.applyChanges('clash.test', [add(txt('old.clash.test', 'second'))], again.version);
  assert.match(file('clash.test'), /"second"/);
});
