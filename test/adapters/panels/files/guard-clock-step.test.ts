// The files panel's takeover guard (`<zone>.mailhealth.lock.takeover`) after the clock was set back (QA h4 item 7):
// a guard is judged left over by its age (file time against the clock, 10 s), and a guard written before a backward
// step has a time ahead of the clock — its age came out negative, so a guard left by a process that stopped while
// holding it blocked every takeover of that zone's dead lock for as long as the step (an hour: "another mailhealth
// process is writing the zone", nothing written). Such a guard is now judged by the pid in it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { FilesPanel } from '../../../../src/adapters/panels/files/index.js';
import type { Change } from '../../../../src/core/model.js';
import { PanelError } from '../../../../src/core/panel.js';
import { writePanel } from '../../../helpers/scenario.js';

const ZONE = `$TTL 3600
@\tIN\tSOA\tns1.newhost.example. hostmaster.newhost.example. 2024010101 3600 1800 1209600 300
\tIN\tNS\tns1.newhost.example.
@\tIN\tA\t203.0.113.10
@\tIN\tTXT\t"v=spf1 +a +mx include:websitewelcome.com ~all"
`;

let root: string;
let zone: string;
let panel: FilesPanel;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mailhealth-files-guard-'));
  writePanel(root, { domains: { 'bakery.test': { zone: ZONE } } });
  zone = join(root, 'zones', 'bakery.test.db');
  panel = new FilesPanel(root);
  panel.now = () => new Date(Date.UTC(2026, 10, 1));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A pid no process has: a child that has exited and been reaped. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;
const isBusy = (e: unknown) => e instanceof PanelError && e.code === 'busy' && /another mailhealth process .*is writing the zone of bakery\.test/.test(e.message);

async function spf(value: string): Promise<{ changes: Change[]; version: string }> {
  const z = await panel.readZone('bakery.test');
  const before = z.records.find((r) => r.type === 'TXT' && r.value.startsWith('v=spf1'))!;
  return { changes: [{ action: 'edit', name: before.name, type: 'TXT', ttl: before.ttl, before, after: { name: before.name, ttl: before.ttl, type: 'TXT', value, txt: [value] } }], version: z.version };
}

/** A dead writer's zone lock, and a takeover guard written an hour "later" than the clock now reads (set back since). */
function leftOverFromBeforeTheStep(guardHolder: number): void {
  const lock = `${zone}.mailhealth.lock`;
  writeFileSync(lock, `${deadPid()}\n`);
  writeFileSync(`${lock}.takeover`, `${guardHolder}\n`);
  const ahead = new Date(Date.now() + 3600_000);
  fs.utimesSync(`${lock}.takeover`, ahead, ahead);
}

test('a guard from before a backward clock step, its process gone: removed, the dead lock taken over, the write made', async () => {
  leftOverFromBeforeTheStep(deadPid());
  const { changes, version } = await spf('v=spf1 +a +mx ~all');
  await panel.applyChanges('bakery.test', changes, version);
  assert.match(readFileSync(zone, 'utf8'), /"v=spf1 \+a \+mx ~all"/);
  assert.deepEqual(readdirSync(join(root, 'zones')).filter((f) => /\.mailhealth[-.]/.test(f)), [], 'lock and guard gone');
});

test('a guard from before a backward clock step held by a live process (pid 1): still a takeover under way — refused, nothing written', async () => {
  leftOverFromBeforeTheStep(1);
  const { changes, version } = await spf('v=spf1 +a +mx ~all');
  await assert.rejects(panel.applyChanges('bakery.test', changes, version), isBusy);
  assert.equal(readFileSync(zone, 'utf8'), ZONE);
});
