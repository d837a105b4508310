// Setup for the fix (plan/apply/undo/reconcile) tests: a copy of the demo files panel in a temp dir, extra fixture
// zones from test/fixtures/plans, a loopback DNS server serving the panel + world, a fresh SQLite history and a
// fixed clock. Everything on 127.0.0.1; nothing depends on the wall clock.
import assert from 'node:assert/strict';
import { afterEach } from 'node:test';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createResolver, type WireResolver } from '../../src/adapters/dns/resolver.js';
import { startDnsServer, type DnsServer, type ServedZoneMap } from '../../src/adapters/dns/server.js';
import { FilesPanel, type FilesPanelConfig } from '../../src/adapters/panels/files/index.js';
import { parseZoneFile, type ParsedRecord } from '../../src/adapters/panels/files/zonefile.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { auditDomain } from '../../src/core/audit.js';
import type { FixKind, Finding } from '../../src/core/model.js';
import { applyPlan, type ApplyDeps, type ApplyOutcome } from '../../src/core/plans/apply.js';
import { makePlan } from '../../src/core/plans/index.js';
import type { Plan, PlanOptions } from '../../src/core/plans/plan.js';
import { addZoneFile, buildWorld, DEMO_PANEL_DIR, DEMO_WORLD_DIR } from '../../src/demo/world.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(HERE, '..', 'fixtures', 'plans');

/** The fixed "today" of every test: serials become 2027030100 (> the demo's 2026110101). */
export const TODAY = new Date('2027-03-01T12:00:00.000Z');
export const TODAY_SERIAL = 2027030100;

/** The fixture domains (test/fixtures/plans/zones/*.db), all owned by the customer "dave". */
export function fixtureDomains(): string[] {
  return readdirSync(join(FIXTURES, 'zones'))
    .filter((f) => f.endsWith('.db'))
    .map((f) => f.slice(0, -3))
    .sort();
}

export interface PlayOptions {
  /** Change the server section of panel.json (e.g. {relay: null}). */
  server?: Partial<FilesPanelConfig['server']>;
  /** Leave the DNS server's data as it was after each write (default: refresh it, like a live authoritative server). */
  autoRefresh?: boolean;
}

export interface Play {
  dir: string;
  dbPath: string;
  dns: DnsServer;
  store: Store;
  panel: FilesPanel;
  /** Re-serve the panel's zones as they are now on disk (the authoritative server picking up a change). */
  refresh(): void;
  /** A resolver with no cache (a fresh one per plan/apply). */
  resolver(): WireResolver;
  /** Fresh deps (fresh resolver) for makePlan/applyPlan/undoChange/reconcile. */
  deps(extra?: Partial<ApplyDeps>): ApplyDeps;
  plan(domain: string, check: FixKind, options?: PlanOptions): Promise<Plan>;
  zoneText(domain: string): string;
  writeZone(domain: string, text: string): void;
  /** Findings of one check (fresh resolver, fresh panel read). */
  findings(domain: string, check: FixKind): Promise<Finding[]>;
  close(): Promise<void>;
}

/** The extra "outside world" records the fixture zones need (absolute names). */
export function fixtureWorld(): string {
  return readFileSync(join(FIXTURES, 'world.db'), 'utf8');
}

export function servedData(dir: string): ServedZoneMap {
  const map = buildWorld(dir, DEMO_WORLD_DIR);
  addZoneFile(map, fixtureWorld(), '');
  return map;
}

export async function startPlay(opts: PlayOptions = {}): Promise<Play> {
  const root = mkdtempSync(join(tmpdir(), 'mailhealth-fixplay-'));
  const dir = join(root, 'panel');
  cpSync(DEMO_PANEL_DIR, dir, { recursive: true });
  // Fixture zones, keys and overrides.
  cpSync(join(FIXTURES, 'zones'), join(dir, 'zones'), { recursive: true });
  if (existsSync(join(FIXTURES, 'dkim'))) cpSync(join(FIXTURES, 'dkim'), join(dir, 'dkim'), { recursive: true });
  if (existsSync(join(FIXTURES, 'domains'))) cpSync(join(FIXTURES, 'domains'), join(dir, 'domains'), { recursive: true });
  const cfg = JSON.parse(readFileSync(join(dir, 'panel.json'), 'utf8')) as FilesPanelConfig;
  cfg.accounts.push({ user: 'dave', role: 'customer', domains: fixtureDomains() });
  if (opts.server) cfg.server = { ...cfg.server, ...opts.server };
  writeFileSync(join(dir, 'panel.json'), JSON.stringify(cfg, null, 2) + '\n');

  const dns = await startDnsServer({ data: servedData(dir) });
  const dbPath = join(root, 'h.sqlite');
  const store = openStore(dbPath, { now: () => TODAY.getTime() });
  const autoRefresh = opts.autoRefresh !== false;
  const resolvers: WireResolver[] = [];

  const makePanel = () => {
    const p = new FilesPanel(dir);
    p.now = () => TODAY;
    return p;
  };
  const panel = makePanel();
  // Writes go through this panel; after each write the DNS server picks the zone up (unless autoRefresh is off).
  const origApply = panel.applyChanges.bind(panel);
  panel.applyChanges = async (...args) => {
    const r = await origApply(...args);
    if (autoRefresh) dns.setData(servedData(dir));
    return r;
  };

  const play: Play = {
    dir,
    dbPath,
    dns,
    store,
    panel,
    refresh: () => dns.setData(servedData(dir)),
    resolver() {
      const r = createResolver({ servers: [dns.address], authoritativePort: dns.port, cache: false, timeoutMs: 1000, tries: 2 });
      resolvers.push(r);
      return r;
    },
    deps(extra = {}) {
      return { panel, resolver: play.resolver(), history: store, byUser: 'root', ...extra };
    },
    plan(domain, check, options = {}) {
      return makePlan({ domain, check, options }, { panel, resolver: play.resolver() });
    },
    zoneText: (domain) => readFileSync(join(dir, 'zones', `${domain}.db`), 'utf8'),
    writeZone: (domain, text) => writeFileSync(join(dir, 'zones', `${domain}.db`), text),
    async findings(domain, check) {
      const a = await auditDomain(domain, { panel: makePanel(), resolver: play.resolver(), checks: [check], now: () => TODAY });
      return a.findings.filter((f) => f.check === check);
    },
    async close() {
      for (const r of resolvers) r.close();
      store.close();
      await dns.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return play;
}

/** Findings that the given fix is meant to make go away (fail/warn with fix === check). */
export function fixable(findings: Finding[], check: FixKind): Finding[] {
  return findings.filter((f) => f.fix === check && (f.severity === 'fail' || f.severity === 'warn'));
}

/** The SOA serial in a zone file's text (the token after mname and rname). */
export function serialOf(text: string): number {
  const m = /SOA\s+\S+\s+\S+\s*\(?\s*(?:;[^\n]*\n\s*)*([0-9]+)/.exec(text);
  if (!m) throw new Error('no SOA serial in the zone text');
  return Number(m[1]);
}

/** Index of the line that carries the SOA serial. */
export function serialLineIndex(text: string): number {
  const serial = String(serialOf(text));
  const lines = text.split('\n');
  const soa = lines.findIndex((l) => /\bSOA\b/.test(l));
  for (let i = soa; i < lines.length; i++) if (lines[i].split(';')[0].includes(serial)) return i;
  throw new Error('no serial line');
}

/**
 * Line-level diff of two zone texts, ignoring the SOA serial line: the lines only in `before` (removed) and only in
 * `after` (added), as multisets; every other line is unchanged byte for byte (and in the same order — checked by
 * comparing the common lines in sequence).
 */
export function lineDiff(before: string, after: string): { removed: string[]; added: string[]; commonInOrder: boolean } {
  const bs = before.split('\n');
  const as = after.split('\n');
  const bSerial = serialLineIndex(before);
  const aSerial = serialLineIndex(after);
  const b = bs.filter((_, i) => i !== bSerial);
  const a = as.filter((_, i) => i !== aSerial);
  const count = (xs: string[]) => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const cb = count(b);
  const ca = count(a);
  const removed: string[] = [];
  const added: string[] = [];
  for (const [l, n] of cb) for (let i = 0; i < n - (ca.get(l) ?? 0); i++) removed.push(l);
  for (const [l, n] of ca) for (let i = 0; i < n - (cb.get(l) ?? 0); i++) added.push(l);
  const rem = count(removed);
  const add = count(added);
  const keepB = b.filter((l) => {
    const n = rem.get(l) ?? 0;
    if (n > 0) {
      rem.set(l, n - 1);
      return false;
    }
    return true;
  });
  const keepA = a.filter((l) => {
    const n = add.get(l) ?? 0;
    if (n > 0) {
      add.set(l, n - 1);
      return false;
    }
    return true;
  });
  return { removed, added, commonInOrder: keepB.join('\n') === keepA.join('\n') };
}

/** The serial line of two texts, for comparing only that line. */
export function withoutSerialLine(text: string): string {
  const i = serialLineIndex(text);
  return text
    .split('\n')
    .filter((_, k) => k !== i)
    .join('\n');
}

// ---- apply-and-check: the invariants every successful fix must keep ----

export interface AppliedFix {
  plan: Plan;
  outcome: Extract<ApplyOutcome, { status: 'applied' }>;
  before: string;
  after: string;
}

function recordKeyOf(r: { name: string; ttl: number; type: string; txt?: string[]; value: string }): string {
  return JSON.stringify([r.name.toLowerCase(), r.ttl, r.type.toUpperCase(), r.txt ?? [r.value]]);
}

/** Parsed records of a zone text as comparable keys (name, ttl, type, strings), sorted. */
export function recordKeys(text: string, domain: string, filter: (r: ParsedRecord) => boolean = () => true): string[] {
  return parseZoneFile(text, domain)
    .records.filter(filter)
    .map((r) => recordKeyOf({ name: r.name, ttl: r.ttl, type: r.type, value: r.rdata.join(' '), ...(r.txt ? { txt: r.txt } : {}) }))
    .sort();
}

/**
 * Preview, apply (with the preview's hash) and check: applied and verified; only the lines of the records the plan
 * changes differ (the removed lines are exactly those records' lines, the added lines parse to exactly the new
 * records); every other line is byte-identical and in order; the serial is bumped; re-planning is empty; the
 * check no longer reports anything this fix is meant to fix.
 */
export async function applyAndCheck(
  play: Play,
  domain: string,
  check: FixKind,
  options: PlanOptions = {},
  /** Findings the fix is not expected to clear (e.g. spf.record-too-long for a record that must stay over 512 bytes). */
  allowRules: string[] = [],
): Promise<AppliedFix> {
  const before = play.zoneText(domain);
  const plan = await play.plan(domain, check, options);
  assert.equal(plan.mode, 'apply');
  assert.equal(plan.blocked, undefined, `unexpectedly blocked: ${plan.blocked}`);
  assert.ok(plan.changes.length + plan.actions.length > 0, `${domain} ${check}: the plan is empty`);
  const outcome = await applyPlan({ domain, check, planHash: plan.planHash, options }, play.deps());
  assert.equal(outcome.status, 'applied', JSON.stringify(outcome));
  if (outcome.status !== 'applied') throw new Error('not applied');
  assert.equal(outcome.verified, 'yes');
  const after = play.zoneText(domain);

  // Only the owned records' lines moved.
  const beforeLines = before.split('\n');
  const expectRemoved: string[] = [];
  for (const c of outcome.plan.changes) {
    if (c.action === 'add') continue;
    const [s, e] = c.before!.ref!.split('-').map(Number);
    expectRemoved.push(...beforeLines.slice(s, e + 1));
  }
  const d = lineDiff(before, after);
  assert.deepEqual([...d.removed].sort(), [...expectRemoved].sort(), 'removed lines are exactly the replaced records');
  assert.ok(d.commonInOrder, 'untouched lines keep their order');
  const wantAdded = outcome.plan.changes.filter((c) => c.after).map((c) => recordKeyOf(c.after!)).sort();
  assert.deepEqual(recordKeys(d.added.join('\n'), domain), wantAdded, 'added lines are exactly the new records');
  for (const c of outcome.plan.changes) for (const s of c.after?.txt ?? []) assert.ok(Buffer.byteLength(s) <= 255, 'strings ≤ 255 bytes');

  // Serial: YYYYMMDDnn of the fixed "today", or old+1.
  const old = serialOf(before);
  assert.equal(serialOf(after), old < TODAY_SERIAL ? TODAY_SERIAL : old + 1);

  // History.
  const ch = play.store.getChange(outcome.changeId)!;
  assert.equal(ch.status, 'applied');
  assert.equal(ch.verified, 'yes');
  assert.equal(ch.planHash, plan.planHash);

  // Idempotence and the check.
  const again = await play.plan(domain, check, options);
  assert.deepEqual(again.changes, [], `re-plan of ${domain} ${check} is empty`);
  assert.deepEqual(again.actions, []);
  assert.deepEqual(
    fixable(await play.findings(domain, check), check)
      .filter((f) => !allowRules.includes(f.rule))
      .map((f) => `${f.rule}: ${f.message}`),
    [],
    `the ${check} check passes after the fix`,
  );
  return { plan, outcome, before, after };
}

/** A `start()` for a test file: each test's play is started on demand and closed after the test (node:test afterEach). */
export function playPerTest(): () => Promise<Play> {
  let play: Play | null = null;
  afterEach(async () => {
    await play?.close();
    play = null;
  });
  return async () => (play = await startPlay());
}
