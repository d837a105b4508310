// Property: a fix changes a zone only where some finding offers it, and where a finding offers a fix, its plan changes
// something or is blocked with a reason — never "Nothing to change" under an offered fix.
//
// The user sees the finding list; the CLI (`mailhealth fix D --check K`) and the web let them run any of the four fixes
// anyway. A fix that rewrites a record no finding complained about surprises them (review: `v=DMARC1; p=none; foo=bar;
// rua=…` was dmarc.ok, yet the DMARC fix rewrote it dropping foo=bar; `v=DMARC1; rua=…; p=none` was ok, yet the fix
// moved p= with no note), and a finding whose fix then does nothing is a dead end.
//
// Checked over some 1,000 domains, through the real adapters (files panel, wire resolver, loopback DNS), with
// auditDomain and makePlan exactly as the CLI and the web call them:
//  - test/core/plans/offered-world.ts: a server that delivers its own mail and one that relays through MailChannels
//    (240 domains each, and 40 for one whose MailChannels account id is not configured), each domain's SPF, DKIM, DMARC
//    and lockdown records drawn from realistic pieces (seeded), a name answering SERVFAIL among them;
//  - test/helpers/verdict-world.ts: the verification world's three panels (the benchmark's generator, a direct and a
//    relayed server, their hand-made domains), their DMARC record and lockdown record varied from the same pieces;
//  - ../shared/corpora/zones (skipped with a message when absent): each zone file as a panel's zone, for a direct and a
//    relayed server.
// For every domain and each fix (spf, dkim, dmarc, lockdown) both directions are asserted. The allow-list (ALLOWED)
// names the cases left as they are, each with why.
//
// What this test found, each fixed and pinned by a test of its own: the DMARC fix rewrote records that only spell what
// it writes otherwise (offered-dmarc.test.ts); the SPF fix rewrote records for their spacing, the case of v=spf1, where
// redirect= stands or a shadowed "-ip4:" of this server's, and dropped repeats, terms after all and names that do not
// exist while no finding offered it, and spf.stale-term offered a move the plan never made (offered-spf.test.ts);
// spf.string-too-long lost its fix beside IPv6-only void lookups (checks/spf-string-too-long-voids.test.ts); copies
// of a record in the panel's zone were removed with no finding offering it, and merged as "two records"
// (checks/dns-copies.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createResolver, type WireResolver } from '../../../src/adapters/dns/resolver.js';
import { startDnsServer, type DnsServer, type ServedZoneMap } from '../../../src/adapters/dns/server.js';
import { FilesPanel } from '../../../src/adapters/panels/files/index.js';
import { auditDomain, type AuditDeps } from '../../../src/core/audit.js';
import type { Change, Finding, FixKind } from '../../../src/core/model.js';
import { makePlan, PlanError } from '../../../src/core/plans/index.js';
import type { Plan } from '../../../src/core/plans/plan.js';
import { addZoneFile } from '../../../src/demo/world.js';
import { corpusMissing, corpusPath, readCorpus } from '../../helpers/corpora.js';
import { prng } from '../../helpers/prng.js';
import { MAILCHANNELS, scenario, type Scenario, type ScenarioSpec } from '../../helpers/scenario.js';
import { buildVerdictWorld } from '../../helpers/verdict-world.js';
import { AUTH_ID, dmarcCorpus, generateDomain, lockdownCorpus, servable, SERVFAIL_NAME, varyVerdictZone } from './offered-world.js';

const FIXES: readonly FixKind[] = ['spf', 'dkim', 'dmarc', 'lockdown'];
const SEED = 20261129;
const PER_SERVER = 240;

/**
 * What each plan was, per fix: offered and changing, offered and blocked, not offered and changing nothing, not offered
 * and blocked. The property holds vacuously unless the world reaches the first and the third for every fix (asserted
 * at the end), so a generator that stops producing a kind of record is noticed.
 */
type Quadrant = 'offered-changes' | 'offered-blocked' | 'quiet-nothing' | 'quiet-blocked';
const tally = new Map<string, number>();
const count = (fix: FixKind, q: Quadrant) => tally.set(`${fix} ${q}`, (tally.get(`${fix} ${q}`) ?? 0) + 1);

/** One broken direction of the invariant, for one domain and one fix. */
interface Violation {
  group: string;
  domain: string;
  fix: FixKind;
  kind: 'changed-unoffered' | 'offered-nothing' | 'plan-error';
  /** What a reader needs: the findings of the fix's check, the plan's changes and notes. */
  detail: string;
}

/**
 * Violations left as they are, each with why: matched by fix, kind and a test on the violation (its domain and detail).
 * Each entry must still match something (else it is stale and is to be removed).
 */
interface Allowed {
  fix: FixKind;
  kind: Violation['kind'];
  match: (v: Violation) => boolean;
  why: string;
}
// Empty: every violation found so far was a defect, fixed (above). What the world does not reach is said in the report
// of the change, not allowed here: a panel that cannot tell whether the server relays (relayUnknown: the files panel
// always knows), DNS timeouts (SERVFAIL stands in for them: the same `unknown` answer, without the wait).
const ALLOWED: Allowed[] = [];

const show = (f: Finding) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject.slice(0, 80)}]` : ''}${f.fix ? ` (fix: ${f.fix})` : ''}`;
const text = (r: Change['before']) => (r ? JSON.stringify((r.txt ?? [r.value]).join('')).slice(0, 300) : '-');
const showChange = (c: Change) => `${c.action} ${c.name} ${c.type}: ${text(c.before)} → ${text(c.after)}`;

/** Both directions of the invariant for one domain, every fix: the audit's findings, then each fix's plan. */
async function judge(group: string, domain: string, deps: AuditDeps): Promise<Violation[]> {
  const audit = await auditDomain(domain, deps);
  const out: Violation[] = [];
  for (const fix of FIXES) {
    const offered = audit.findings.filter((f) => f.fix === fix);
    let plan: Plan | null = null;
    let error = '';
    try {
      plan = await makePlan({ domain, check: fix }, deps);
    } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      error = e.message;
    }
    const changes = plan ? plan.changes.length + plan.actions.length : 0;
    const findings = audit.findings.filter((f) => f.check === fix || f.check === 'dns').map(show);
    const detail = [
      `findings: ${findings.join('; ')}`,
      ...(plan ? [`mode ${plan.mode}${plan.blocked ? `, blocked: ${plan.blocked}` : ''}`, ...plan.changes.map(showChange), ...plan.actions.map((a) => `action ${a.kind}`), ...plan.notes.map((n) => `note: ${n}`)] : [`plan error: ${error}`]),
    ].join('\n    ');
    if (!plan) {
      // No plan (DNS did not answer, the panel could not give the zone): the audit must not offer the fix either.
      if (offered.length) out.push({ group, domain, fix, kind: 'plan-error', detail });
      continue;
    }
    if (!offered.length && changes > 0 && !plan.blocked) out.push({ group, domain, fix, kind: 'changed-unoffered', detail });
    if (offered.length && changes === 0 && !plan.blocked) out.push({ group, domain, fix, kind: 'offered-nothing', detail });
    if (plan.blocked) count(fix, offered.length ? 'offered-blocked' : 'quiet-blocked');
    else if (offered.length && changes > 0) count(fix, 'offered-changes');
    else if (!offered.length && changes === 0) count(fix, 'quiet-nothing');
  }
  return out;
}

/** Every domain judged, a few at a time (the DNS waits overlap). */
async function judgeAll(group: string, domains: readonly string[], deps: AuditDeps): Promise<Violation[]> {
  const out: Violation[][] = new Array(domains.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < domains.length) {
        const i = next++;
        out[i] = await judge(group, domains[i], deps);
      }
    }),
  );
  return out.flat();
}

/** Violations not on the allow-list; marks the entries used. */
function unexplained(vs: readonly Violation[], used: Set<Allowed>): Violation[] {
  return vs.filter((v) => {
    const a = ALLOWED.find((x) => x.fix === v.fix && x.kind === v.kind && x.match(v));
    if (a) used.add(a);
    return !a;
  });
}

function report(vs: readonly Violation[], zoneOf: (v: Violation) => string): string {
  return vs.map((v) => `${v.group} ${v.domain} — ${v.fix}: ${v.kind}\n    ${v.detail}\n  zone:\n${zoneOf(v).replace(/^/gm, '    | ')}`).join('\n\n');
}

const used = new Set<Allowed>();

describe('a fix changes a zone only where a finding offers it; an offered fix changes something or is blocked', { timeout: 900_000 }, () => {
  // ---- the generated panels (offered-world.ts) ----
  const scenarios: { name: string; s: Scenario; domains: string[] }[] = [];
  /** What was drawn for each generated domain beyond its zone (the panel's settings for it), for the report. */
  const drawn = new Map<string, string[]>();
  before(async () => {
    const r = prng(SEED);
    const corpora = { dmarc: dmarcCorpus(), lockdown: lockdownCorpus() };
    for (const [name, relay, n] of [
      ['direct', null, PER_SERVER],
      ['relayed', MAILCHANNELS, PER_SERVER],
      // Relaying through MailChannels with no account id configured: the lockdown fix is blocked whatever the records.
      ['relayed-noid', { provider: 'mailchannels', host: 'relay.mailchannels.net' }, 40],
    ] as const) {
      // The relayed servers' domains sit under an organizational domain with a DMARC policy of its own: one without a
      // record of its own inherits it (dmarc.inherited), and the DMARC fix publishes nothing there.
      const world: string[] = name === 'direct' ? [] : [`_dmarc.${name}.example.\tTXT\t"v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@${name}.example"`];
      const domains: ScenarioSpec['domains'] = {};
      for (let i = 0; i < n; i++) {
        const d = `o${String(i).padStart(3, '0')}.${name}.example`;
        const g = generateDomain(r, d, relay !== null, world, corpora);
        domains[d] = g.spec;
        drawn.set(d, g.tags);
      }
      const spec: ScenarioSpec = { server: { relay, ips: ['203.0.113.10'] }, domains, world: world.join('\n') + '\n', extra: { [SERVFAIL_NAME]: { SERVFAIL: true } } };
      scenarios.push({ name, s: await scenario(spec), domains: Object.keys(domains) });
    }
  });
  after(async () => {
    for (const { s } of scenarios) await s.cleanup();
  });

  for (const name of ['direct', 'relayed', 'relayed-noid']) {
    const server = { direct: 'delivers its own mail', relayed: 'relays through MailChannels', 'relayed-noid': 'relays through MailChannels, its account id not configured' }[name];
    test(`generated domains, a server that ${server}`, async () => {
      const sc = scenarios.find((x) => x.name === name)!;
      const vs = unexplained(await judgeAll(name, sc.domains, { panel: sc.s.panel, resolver: sc.s.resolver }), used);
      const zoneOf = (v: Violation) => `; drawn: ${(drawn.get(v.domain) ?? []).join(', ')}\n${readFileSync(join(sc.s.root, 'zones', `${v.domain}.db`), 'utf8')}`;
      assert.equal(vs.length, 0, `${vs.length} violations:\n\n${report(vs, zoneOf)}`);
    });
  }

  // ---- the verification world (verdict-world.ts), its DMARC and lockdown records varied ----
  describe('the verification world', () => {
    let root: string;
    let dns: DnsServer;
    let resolver: WireResolver;
    let panels: Record<string, string>;
    let domains: { panel: string; domain: string }[];
    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'mailhealth-offered-'));
      const world = buildVerdictWorld(root);
      const r = prng(SEED + 1);
      const corpora = { dmarc: dmarcCorpus(), lockdown: lockdownCorpus() };
      const map: ServedZoneMap = world.map;
      for (const g of world.domains) {
        if (g.panel === 'bench') continue;
        const file = join(world.panels[g.panel], 'zones', `${g.domain}.db`);
        const zone = varyVerdictZone(r, g.domain, readFileSync(file, 'utf8'), map, corpora);
        writeFileSync(file, zone);
        for (const k of Object.keys(map)) if (k === g.domain || k.endsWith(`.${g.domain}`)) delete map[k];
        addZoneFile(map, zone, g.domain);
      }
      dns = await startDnsServer({ data: map });
      resolver = createResolver({ servers: [dns.address], timeoutMs: 1000, tries: 2 });
      panels = world.panels;
      domains = world.domains.map((g) => ({ panel: g.panel, domain: g.domain }));
    });
    after(async () => {
      await dns?.close();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    for (const panel of ['bench', 'direct', 'relayed']) {
      test(`panel ${panel}`, async () => {
        const deps: AuditDeps = { panel: new FilesPanel(panels[panel]), resolver };
        const names = domains.filter((d) => d.panel === panel).map((d) => d.domain);
        assert.ok(names.length > 50);
        const vs = unexplained(await judgeAll(`verdict-${panel}`, names, deps), used);
        const zoneOf = (v: Violation) => readFileSync(join(panels[panel], 'zones', `${v.domain}.db`), 'utf8');
        assert.equal(vs.length, 0, `${vs.length} violations:\n\n${report(vs, zoneOf)}`);
      });
    }
  });

  // ---- the corpora's zone files, each as a panel's zone ----
  const ZONES: [file: string, origin: string][] = [
    ['zones/dnscontrol-example.org.zone', 'example.org'],
    ['zones/dnscontrol-simple.com.zone', 'simple.com'],
    ['zones/dnscontrol-apex.com.zone', 'apex.com'],
    ['zones/dnscontrol-ds.com.zone', 'ds.com'],
    ['zones/octodns-bind-unit.tests.zone', 'unit.tests'],
    ['zones/elgs-dns-zonefile-zonefile_forward.txt', 'mydomain.com'],
  ];
  for (const [file, origin] of ZONES) {
    const missing = corpusPath(file) ? false : corpusMissing(file);
    for (const relayed of [false, true]) {
      test(`corpus zone ${file} (${origin}), ${relayed ? 'relayed' : 'direct'} server`, { skip: missing }, async () => {
        const zone = readCorpus(file);
        const served: ServedZoneMap = {};
        addZoneFile(served, zone, origin);
        // The panel serves the zone (its nameservers are the zone's own), so the plans are the ones apply writes.
        const ns = (served[origin]?.NS ?? []).map((n) => n.replace(/\.$/, ''));
        const s = await scenario({
          server: { relay: relayed ? { ...MAILCHANNELS, authId: AUTH_ID } : null, ...(ns.length ? { nameservers: ns } : {}), dkimSelector: relayed ? 'd201911' : 'default' },
          domains: { [origin]: { zone, ...(servable(zone) !== zone ? { live: servable(zone) } : {}) } },
        });
        try {
          const vs = unexplained(await judge(`corpus-${relayed ? 'relayed' : 'direct'}`, origin, { panel: s.panel, resolver: s.resolver }), used);
          assert.equal(vs.length, 0, `${vs.length} violations:\n\n${report(vs, () => zone)}`);
        } finally {
          await s.cleanup();
        }
      });
    }
  }

  test('the world reaches both sides of the property for every fix (it does not hold vacuously)', () => {
    // Offered and changing, not offered and changing nothing: for every fix. Blocked plans: for some (the DKIM check
    // never offers a fix whose plan is blocked, so that one may stay empty).
    const missing = FIXES.flatMap((fix) => (['offered-changes', 'quiet-nothing'] as const).filter((q) => !tally.get(`${fix} ${q}`)).map((q) => `${fix} ${q}`));
    for (const q of ['offered-blocked', 'quiet-blocked'] as const) if (!FIXES.some((fix) => tally.get(`${fix} ${q}`))) missing.push(q);
    assert.deepEqual(missing, [], JSON.stringify(Object.fromEntries(tally)));
  });

  test('every allow-list entry still matches a violation', () => {
    const stale = ALLOWED.filter((a) => !used.has(a));
    assert.deepEqual(
      stale.map((a) => `${a.fix} ${a.kind}: ${a.why}`),
      [],
    );
  });
});
