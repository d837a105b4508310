// The service's log line of a complete night ("report run N complete: …") counts what the report sets apart: the
// problems of names no longer audited (core/report/diff.ts notAudited) — the night after an upgrade whose panels'
// adapters leave out a name that is not a domain name (a wildcard in panel.json), as the mail's subject counts them.
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { runReport } from '../../src/cron/report.js';
import type { Panel } from '../../src/core/panel.js';
import { hookPanel } from '../helpers/hook-panel.js';
import { countingLimiter, DAY, startWorld, type TestWorld } from './world.js';

const WILD = '*.bakery.example';

let w: TestWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

function addWildcard(t: TestWorld): void {
  const p = join(t.dir, 'panel', 'panel.json');
  const cfg = JSON.parse(readFileSync(p, 'utf8')) as { accounts: { user: string; domains?: string[] }[] };
  cfg.accounts.find((a) => a.user === 'alice')!.domains!.push(WILD);
  writeFileSync(`${p}.tmp`, JSON.stringify(cfg, null, 1));
  renameSync(`${p}.tmp`, p);
}

/** The panel as the version before the validator read it: the wildcard listed, read through bakery.example. */
function beforeUpgrade(panel: Panel): Panel {
  const as = (d: string) => (d === WILD ? 'bakery.example' : d);
  return hookPanel(panel, {
    listDomains: async (orig, identity) => {
      const refs = await orig(identity);
      return identity.role === 'customer' && identity.user !== 'alice' ? refs : [...refs, { domain: WILD, owner: 'alice' }];
    },
    readZone: (orig, d) => orig(as(d)),
    readMailSettings: (orig, d) => orig(as(d)),
  });
}

test('the log line of a night with problems no longer audited counts them; a night without says nothing of them', async () => {
  const t = (w = await startWorld());
  addWildcard(t);
  const lines: string[] = [];
  const night = (panel: Panel) => runReport({ store: t.store, panel, resolver: t.resolver(), limiter: countingLimiter(), now: () => new Date(t.clock.t), log: (m) => lines.push(m) });
  await night(beforeUpgrade(t.panel));
  const first = lines.find((l) => / complete: /.test(l));
  assert.ok(first, lines.join('\n'));
  assert.doesNotMatch(first, /no longer audited/);

  t.clock.advance(DAY);
  lines.length = 0;
  const second = await night(t.panel);
  const n = second.doc.summary.notAudited ?? 0;
  assert.ok(n > 0, 'the wildcard’s problems are no longer audited');
  const line = lines.find((l) => / complete: /.test(l));
  assert.match(line ?? '', new RegExp(`^report run ${second.runId} complete: \\d+ new, \\d+ resolved, \\d+ still failing, \\d+ unknown, ${n} no longer audited \\(compared with run \\d+\\)$`));
});
