// Audit/fix parity across every panel adapter (issue 4, Tests): the same domain served by a files panel in a temp dir
// and by the cPanel (UAPI), WHM (API 1, on-server files) and Plesk (REST + plesk bin over REST) emulators on 127.0.0.1 —
// same records, same server settings (host name, outbound IP, HELO, nameservers, DKIM key, relay). Live DNS is a map
// resolver that serves each panel's zone as the panel holds it (rebuilt from readZone() after every write), with the
// panel's nameservers as the domain's NS, so every plan is `apply`. Per scenario: same findings (rule, check, severity,
// subject); for each fix the same plan (action, name, type, TTL, before/after value and chunks; `ref` ignored); applied
// through applyPlan (a SQLite history per panel) → verified, the same owned records on every panel, nothing else moved,
// an empty re-plan; then the same findings and zone everywhere; undo (last first) restores every record.
//
// Scenarios: a post-migration domain (edits/removes), a fresh domain (adds; the panel generates the DKIM key), and a zone
// whose SOA still names the previous host (Plesk left out: its REST API lists no SOA). No relay in these: Plesk reads a
// relay host from Postfix `relayhost` but has no MailChannels account id (and remote WHM no relay at all), so the
// MailChannels lockdown case is a separate test where Plesk's plan is `blocked`.
// Plesk stores a TXT value as one string, so how its values are cut into character-strings is not compared.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FilesPanel } from '../../../src/adapters/panels/files/index.js';
import { auditDomain } from '../../../src/core/audit.js';
import { canonName } from '../../../src/core/domain.js';
import { FIX_KINDS, type Change, type FixKind, type ZoneRecord } from '../../../src/core/model.js';
import type { Panel } from '../../../src/core/panel.js';
import { applyPlan, undoChange } from '../../../src/core/plans/apply.js';
import { makePlan } from '../../../src/core/plans/index.js';
import { ownedNames, type Plan } from '../../../src/core/plans/plan.js';
import type { RunningServer } from '../../helpers/emulators/cpanel.js';
import type { FixtureRecord } from '../../helpers/emulators/fixture.js';
import { DOMAIN, FIXED, liveRig, serverFixture, startEmulator, worldMap, type LiveRig } from '../../helpers/emulators/rig.js';
import { MAILCHANNELS, otherRsaKey, rsaKey, SERVER, writePanel } from '../../helpers/scenario.js';

const KINDS = ['files', 'cpanel', 'whm', 'plesk'] as const;
type Kind = (typeof KINDS)[number];

const SPF = 'v=spf1 +a +mx include:websitewelcome.com include:_spf.google.com ~all';
const VERIFY = 'google-site-verification=parity-test-token';
const LOCKDOWN = 'v=mc1 auth=oldhostco';
const DMARC = 'v=DMARC1; p=quarantine; rua=mailto:dmarc@websitewelcome.com';
const OUR_SOA = 'ns1.newhost.example.';

interface Spec {
  title: string;
  /** The records (cPanel-style rdata fields: names with a trailing dot, TXT = character-strings). */
  records(): FixtureRecord[];
  /** The server signs the domain with its key (else the DKIM fix has the panel generate one). */
  serverKey: boolean;
  /** SOA MNAME (default this server's first nameserver). Plesk's REST API carries no SOA: see the traces scenario. */
  soaMname?: string;
  /** The fixes that have something to do, in the order they are applied. */
  fixes: FixKind[];
  /** Findings (substrings) the files panel must show before the fixes: the scenario really has its problems. */
  expect: string[];
  /** Panels left out of this scenario, and why. */
  skip?: Partial<Record<Kind, string>>;
}

function base(d: string): FixtureRecord[] {
  return [
    { name: d, ttl: 86400, type: 'NS', data: ['ns1.newhost.example.'] },
    { name: d, ttl: 86400, type: 'NS', data: ['ns2.newhost.example.'] },
    { name: d, ttl: 14400, type: 'A', data: ['203.0.113.10'] },
    { name: d, ttl: 14400, type: 'MX', data: ['10', `mail.${d}.`] },
    { name: `mail.${d}`, ttl: 14400, type: 'A', data: ['203.0.113.10'] },
    { name: `www.${d}`, ttl: 14400, type: 'CNAME', data: [`${d}.`] },
    { name: d, ttl: 14400, type: 'TXT', data: [VERIFY] }, // a non-SPF apex TXT the SPF fix must not touch
  ];
}

/** A post-migration domain: HostGator include + a kept Google include, stale lockdown, old DKIM key, stale rua. */
const MIGRATED: Spec = {
  title: 'a post-migration domain',
  records() {
    const old = `v=DKIM1; k=rsa; p=${otherRsaKey().publicB64}`; // the previous host's key at the server's selector
    const d = DOMAIN;
    return [
      ...base(d),
      { name: d, ttl: 14400, type: 'TXT', data: [SPF] },
      { name: `_mailchannels.${d}`, ttl: 14400, type: 'TXT', data: [LOCKDOWN] },
      { name: `default._domainkey.${d}`, ttl: 3600, type: 'TXT', data: [old.slice(0, 255), old.slice(255)] },
      { name: `_dmarc.${d}`, ttl: 7200, type: 'TXT', data: [DMARC] },
    ];
  },
  serverKey: true,
  fixes: ['spf', 'dkim', 'dmarc'],
  expect: ['warn spf spf.stale-term [include:websitewelcome.com]', 'info spf spf.term [include:_spf.google.com]', 'fail dkim dkim.key-mismatch', 'warn lockdown lockdown.inert', 'warn dmarc dmarc.stale-destination', 'pass dns dns.authoritative'],
};

/** Nothing published yet and no DKIM key on the server: every fix adds, the DKIM fix has the panel generate a key. */
const FRESH: Spec = {
  title: 'a fresh domain (no SPF, DKIM, DMARC; no server key)',
  records: () => base(DOMAIN),
  serverKey: false,
  fixes: ['spf', 'dkim', 'dmarc'],
  expect: ['fail spf spf.missing', 'dkim.', 'dmarc.missing'],
};

/**
 * Traces of the previous host in the zone itself (the files-panel "traces" scenario): the SOA still names the old
 * provider's nameserver, so its unknown SPF include is stale. Plesk is left out: its REST API lists no SOA (Plesk
 * writes its own), so the trace cannot exist there.
 */
const TRACES: Spec = {
  title: "a zone whose SOA still names the previous host's nameserver",
  records: () => [...base(DOMAIN), { name: DOMAIN, ttl: 14400, type: 'TXT', data: ['v=spf1 ip4:203.0.113.10 include:spf.soaprovider.test ~all'] }],
  serverKey: true,
  soaMname: 'ns1.soaprovider.test.',
  fixes: ['spf', 'dkim', 'dmarc'],
  expect: ['warn spf spf.stale-term [include:spf.soaprovider.test]'],
  skip: { plesk: 'Plesk lists no SOA record over REST (it generates its own SOA), so a stale SOA MNAME cannot be expressed' },
};

/** The same records as a BIND zone file for the files panel. */
function zoneFileText(spec: Spec): string {
  const lines = ['$TTL 3600', `${DOMAIN}.\t86400\tIN\tSOA\t${spec.soaMname ?? OUR_SOA} hostmaster.${DOMAIN}. ( 2024061100 3600 1800 1209600 86400 )`];
  for (const r of spec.records()) {
    const rdata = r.type === 'TXT' ? r.data.map((s) => JSON.stringify(s)).join(' ') : r.data.join(' ');
    lines.push(`${r.name}.\t${r.ttl}\tIN\t${r.type}\t${rdata}`);
  }
  return lines.join('\n') + '\n';
}

interface Setup {
  rigs: Record<Kind, LiveRig>;
  servers: RunningServer[];
  tmp: string;
}

/**
 * Every panel holding the scenario's zone: the files panel in a temp dir, the cPanel (UAPI), WHM (API 1, mail settings
 * from the server's files) and Plesk (REST + plesk bin over REST) emulators, one server state each — each with its
 * public DNS (the zone's nameservers answering the same, so a write is verified) and history.
 */
async function setup(spec: Spec, opts: { mailchannels: boolean }): Promise<Setup> {
  const tmp = mkdtempSync(join(tmpdir(), 'mh-panel-parity-'));
  const servers: RunningServer[] = [];
  const inner: Partial<Record<Kind, Panel>> = {};

  const filesRoot = join(tmp, 'files');
  writePanel(filesRoot, {
    server: { ...SERVER, relay: opts.mailchannels ? { ...MAILCHANNELS } : null },
    domains: { [DOMAIN]: { zone: zoneFileText(spec), pem: spec.serverKey ? rsaKey().privatePem : null } },
  });
  const files = new FilesPanel(filesRoot);
  files.now = () => FIXED;
  inner.files = files;

  for (const kind of ['cpanel', 'whm', 'plesk'] as const) {
    const emu = await startEmulator(kind, serverFixture(spec.records()), join(tmp, `${kind}-root`), { serverKey: spec.serverKey, soaMname: spec.soaMname, mailchannels: opts.mailchannels });
    servers.push(emu.server);
    inner[kind] = emu.panel;
  }

  const world = worldMap();
  const rigs = {} as Record<Kind, LiveRig>;
  for (const kind of KINDS) rigs[kind] = await liveRig(inner[kind]!, join(tmp, `${kind}.sqlite`), { world, authoritative: true });
  return { rigs, servers, tmp };
}

async function teardown(s: Setup | undefined): Promise<void> {
  if (!s) return;
  for (const r of Object.values(s.rigs)) r.store.close();
  for (const srv of s.servers) await srv.close();
  rmSync(s.tmp, { recursive: true, force: true });
}

// ---- Normalised views (no `ref`, no panel version tokens) ----

interface Rec {
  name: string;
  type: string;
  ttl: number;
  /** TXT: the character-strings joined; the panel's own DKIM public key shown as <server key> (a generated key differs per panel). */
  value: string;
  /** TXT: the lengths of the character-strings (how the value is cut), else null. */
  chunks: number[] | null;
}
const text = (r: ZoneRecord) => (r.txt ? r.txt.join('') : r.value);
function rec(r: ZoneRecord, key: string | undefined, withChunks = true): Rec {
  const type = r.type.toUpperCase();
  let value = type === 'TXT' ? text(r) : r.value;
  if (key) value = value.split(key).join('<server key>');
  return { name: canonName(r.name), type, ttl: r.ttl, value, chunks: withChunks && type === 'TXT' ? (r.txt ?? [r.value]).map((c) => Buffer.byteLength(c)) : null };
}
function sortRecs(rs: Rec[]): Rec[] {
  return rs.sort((a, b) => `${a.name} ${a.type} ${a.value}`.localeCompare(`${b.name} ${b.type} ${b.value}`));
}
/**
 * Plesk keeps a TXT value as one string (plesk.md §1.2): how it is cut into character-strings is the adapter's own
 * rendering (every 255 bytes), not what was written — so chunking is compared only between the panels that store it.
 */
const carriesChunks = (kind: Kind) => kind !== 'plesk';

function change(c: Change, key: string | undefined, withChunks: boolean) {
  return { action: c.action, name: canonName(c.name), type: c.type.toUpperCase(), ttl: c.ttl, before: c.before ? rec(c.before, key, withChunks) : null, after: c.after ? rec(c.after, key, withChunks) : null };
}

/** Does a fix own this record (for SPF: only the SPF TXT at the apex)? */
const owns = (check: FixKind, r: { name: string; type: string; value: string }) =>
  ownedNames(check, DOMAIN, 'default').some((o) => canonName(o.name) === canonName(r.name) && o.types.includes(r.type.toUpperCase())) && (check !== 'spf' || /^v=spf1(\s|$)/i.test(r.value));

/** The zone as a panel holds it, without the SOA (cPanel and Plesk carry it as the serial or not at all, and each bumps it its own way). */
async function records(rig: LiveRig, withChunks = true): Promise<Rec[]> {
  const z = await rig.panel.readZone(DOMAIN);
  const key = (await rig.panel.readMailSettings(DOMAIN)).dkim.publicKey;
  return sortRecs(z.records.filter((r) => r.type.toUpperCase() !== 'SOA').map((r) => rec(r, key, withChunks)));
}
const ownedBy = (check: FixKind, rs: Rec[]) => rs.filter((r) => owns(check, r));
const notOwned = (rs: Rec[]) => rs.filter((r) => !FIX_KINDS.some((k) => owns(k, r)));

async function findingLines(rig: LiveRig): Promise<string[]> {
  const a = await auditDomain(DOMAIN, { panel: rig.panel, resolver: rig.resolver, now: () => FIXED });
  return a.findings.map((f) => `${f.severity} ${f.check} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}`).sort();
}

function parity(spec: Spec): void {
  const kinds = KINDS.filter((k) => !spec.skip?.[k]);
  /** Compare every adapter against the files panel, with a message naming the adapter. */
  const sameAcross = <T>(what: string, byKind: Partial<Record<Kind, T>>, project: (kind: Kind, v: T) => unknown = (_k, v) => v) => {
    for (const kind of kinds) {
      if (kind === 'files') continue;
      assert.deepEqual(project(kind, byKind[kind]!), project(kind, byKind.files!), `${what}: ${kind} differs from the files panel`);
    }
  };

  describe(`panel parity, ${spec.title}: ${kinds.join(', ')}`, () => {
    let s: Setup;
    const initial = {} as Record<Kind, Rec[]>;
    const applied = {} as Record<Kind, { check: FixKind; changeId: number }[]>;
    before(async () => {
      s = await setup(spec, { mailchannels: false });
      for (const kind of kinds) {
        initial[kind] = await records(s.rigs[kind]);
        applied[kind] = [];
      }
    });
    after(() => teardown(s));

    it('every panel holds the same zone and the same server settings', async () => {
      sameAcross('the zone', initial);
      const settings = {} as Record<Kind, unknown>;
      for (const kind of kinds) {
        const m = await s.rigs[kind].panel.readMailSettings(DOMAIN);
        settings[kind] = { hostname: m.hostname, ips: m.ips, helo: m.helo, nameservers: [...m.nameservers].sort(), selector: m.dkim.selector, signing: m.dkim.signing, publicKey: m.dkim.publicKey, routing: m.routing, relay: m.relay };
      }
      sameAcross('the mail settings', settings);
      assert.equal((settings.files as { publicKey?: string }).publicKey, spec.serverKey ? rsaKey().publicB64 : undefined);
    });

    it('gives the same findings (rule, check, severity, subject) through every panel', async () => {
      const byKind = {} as Record<Kind, string[]>;
      for (const kind of kinds) byKind[kind] = await findingLines(s.rigs[kind]);
      if (process.env.MH_DEBUG) console.log(byKind.files.join('\n'));
      // The scenario's problems are found at all (else parity would be trivial).
      for (const want of spec.expect) assert.ok(byKind.files.some((l) => l.includes(want)), `files panel: no finding matching ${want}:\n${byKind.files.join('\n')}`);
      sameAcross('the findings', byKind);
    });

    for (const check of spec.fixes) {
      it(`${check}: the same plan; after applyPlan the same records, nothing else moved, an empty re-plan`, async () => {
        const plans = {} as Record<Kind, Plan>;
        const keys = {} as Record<Kind, string | undefined>;
        for (const kind of kinds) {
          plans[kind] = await makePlan({ domain: DOMAIN, check }, s.rigs[kind].deps());
          keys[kind] = (await s.rigs[kind].panel.readMailSettings(DOMAIN)).dkim.publicKey;
          const p = plans[kind];
          assert.equal(p.mode, 'apply', `${kind}: ${p.notes.join(' ')}`);
          assert.equal(p.blocked, undefined, `${kind}: ${p.blocked}`);
          assert.ok(p.changes.length > 0, `${kind}: the ${check} plan is empty`);
        }
        if (process.env.MH_DEBUG) for (const k of kinds) console.log(k, check, JSON.stringify(plans[k].changes.map((c) => change(c, keys[k], true)).map((c) => [c.action, c.name, c.ttl, c.before?.value.slice(0, 50), c.before?.chunks, c.after?.value.slice(0, 50), c.after?.chunks])));
        // The plan is computed by core from what the adapter read: chunking included, even for Plesk.
        sameAcross(`the ${check} plan`, plans, (k, p) => ({ actions: p.actions.map((a) => a.kind), changes: p.changes.map((c) => change(c, keys[k], true)) }));

        const zones = {} as Record<Kind, Rec[]>;
        const failures: string[] = [];
        for (const kind of kinds) {
          const rig = s.rigs[kind];
          try {
          const before = await records(rig);
          const writes = rig.panel.writes;
          const out = await applyPlan({ domain: DOMAIN, check, planHash: plans[kind].planHash }, rig.deps());
          assert.equal(out.status, 'applied', `${kind}: ${JSON.stringify(out)}`);
          if (out.status !== 'applied') continue;
            assert.equal(out.verified, 'yes', `${kind}: verification after the write`);
          assert.equal(rig.panel.writes, writes + 1, `${kind}: one panel write`);
          applied[kind].push({ check, changeId: out.changeId });
          zones[kind] = await records(rig, carriesChunks(kind));
          assert.deepEqual(notOwned(zones[kind]), notOwned(await records(rig, carriesChunks(kind))), kind);
          assert.deepEqual(
            zones[kind].filter((r) => !owns(check, r)),
            before.filter((r) => !owns(check, r)).map((r) => (carriesChunks(kind) ? r : { ...r, chunks: null })),
            `${kind}: a record the ${check} fix does not own moved`,
          );
          const again = await makePlan({ domain: DOMAIN, check }, rig.deps());
          assert.deepEqual(again.changes, [], `${kind}: re-planning ${check} after applying: ${JSON.stringify(again.changes)}`);
          assert.equal(again.blocked, undefined, kind);
          } catch (e) {
            failures.push(`${kind}: ${(e as Error).message.slice(0, 1500)}`);
          }
        }
        assert.deepEqual(failures, [], failures.join('\n'));
        sameAcross(`the ${check} records after applying`, zones, (k, v) => ownedBy(check, v).map((r) => ({ ...r, chunks: carriesChunks(k) ? r.chunks : null })));
      });
    }

    it('after every fix: the same findings and the same zone through every panel', async () => {
      const byKind = {} as Record<Kind, string[]>;
      const zones = {} as Record<Kind, Rec[]>;
      for (const kind of kinds) {
        byKind[kind] = await findingLines(s.rigs[kind]);
        zones[kind] = await records(s.rigs[kind], false);
        assert.equal(applied[kind].length, spec.fixes.length, kind);
      }
      if (process.env.MH_DEBUG) console.log(byKind.files.join('\n'));
      sameAcross('the findings after the fixes', byKind);
      sameAcross('the zone after the fixes', zones);
    });

    it('undo (last fix first) restores the owned records, and in the end the whole zone, on every panel', async () => {
      for (const kind of kinds) {
        const rig = s.rigs[kind];
        // A DKIM fix that had the panel generate the key: the server now signs with it, so core refuses the undo (it
        // would take that key out of DNS and break every signature) — the same on every panel; its record stays.
        let keptDkim = false;
        for (const { check, changeId } of [...applied[kind]].reverse()) {
          const out = await undoChange(changeId, rig.deps());
          if (check === 'dkim' && !spec.serverKey) {
            assert.equal(out.status, 'refused', `${kind} undo dkim of a generated key: ${JSON.stringify(out)}`);
            if (out.status === 'refused') assert.match(out.reason, /out of DNS/, kind);
            keptDkim = true;
            continue;
          }
          assert.equal(out.status, 'applied', `${kind} undo ${check}: ${JSON.stringify(out)}`);
          if (out.status === 'applied') assert.equal(out.verified, 'yes', `${kind} undo ${check}`);
          // A generated key stays (undo moves records, not keys): compare the owned records as first read, unmasked.
          const now = ownedBy(check, await records(rig)).map((r) => ({ ...r, chunks: carriesChunks(kind) ? r.chunks : null }));
          const want = ownedBy(check, initial[kind]).map((r) => ({ ...r, chunks: carriesChunks(kind) ? r.chunks : null }));
          assert.deepEqual(now, want, `${kind}: undo of ${check} restores its records`);
        }
        const notDkim = (rs: Rec[]) => (keptDkim ? rs.filter((r) => !owns('dkim', r)) : rs);
        assert.deepEqual(notDkim(await records(rig)), notDkim(initial[kind]), `${kind}: the zone after undoing every fix`);
      }
    });
  });
}

parity(MIGRATED);
parity(FRESH);
parity(TRACES);

describe('panel parity with a MailChannels relay (lockdown)', () => {
  let s: Setup;
  before(async () => {
    s = await setup(MIGRATED, { mailchannels: true });
  });
  after(() => teardown(s));

  it('files, cPanel and WHM (on the server) publish auth=<this host>; Plesk has no account id and is blocked', async () => {
    const plans = {} as Record<Kind, Plan>;
    const relays = {} as Record<Kind, unknown>;
    for (const kind of KINDS) {
      plans[kind] = await makePlan({ domain: DOMAIN, check: 'lockdown' }, s.rigs[kind].deps());
      relays[kind] = (await s.rigs[kind].panel.readMailSettings(DOMAIN)).relay;
    }
    assert.deepEqual(relays.files, MAILCHANNELS);
    assert.deepEqual(relays.cpanel, MAILCHANNELS);
    assert.deepEqual(relays.whm, MAILCHANNELS);
    // Plesk: Postfix relayhost → MailChannels, but no account id anywhere Plesk exposes.
    assert.deepEqual(relays.plesk, { provider: 'mailchannels', host: 'relay.mailchannels.net' });
    for (const kind of ['cpanel', 'whm'] as const) {
      assert.equal(plans[kind].blocked, undefined, kind);
      assert.deepEqual(plans[kind].changes.map((c) => change(c, undefined, true)), plans.files.changes.map((c) => change(c, undefined, true)), kind);
    }
    // auth=oldhostco names nothing mailhealth knows (it may be the customer's own MailChannels account): kept beside
    // this host's, unless selected for removal.
    assert.deepEqual(plans.files.changes.map((c) => [c.action, c.after?.value]), [['edit', `v=mc1 auth=${MAILCHANNELS.authId} auth=oldhostco`]]);
    assert.match(plans.plesk.blocked ?? '', /account id is not configured/);
    assert.deepEqual(plans.plesk.changes, []);

    const after = {} as Record<Kind, Rec[]>;
    for (const kind of ['files', 'cpanel', 'whm'] as const) {
      const out = await applyPlan({ domain: DOMAIN, check: 'lockdown', planHash: plans[kind].planHash }, s.rigs[kind].deps());
      assert.equal(out.status, 'applied', `${kind}: ${JSON.stringify(out)}`);
      after[kind] = ownedBy('lockdown', await records(s.rigs[kind]));
      assert.deepEqual((await makePlan({ domain: DOMAIN, check: 'lockdown' }, s.rigs[kind].deps())).changes, [], kind);
    }
    assert.deepEqual(after.cpanel, after.files);
    assert.deepEqual(after.whm, after.files);
  });
});
