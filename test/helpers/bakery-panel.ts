// A files panel holding one domain, bakery.test, in a fresh temp directory — the set-up the files-panel zone tests
// share (zonefile-bind-strict, zonefile-bind-types, zonefile-loc): each test edits the zone through the panel, so each
// gets its own copy (call it from beforeEach; remove `root` in afterEach).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { writePanel } from './scenario.js';

/** The zone most of them start from: SOA, NS and an SPF record that still includes a previous host. */
export const BAKERY_ZONE = `$TTL 3600
@\tIN\tSOA\tns1.newhost.example. hostmaster.newhost.example. 2024010101 3600 1800 1209600 300
\tIN\tNS\tns1.newhost.example.
@\tIN\tTXT\t"v=spf1 +a +mx include:websitewelcome.com ~all"
`;

export interface BakeryPanel {
  root: string;
  /** The zone file's path. */
  zone: string;
  panel: FilesPanel;
}

/** bakery.test with `zoneText` in a new directory named from `prefix`; the panel's clock fixed at 2026-11-01. */
export function bakeryPanel(prefix: string, zoneText: string): BakeryPanel {
  const root = mkdtempSync(join(tmpdir(), prefix));
  writePanel(root, { domains: { 'bakery.test': { zone: zoneText } } });
  const panel = new FilesPanel(root);
  panel.now = () => new Date(Date.UTC(2026, 10, 1));
  return { root, zone: join(root, 'zones', 'bakery.test.db'), panel };
}
