// Remakes fixtures/v1.db and fixtures/v1-readback.json with the v1 store code (see v1-scenario.ts for how to
// get it): npx tsx test/adapters/store/make-v1-fixture.ts /tmp/v1/src/adapters/store/store.ts
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakeClock, readAll, SCENARIO_END, T0, writeScenario, type HistoryStore } from './v1-scenario.js';

const v1 = process.argv[2];
if (!v1) throw new Error('usage: make-v1-fixture.ts PATH/TO/v1/store.ts');
const mod = (await import(resolve(v1))) as { openStore(path: string, o?: { now?: () => number }): HistoryStore & { close(): void; schemaVersion(): number } };
const out = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
mkdirSync(out, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'mailhealth-v1-'));
try {
  const clock = fakeClock(T0);
  const path = join(tmp, 'v1.db');
  const s = mod.openStore(path, { now: clock.now });
  assert.equal(s.schemaVersion(), 1, 'not the v1 store');
  writeScenario(s, clock);
  assert.equal(clock.t, SCENARIO_END);
  s.close(); // the last connection checkpoints the WAL into the file and removes it: the file stands alone
  assert.equal(existsSync(`${path}-wal`), false);
  copyFileSync(path, join(out, 'v1.db'));
  const reader = mod.openStore(path);
  writeFileSync(join(out, 'v1-readback.json'), readAll(reader) + '\n');
  reader.close();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
