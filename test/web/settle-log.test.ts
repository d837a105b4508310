// QA: the service's settler logged "interrupted change N settled: error: …locked" for a change that was neither
// interrupted for sure nor settled (a fix still in flight while the history database was busy). The line now says
// what happened: not settled this time, why, and when it is tried again; a settled change keeps its line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import type { Change, Zone } from '../../src/core/model.js';
import { PanelError, type Panel } from '../../src/core/panel.js';
import type { Resolver } from '../../src/core/resolver.js';
import { IntentSettler, SETTLE_BACKOFF_MIN_MS } from '../../src/web/server.js';

const DOMAIN = 'busy.example';
const NAME = `_mailchannels.${DOMAIN}`;
const VALUE = 'v=mc1 auth=newhostmc';

function panelWith(zone: Zone): Panel {
  const refuse = () => Promise.reject(new PanelError('unsupported', 'not used here'));
  return {
    kind: 'files',
    capabilities: { serialCheckedWrites: false, generateDkim: false },
    listAccounts: async () => [],
    listDomains: async () => [],
    readZone: async () => zone,
    readMailSettings: refuse,
    applyChanges: refuse,
  };
}

describe('IntentSettler: what its log lines say', () => {
  let dir: string;
  let store: Store;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-settle-log-'));
    store = openStore(join(dir, 'db.sqlite'), { busyTimeoutMs: 20 });
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const noResolver = () => ({ close() {} }) as unknown as Resolver;

  test('a busy database: "not settled this time" with the reason and the retry, never "settled"; once free, "settled: applied"', async () => {
    const after = { name: NAME, ttl: 300, type: 'TXT', value: VALUE, txt: [VALUE] };
    const changes: Change[] = [{ action: 'add', name: NAME, type: 'TXT', ttl: 300, before: null, after }];
    const id = store.recordIntent({ domain: DOMAIN, check: 'lockdown', planHash: `sha256:${'0'.repeat(64)}`, zoneVersion: 'v1', changes, byUser: 'root' });
    const zone: Zone = { domain: DOMAIN, serial: null, version: 'v2', records: [after] };
    const lines: string[] = [];
    const settler = new IntentSettler({ panel: panelWith(zone), store, makeResolver: noResolver, byUser: 'mailhealth' }, { now: () => 0, log: (l) => lines.push(l) });

    // Another process holds the database: the domain lock cannot even be looked at.
    const other = new Database(join(dir, 'db.sqlite'));
    other.exec('BEGIN IMMEDIATE');
    other.prepare(`INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES ('hold', '1', 'x')`).run();
    try {
      await settler.settle({ force: true });
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    assert.equal(store.getChange(id)?.status, 'intent');
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.doesNotMatch(lines[0], /settled:/);
    assert.match(
      lines[0],
      new RegExp(
        `^mailhealth: open change ${id} \\(a fix whose outcome is not recorded yet: interrupted, or still being written\\) not settled this time: the history database is busy \\(another mailhealth process is writing to it\\); tried again in ${SETTLE_BACKOFF_MIN_MS / 1000} s, or at once before a fix or an undo$`,
      ),
    );

    await settler.settle({ force: true });
    assert.equal(store.getChange(id)?.status, 'applied');
    assert.equal(lines[1], `mailhealth: interrupted change ${id} settled: applied`);
  });
});
