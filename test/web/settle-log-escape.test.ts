// The service's settler logs reconcile's outcomes on stderr by default (serve passes no log of its own); an outcome
// carries outside text — a panel's error — so the default line is escaped: an escape sequence in a panel's answer
// cannot drive the admin's terminal or start a line of its own.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import type { Change } from '../../src/core/model.js';
import { PanelError, type Panel } from '../../src/core/panel.js';
import type { Resolver } from '../../src/core/resolver.js';
import { IntentSettler } from '../../src/web/server.js';

const DOMAIN = 'hostile.example';
const NAME = `_mailchannels.${DOMAIN}`;
const VALUE = 'v=mc1 auth=newhostmc';

let dir: string;
let store: Store;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailhealth-settle-escape-'));
  store = openStore(join(dir, 'db.sqlite'), { busyTimeoutMs: 20 });
});
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the default log line escapes a panel error carried by an outcome', async () => {
  const after = { name: NAME, ttl: 300, type: 'TXT', value: VALUE, txt: [VALUE] };
  const changes: Change[] = [{ action: 'add', name: NAME, type: 'TXT', ttl: 300, before: null, after }];
  store.recordIntent({ domain: DOMAIN, check: 'lockdown', planHash: `sha256:${'0'.repeat(64)}`, zoneVersion: 'v1', changes, byUser: 'root' });
  const refuse = () => Promise.reject(new PanelError('unsupported', 'not used here'));
  const panel: Panel = {
    kind: 'files',
    capabilities: { serialCheckedWrites: false, generateDkim: false },
    listAccounts: async () => [],
    listDomains: async () => [],
    readZone: () => Promise.reject(new PanelError('other', 'zone unreadable \x1b[2J\nmailhealth: forged line')),
    readMailSettings: refuse,
    applyChanges: refuse,
  };
  const noResolver = () => ({ close() {} }) as unknown as Resolver;
  const settler = new IntentSettler({ panel, store, makeResolver: noResolver, byUser: 'mailhealth' }, { now: () => 0 });
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    await settler.settle({ force: true });
  } finally {
    process.stderr.write = write;
  }
  const text = written.join('');
  assert.match(text, /zone unreadable/, `the outcome was logged: ${JSON.stringify(text)}`);
  assert.ok(!text.includes('\x1b'), `no raw escape in the log: ${JSON.stringify(text)}`);
  assert.ok(!/\nmailhealth: forged line/.test(text), `no forged line: ${JSON.stringify(text)}`);
  assert.match(text, /\\x1b\[2J/);
});
