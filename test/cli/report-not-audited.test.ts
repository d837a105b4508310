// The nightly report the night after an upgrade: the panel lists a name that is not a domain name (a wildcard
// subdomain "*.bakery.example" in panel.json), which the version before audited as it was and the panels' adapters
// now leave out (src/adapters/panels/listed.ts). QA: the first report after the upgrade called its problems
// "resolved — domain no longer on the server". Now they are "no longer audited" with why, in the admin's mail and in
// the reseller's part alike; a domain the panel really removed that night is still resolved as removed.
// Files panel, loopback DNS, a real SQLite file, the report as the service runs it (src/cron/report.ts).
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { runReport, type ReportOutcome } from '../../src/cron/report.js';
import type { Panel } from '../../src/core/panel.js';
import { hookPanel } from '../helpers/hook-panel.js';
import { countingLimiter, DAY, startWorld, type TestWorld } from '../cron/world.js';

const WILD = '*.bakery.example';

let w: TestWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** panel.json's accounts, edited (atomically: the files panel re-reads it when it changes). */
function editAccounts(t: TestWorld, edit: (accounts: { user: string; domains?: string[] }[]) => void): void {
  const p = join(t.dir, 'panel', 'panel.json');
  const cfg = JSON.parse(readFileSync(p, 'utf8')) as { accounts: { user: string; domains?: string[] }[] };
  edit(cfg.accounts);
  writeFileSync(`${p}.tmp`, JSON.stringify(cfg, null, 1));
  renameSync(`${p}.tmp`, p);
}

/**
 * The panel as the version before the validator read it: every name panel.json lists, the wildcard included (read
 * through bakery.example's zone and settings, as that version's files panel would have read them for it).
 */
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

function night(t: TestWorld, panel: Panel): Promise<ReportOutcome> {
  return runReport({ store: t.store, panel, resolver: t.resolver(), limiter: countingLimiter(), now: () => new Date(t.clock.t) });
}

test('the first report after the upgrade: the wildcard’s problems are no longer audited, not resolved; a removed domain stays resolved', async () => {
  const t = (w = await startWorld());
  editAccounts(t, (accounts) => accounts.find((a) => a.user === 'alice')!.domains!.push(WILD));
  const first = await night(t, beforeUpgrade(t.panel));
  const wildProblems = first.doc.newProblems.filter((i) => i.domain === WILD).map((i) => `${i.rule} ${i.subject ?? ''}`.trim());
  assert.ok(wildProblems.length > 0, 'the version before found problems under the wildcard');
  const floristProblems = first.doc.newProblems.filter((i) => i.domain === 'florist.example').length;
  assert.ok(floristProblems > 0);

  // The upgrade (the files panel leaves the wildcard out), and florist.example really removed from the panel.
  t.clock.advance(DAY);
  editAccounts(t, (accounts) => {
    const alice = accounts.find((a) => a.user === 'alice')!;
    alice.domains = alice.domains!.filter((d) => d !== 'florist.example');
  });
  const second = await night(t, t.panel);
  const doc = second.doc;
  assert.ok(!doc.resolved.some((i) => i.domain === WILD), 'the wildcard’s problems are not resolved');
  assert.deepEqual(
    (doc.notAudited ?? []).map((i) => `${i.rule} ${i.subject ?? ''}`.trim()).sort(),
    [...wildProblems].sort(),
  );
  for (const i of doc.notAudited ?? []) assert.deepEqual([i.domain, i.why, i.owner], [WILD, 'invalid-name', 'alice']);
  assert.equal(doc.summary.notAudited, wildProblems.length);
  // A domain the panel no longer lists: resolved as removed, as before.
  const removed = doc.resolved.filter((i) => i.domain === 'florist.example');
  assert.equal(removed.length, floristProblems);
  assert.ok(removed.every((i) => i.reason === 'domain-removed'));

  // The admin's mail says so, apart from "resolved".
  const { subject, text } = second.rendered;
  assert.match(subject, new RegExp(`, ${wildProblems.length} no longer audited`));
  assert.match(text, /No longer audited \(not counted as resolved\)/);
  assert.match(text, /\*\.bakery\.example .*no longer audited: not a valid domain name \(contains characters not allowed in a domain name\)/);
  // Alice's part (a customer's) says the same of her name.
  const part = second.partFor({ owner: 'alice' }, 'alice');
  assert.equal(part.doc.notAudited?.length, wildProblems.length);
  assert.ok(!part.doc.resolved.some((i) => i.domain === WILD));
});
