// The nightly report over several nights, through the files panel, loopback DNS and a real SQLite file (fake clock):
// DNS trouble in between, a panel zone that cannot be read, a customer moving between resellers, a reseller's own
// domains, `since` before the oldest run, and history pruned under the trend.
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { deliverySettings, plannedMessages } from '../../src/adapters/mail/deliver.js';
import { loadHistory, runReport, type ReportOutcome, type ReportRunOptions } from '../../src/cron/report.js';
import { PanelError } from '../../src/core/panel.js';
import type { ReportDoc, ReportItem } from '../../src/core/report/diff.js';
import { buildWorld } from '../../src/demo/world.js';
import type { ServedZoneMap } from '../../src/adapters/dns/server.js';
import { countingLimiter, DAY, NIGHT1, startWorld, type TestWorld } from './world.js';

const key = (i: { domain: string; rule: string; subject?: string | null }) => `${i.domain} ${i.rule}${i.subject ? ` ${i.subject}` : ''}`;
const STALE = 'florist.example lockdown.stale-auth auth=dreamhost';

let w: TestWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

async function world(): Promise<TestWorld> {
  w = await startWorld();
  return w;
}

function night(t: TestWorld, extra: Partial<ReportRunOptions> = {}): Promise<ReportOutcome> {
  // Audits are timestamped with the fake clock too (prune goes by them).
  return runReport({ store: t.store, panel: t.panel, resolver: t.resolver(), limiter: countingLimiter(), now: () => new Date(t.clock.t), ...extra });
}

/** DNS answers SERVFAIL for these names (DNS trouble: the checks asking are unknown), the rest as the panel's zones say. */
function dnsTrouble(t: TestWorld, names: string[]): void {
  const data: ServedZoneMap = buildWorld(join(t.dir, 'panel'));
  for (const n of names) data[n] = { ...(data[n] ?? {}), SERVFAIL: true };
  t.dns.setData(data);
}

function dnsClear(t: TestWorld): void {
  t.dns.setData(buildWorld(join(t.dir, 'panel')));
}

interface Account {
  user: string;
  role: string;
  owner?: string;
  domains?: string[];
}

/** Rewrites the panel's panel.json (atomically: the files panel re-reads it when it changes). */
function editAccounts(t: TestWorld, edit: (accounts: Account[]) => Account[]): void {
  const p = join(t.dir, 'panel', 'panel.json');
  const cfg = JSON.parse(readFileSync(p, 'utf8')) as { accounts: Account[] };
  cfg.accounts = edit(cfg.accounts);
  writeFileSync(`${p}.tmp`, JSON.stringify(cfg, null, 1));
  renameSync(`${p}.tmp`, p);
}

function mentions(doc: ReportDoc, domain: string): string[] {
  const all: ReportItem[] = [...doc.newProblems, ...doc.resolved, ...doc.stillFailing, ...doc.unknown];
  return all.filter((i) => i.domain === domain).map(key);
}

describe('nightly report: a problem fixed after nights of DNS trouble', () => {
  test('unknown for two nights keeps "was failing"; fixed the night after: resolved (fixed)', async () => {
    const t = await world();
    const n1 = await night(t);
    assert.ok(n1.doc.newProblems.some((i) => key(i) === STALE));

    // Nights 2 and 3: the Domain Lockdown record of florist.example cannot be looked up.
    dnsTrouble(t, ['_mailchannels.florist.example']);
    t.clock.advance(DAY);
    const n2 = await night(t);
    t.clock.advance(DAY);
    const n3 = await night(t);
    for (const [n, o] of [
      [2, n2],
      [3, n3],
    ] as const) {
      const u = o.doc.unknown.filter((i) => i.domain === 'florist.example' && i.check === 'lockdown');
      assert.equal(u.length, 1, `night ${n}: ${JSON.stringify(o.doc.unknown)}`);
      assert.deepEqual(u[0].wasFailing, [{ rule: 'lockdown.stale-auth', severity: 'fail', subject: 'auth=dreamhost' }], `night ${n}`);
      assert.ok(!o.doc.resolved.some((i) => key(i) === STALE), `night ${n}: not resolved`);
    }

    // Night 4: DNS answers again, and the customer fixed the record meanwhile.
    dnsClear(t);
    t.editZone('florist.example', (z) => z.replace('"v=mc1 auth=dreamhost"', '"v=mc1 auth=newhostmc"'));
    t.clock.advance(DAY);
    const n4 = await night(t);
    assert.equal(n4.previousRunId, n3.runId);
    assert.deepEqual(n4.doc.resolved.filter((i) => i.domain === 'florist.example').map((i) => [key(i), i.reason]), [[STALE, 'fixed']]);
    assert.equal(n4.doc.summary.resolved, n4.doc.resolved.length);
    assert.deepEqual(mentions(n4.doc, 'florist.example').filter((k) => k.includes('lockdown')), [STALE]);
    assert.match(n4.rendered.text, /Resolved \(1\)/);
  });
});

describe('nightly report: the panel cannot read a zone for a night', () => {
  test('the problems of the checks that read the zone are unknown that night, not resolved, and not new the next', async () => {
    const t = await world();
    const n1 = await night(t);
    assert.ok(n1.doc.newProblems.some((i) => key(i) === 'florist.example spf.stale-term include:netblocks.dreamhost.com'));
    // Night 2: the panel fails to read florist.example's zone (a broken file): the audit says dns.panel-zone-unreadable.
    t.clock.advance(DAY);
    const broken = Object.create(t.panel) as typeof t.panel;
    broken.readZone = (d: string) => (d === 'florist.example' ? Promise.reject(new PanelError('other', 'EISDIR: illegal operation on a directory')) : t.panel.readZone(d));
    const n2 = await night(t, { panel: broken });
    assert.deepEqual(n2.doc.resolved.map(key), [], 'nothing was fixed');
    const u = n2.doc.unknown.filter((i) => i.domain === 'florist.example');
    assert.deepEqual(u.map((i) => i.rule), ['dns.panel-zone-unreadable']);
    assert.ok(u[0].wasFailing.some((x) => x.rule === 'spf.stale-term' && x.subject === 'include:netblocks.dreamhost.com'), JSON.stringify(u[0].wasFailing));
    // Lockdown never reads the zone: its problem is still failing that night.
    assert.ok(n2.doc.stillFailing.some((i) => key(i) === STALE));
    // Night 3: the zone reads again; nothing comes back as "new".
    t.clock.advance(DAY);
    const n3 = await night(t);
    assert.deepEqual(n3.doc.newProblems.map(key), []);
    assert.deepEqual(n3.doc.resolved.map(key), []);
    const weak = n3.doc.stillFailing.find((i) => key(i) === 'florist.example spf.stale-term include:netblocks.dreamhost.com');
    assert.equal(weak?.nights, 2, 'the unknown night is not counted');
  });
});

describe('nightly report: a customer moves to another reseller', () => {
  test("the new reseller sees the old problems as still failing; the old reseller is not told they were resolved or removed", async () => {
    const t = await world();
    await night(t);
    // carol (lawyer.example, clean.example) moves from rita to a new reseller, rex.
    editAccounts(t, (a) => [...a.map((x) => (x.user === 'carol' ? { ...x, owner: 'rex' } : x)), { user: 'rex', role: 'reseller' }]);
    t.clock.advance(DAY);
    const n2 = await night(t);
    assert.deepEqual(n2.resellers, ['rex', 'rita']);
    const lawyerAll = n2.doc.stillFailing.filter((i) => i.domain === 'lawyer.example');
    assert.ok(lawyerAll.length >= 5);

    const rex = n2.partFor({ reseller: 'rex' }, 'rex').doc;
    assert.deepEqual(rex.newProblems.map(key), []);
    assert.deepEqual(
      rex.stillFailing.filter((i) => i.domain === 'lawyer.example').map((i) => [key(i), i.nights, i.reseller]),
      lawyerAll.map((i) => [key(i), 2, 'rex']),
    );
    assert.deepEqual(rex.byReseller.map((g) => [g.reseller, g.customers]), [['rex', ['carol']]]);

    const ritaPart = n2.partFor({ reseller: 'rita' }, 'rita');
    const rita = ritaPart.doc;
    assert.deepEqual(rita.resolved.map(key), []);
    assert.deepEqual(mentions(rita, 'lawyer.example'), []);
    assert.deepEqual(rita.byReseller.map((g) => [g.reseller, g.customers]), [['rita', ['bob']]]);
    assert.doesNotMatch(ritaPart.rendered.text, /lawyer\.example|no longer on the server|carol/);
    assert.deepEqual(rita.summary.domains, 2);
  });
});

describe('nightly report: a domain that left the server belongs to its owner as that night recorded', () => {
  test("a direct customer's removed domain is not mailed to the reseller the customer moved to since", async () => {
    const t = await world();
    await night(t);
    // florist.example leaves the server; alice (a direct customer of the admin) becomes rita's customer.
    editAccounts(t, (a) => a.map((x) => (x.user === 'alice' ? { ...x, owner: 'rita', domains: ['bakery.example'] } : x)));
    t.clock.advance(DAY);
    const n2 = await night(t);
    const removed = n2.doc.resolved.filter((i) => i.domain === 'florist.example');
    assert.ok(removed.length > 0);
    assert.deepEqual([...new Set(removed.map((i) => `${i.reason} ${i.owner} ${i.reseller}`))], ['domain-removed alice null']);
    const rita = n2.partFor({ reseller: 'rita' }, 'rita');
    assert.doesNotMatch(rita.rendered.text, /florist\.example/);
  });
});

describe("nightly report: a reseller's own domains", () => {
  test('are in their part, filed under them (not the server admin), and a reseller with only their own domains gets mail', async () => {
    const t = await world();
    // rita owns clean.example herself; rex is a reseller with one domain of his own and no customers. Panels set no
    // reseller on a reseller's own domains (the owner is the reseller account).
    editAccounts(t, (a) => [
      ...a.map((x) =>
        x.user === 'rita' ? { ...x, domains: ['clean.example'] } : x.user === 'carol' ? { ...x, domains: ['lawyer.example'] } : x.user === 'alice' ? { ...x, domains: ['bakery.example'] } : x,
      ),
      { user: 'rex', role: 'reseller', domains: ['florist.example'] },
    ]);
    const refs = await t.panel.listDomains({ user: 'root', role: 'admin' });
    assert.deepEqual(
      refs.filter((r) => r.owner === 'rita' || r.owner === 'rex').map((r) => [r.domain, r.owner, r.reseller ?? null]),
      [
        ['clean.example', 'rita', null],
        ['florist.example', 'rex', null],
      ],
      'the panel itself sets no reseller on them',
    );
    const o = await night(t);
    assert.deepEqual(o.resellers, ['rex', 'rita']);
    assert.deepEqual(o.doc.byReseller.map((g) => [g.reseller, g.customers]), [
      [null, ['alice']],
      ['rex', ['rex']],
      ['rita', ['bob', 'carol', 'rita']],
    ]);
    const rex = o.partFor({ reseller: 'rex' }, 'rex');
    assert.deepEqual(rex.doc.byCustomer.map((c) => [c.owner, c.domains]), [['rex', ['florist.example']]]);
    assert.ok(rex.doc.newProblems.some((i) => key(i) === STALE));
    assert.match(rex.rendered.text, /rex \(own domains\)/);
    const rita = o.partFor({ reseller: 'rita' }, 'rita');
    assert.ok(rita.doc.byCustomer.some((c) => c.owner === 'rita' && c.domains.includes('clean.example')));
    assert.match(rita.rendered.text, /^ {4}rita \(own domains\): 0 \/ 0 \/ 0 \/ 0 — 1 domain\(s\)$/m);
    assert.doesNotMatch(o.rendered.text, /^ {2}\(server admin\).*\n {4}rita/m);
    // The mail: rex gets his part (he has only his own domain).
    t.store.setSetting('report.resellers', { rex: 'rex@reseller.example', rita: 'rita@reseller.example' });
    const planned = plannedMessages(o, deliverySettings(t.store));
    assert.deepEqual(planned.map((m) => [m.to, m.reseller]), [
      ['rex@reseller.example', 'rex'],
      ['rita@reseller.example', 'rita'],
    ]);
    // Its history too: the run records rita as clean.example's reseller for the nights after.
    t.clock.advance(DAY);
    const n2 = await night(t);
    const h = await loadHistory(t.store, n2.runId);
    const clean = h.runs.find((r) => r.runId === o.runId)?.domains?.find((d) => d.domain === 'clean.example');
    assert.deepEqual([clean?.owner, clean?.reseller], ['rita', 'rita']);
  });
});

describe('nightly report: --since before the oldest run', () => {
  test('compares with the oldest complete run and says so (not "first complete run", not everything new)', async () => {
    const t = await world();
    const n1 = await night(t);
    t.clock.advance(DAY);
    await night(t);
    t.clock.advance(DAY);
    const since = new Date(NIGHT1 - 365 * DAY);
    const n3 = await night(t, { since });
    assert.equal(n3.previousRunId, n1.runId);
    assert.equal(n3.doc.sinceBeforeOldest, true);
    assert.deepEqual(n3.doc.newProblems.map(key), []);
    assert.equal(n3.doc.stillFailing.length, n1.doc.newProblems.length);
    assert.deepEqual(n3.doc.trend.length, 3);
    assert.doesNotMatch(n3.rendered.text, /first complete run|nothing to compare/);
    assert.ok(n3.rendered.text.includes(`no complete run kept at or before ${since.toISOString()}; compared with the oldest kept, run ${n1.runId}`), n3.rendered.text.slice(0, 600));
  });
});

describe('nightly report: history pruned under the trend', () => {
  test("a run kept only for a removed domain's last result is not a night of the chart (nor the run compared with)", async () => {
    const t = await world();
    const runs: ReportOutcome[] = [];
    for (let i = 0; i < 3; i++) {
      runs.push(await night(t));
      t.clock.advance(DAY);
    }
    // florist.example leaves the server; ten days later the next run, then the nightly prune (1 day: with 7 the newest 7 complete runs would all be kept).
    editAccounts(t, (a) => a.map((x) => (x.user === 'alice' ? { ...x, domains: ['bakery.example'] } : x)));
    t.clock.advance(10 * DAY);
    const n4 = await night(t);
    const pruned = t.store.prune({ olderThanDays: 1 });
    assert.equal(pruned.runs, 2, 'runs 1 and 2 are gone');

    t.clock.advance(DAY);
    const n5 = await night(t);
    assert.deepEqual(n5.doc.trend.map((p) => [p.runId, p.total]), [
      [n4.runId, 5],
      [n5.runId, 5],
    ]);
    assert.ok(!n5.doc.trend.some((p) => p.total === 1));
    assert.deepEqual(n5.doc.prunedRuns.map((r) => r.runId), [runs[2].runId]);
    assert.match(n5.rendered.text, new RegExp(`Not in the chart \\(results partly pruned\\): run ${runs[2].runId}\\.`));
    // Streaks reaching into pruned history are lower bounds.
    assert.ok(n5.doc.stillFailing.every((s) => s.nights === 2 && s.nightsAtLeast === true), JSON.stringify(n5.doc.stillFailing.map((s) => [s.nights, s.nightsAtLeast])));

    // --since before everything: the oldest run kept whole (run 4), not the partly pruned one.
    t.clock.advance(DAY);
    const n6 = await night(t, { since: new Date(NIGHT1 - DAY) });
    assert.equal(n6.previousRunId, n4.runId);
    assert.equal(n6.doc.sinceBeforeOldest, true);
    const h = await loadHistory(t.store, n6.runId, { since: new Date(NIGHT1 - DAY) });
    assert.deepEqual(h.runs.filter((r) => r.partial).map((r) => r.runId), [runs[2].runId]);

    // The read-only query behind it: results left per run (a run without any is absent).
    assert.deepEqual(
      t.store.runResultCounts([runs[0].runId, runs[2].runId, n4.runId, 999]),
      new Map([
        [runs[2].runId, 1],
        [n4.runId, 5],
      ]),
    );
    assert.deepEqual(t.store.runResultCounts([]), new Map());
    assert.equal(t.store.getRun(runs[2].runId)?.total, 6);
  });
});

describe('nightly report: --since older than the runs loaded for streaks (QA: since-streak-gap)', () => {
  test('a streak never counts the nights that were not loaded, and the report says which were not', async () => {
    const t = await world();
    const depth = { historyDepth: 2 };
    const n1 = await night(t, depth);
    assert.ok(n1.doc.newProblems.some((i) => key(i) === STALE));
    // Night 2: fixed; night 3: back (an old zone file restored).
    t.editZone('florist.example', (z) => z.replace('"v=mc1 auth=dreamhost"', '"v=mc1 auth=newhostmc"'));
    t.clock.advance(DAY);
    const n2 = await night(t, depth);
    assert.ok(n2.doc.resolved.some((i) => key(i) === STALE));
    t.editZone('florist.example', (z) => z.replace('"v=mc1 auth=newhostmc"', '"v=mc1 auth=dreamhost"'));
    t.clock.advance(DAY);
    const n3 = await night(t, depth);
    t.clock.advance(DAY);
    await night(t, depth);
    t.clock.advance(DAY);
    // Night 5, --since before every run: compared with run 1; streaks and the chart look at runs 4 and 3 (depth 2).
    const since = new Date(NIGHT1 - DAY);
    const n5 = await night(t, { ...depth, since });
    assert.equal(n5.previousRunId, n1.runId);
    assert.equal(n5.doc.sinceBeforeOldest, true);
    // Present on nights 3, 4 and 5; night 2 (fixed) was not loaded: at least 3 nights — never 4 "since" night 1.
    const s = n5.doc.stillFailing.find((i) => key(i) === STALE);
    assert.deepEqual([s?.nights, s?.nightsAtLeast, s?.since], [3, true, n3.doc.startedAt]);
    assert.ok(n5.doc.stillFailing.every((i) => i.nights <= 3 && i.nightsAtLeast === true), JSON.stringify(n5.doc.stillFailing.map((i) => [key(i), i.nights])));
    assert.doesNotMatch(n5.rendered.text, /at least [4-9] nights/);
    assert.deepEqual(n5.doc.historyGap, { runs: 1, olderRunId: n1.runId, olderStartedAt: n1.doc.startedAt, newerRunId: n3.runId, newerStartedAt: n3.doc.startedAt });
    assert.ok(
      n5.rendered.text.includes(`1 complete run between run ${n1.runId} (${n1.doc.startedAt}) and run ${n3.runId} (${n3.doc.startedAt}) was not loaded: streaks count from run ${n3.runId} on`),
      n5.rendered.text.slice(0, 800),
    );
    assert.deepEqual(n5.doc.trend.map((p) => p.runId), [n3.runId, n3.runId + 1, n5.runId]);
    // The same `since` with every run loaded: nothing left out, the streak is exact (fixed on night 2).
    t.clock.advance(DAY);
    const n6 = await night(t, { since });
    assert.equal(n6.doc.historyGap, null);
    const s6 = n6.doc.stillFailing.find((i) => key(i) === STALE);
    assert.deepEqual([s6?.nights, s6?.nightsAtLeast], [4, undefined]);
  });
});

describe('nightly report: a domain whose only problems the unreadable zone hides (QA: masked-failing)', () => {
  test('is not counted as failing in the header or the chart (unknown that night)', async () => {
    const t = await world();
    const n1 = await night(t);
    assert.equal(n1.doc.summary.failingDomains, 5);
    assert.deepEqual(
      n1.doc.newProblems.filter((i) => i.domain === 'plumber.example').map((i) => [i.rule, i.severity]),
      [['dkim.key-mismatch', 'fail']],
    );
    // Night 2: the panel cannot read plumber.example's zone; its only problem (dkim) is one of the checks it hides.
    t.clock.advance(DAY);
    const broken = Object.create(t.panel) as typeof t.panel;
    broken.readZone = (d: string) => (d === 'plumber.example' ? Promise.reject(new PanelError('other', 'EISDIR: illegal operation on a directory')) : t.panel.readZone(d));
    const n2 = await night(t, { panel: broken });
    const u = n2.doc.unknown.filter((i) => i.domain === 'plumber.example');
    assert.deepEqual(u.map((i) => i.rule), ['dns.panel-zone-unreadable']);
    assert.ok(!n2.doc.stillFailing.some((i) => i.domain === 'plumber.example'));
    assert.deepEqual([n2.doc.summary.failingDomains, n2.doc.summary.unknownDomains], [4, 1]);
    assert.deepEqual(n2.doc.trend.map((p) => [p.failing, p.unknown]), [
      [5, 0],
      [4, 1],
    ]);
    assert.match(n2.rendered.text, /6 domains: 4 failing, 0 with warnings, 1 unknown\./);
    // bob's domains: plumber.example (unknown that night) and dentist.example (failing).
    assert.equal(n2.doc.byCustomer.find((c) => c.owner === 'bob')?.counts.failingDomains, 1);
    // The night after, the chart still shows that night as it was reported.
    t.clock.advance(DAY);
    const n3 = await night(t);
    assert.deepEqual(n3.doc.trend.map((p) => [p.failing, p.unknown]), [
      [5, 0],
      [4, 1],
      [5, 0],
    ]);
  });
});

describe('nightly report: a night of DNS trouble in the chart (QA: trend-unknown-zero)', () => {
  test('the night shows as unknown, not as 0 failing, in the text, the chart and the JSON', async () => {
    const t = await world();
    await night(t);
    // Night 2: every name answers SERVFAIL.
    const data: ServedZoneMap = buildWorld(join(t.dir, 'panel'));
    for (const n of Object.keys(data)) data[n] = { ...data[n], SERVFAIL: true };
    t.dns.setData(data);
    t.clock.advance(DAY);
    const n2 = await night(t);
    dnsClear(t);
    t.clock.advance(DAY);
    const n3 = await night(t);
    const [p1, p2, p3] = n3.doc.trend;
    assert.deepEqual([p1.failing, p3.failing], [5, 5]);
    assert.ok(p2.unknown > 0 && p2.failing < 5, JSON.stringify(p2));
    assert.deepEqual([p2.failing, p2.unknown], [n2.doc.summary.failingDomains, n2.doc.summary.unknownDomains]);
    assert.match(n3.rendered.text, new RegExp(`^Failing domains per night \\(oldest first\\): 5 ${p2.failing}\\? 5$`, 'm'));
    assert.match(n3.rendered.text, new RegExp(`^Unknown domains per night \\(DNS trouble: "\\?" above — failing not known for them\\): 0 ${p2.unknown} 0$`, 'm'));
    assert.match(n3.rendered.svg, new RegExp(`run ${n2.runId}, 2026-01-02: ${p2.failing} failing, ${p2.unknown} unknown \\(DNS trouble\\) of 6`));
    assert.equal([...n3.rendered.svg.matchAll(/<rect class="bar-unknown"/g)].length, 1);
  });
});
