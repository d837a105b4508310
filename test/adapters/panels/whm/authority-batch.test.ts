// WHM: has_local_authority in batches during a bulk run (cpanel.md §5; WHM API 1 docs: "To check multiple domains,
// duplicate or increment the parameter name … the domain, domain-1, and domain-2 parameters",
// https://api.docs.cpanel.net/openapi/whm/operation/has_local_authority). A bulk audit lists the domains, then reads
// them one after another: one call per batch of zones, not one per domain; a single read asks for its own zone alone;
// a failed call gives "no answer" (nameserversUnknown off the server), never "not authoritative".
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { PanelHttpClient } from '../../../../src/adapters/panels/http.js';
import { AuthorityBatcher } from '../../../../src/adapters/panels/cpanel/authority.js';
import type { Params } from '../../../../src/adapters/panels/cpanel/uapi.js';
import { WhmCli, WhmHttp, WhmPanel, type WhmResult, type WhmTransport } from '../../../../src/adapters/panels/whm/index.js';
import { auditMany } from '../../../../src/core/audit.js';
import type { Identity, MailSettings, ZoneRecord } from '../../../../src/core/model.js';
import type { Panel } from '../../../../src/core/panel.js';
import { installFakeBins } from '../../../helpers/emulators/bins.js';
import { makeCpState, type CpState } from '../../../helpers/emulators/cpanel.js';
import { makeFixture, zoneRecords } from '../../../helpers/emulators/fixture.js';
import { startWhmServer, writeCpanelServerFiles } from '../../../helpers/emulators/whm.js';
import { MapResolver, type ZoneMap } from '../../../helpers/map-resolver.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';

const ADMIN: Identity = { user: 'root', role: 'admin' };
const SERVER_NS = ['ns1.host.example', 'ns2.host.example'];
const CLOUDFLARE = ['ada.ns.cloudflare.com', 'bob.ns.cloudflare.com'];

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

/** The shared fixture plus 44 addon domains of carol's (root-owned): 50 domains, 49 zones (blog.alice.example is a sub). */
function bigState(): CpState {
  const f = makeFixture();
  const carol = f.accounts.find((a) => a.user === 'carol')!;
  for (let i = 1; i <= 44; i++) {
    const d = `shop${String(i).padStart(2, '0')}.example`;
    carol.addon.push(d);
    f.zones[d] = zoneRecords(d, f.dkim.publicKey);
  }
  return makeCpState(f);
}

/** Counts and records the has_local_authority calls (the domains of each) a transport makes. */
function counting(inner: WhmTransport, fault?: (domains: string[], n: number) => Promise<WhmResult> | null): { transport: WhmTransport; batches: string[][] } {
  const batches: string[][] = [];
  return {
    batches,
    transport: {
      call(func: string, params: Params = []) {
        if (func !== 'has_local_authority') return inner.call(func, params);
        const domains = params.filter(([k]) => /^domain(-\d+)?$/.test(k)).map(([, v]) => v);
        batches.push(domains);
        return fault?.(domains, batches.length) ?? inner.call(func, params);
      },
    },
  };
}

async function rig(change: (s: CpState) => void = () => {}, user = 'root') {
  const state = bigState();
  change(state);
  const srv = await startWhmServer(state);
  const root = mkdtempSync(join(tmpdir(), 'mh-whm-batch-'));
  cleanup.push(async () => {
    await srv.close();
    rmSync(root, { recursive: true, force: true });
  });
  const http = () => new WhmHttp(new PanelHttpClient({ baseUrl: srv.url, headers: { authorization: `whm ${user}:tok-${user}` } }));
  return { state, url: srv.url, root, http, user };
}

/** Read every domain's settings as a bulk run does (concurrently, in listing order); keyed by domain. */
async function readAll(panel: WhmPanel, domains: string[], concurrency = 8): Promise<Map<string, MailSettings>> {
  const out = new Map<string, MailSettings>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < domains.length) {
        const d = domains[next++];
        out.set(d, await panel.readMailSettings(d));
      }
    }),
  );
  return out;
}

const nsView = (s: MailSettings) => ({ nameservers: s.nameservers, unknown: s.nameserversUnknown ?? null });

describe('WHM emulator: has_local_authority takes several domains as documented', () => {
  it('`domain`, `domain-1`, `domain-2` (any order of the arguments) and a repeated `domain`: one item per domain, in order', async () => {
    const r = await rig();
    const t = r.http();
    const names = (res: WhmResult) => ((res.data as { records: { domain: string }[] }).records ?? []).map((x) => x.domain);
    const inc = await t.call('has_local_authority', [['domain-2', 'bob.example'], ['domain', 'alice.example'], ['domain-1', 'carol.example']]);
    assert.equal(inc.ok, true, inc.reason);
    assert.deepEqual(names(inc), ['alice.example', 'carol.example', 'bob.example']);
    const rep = await t.call('has_local_authority', [['domain', 'alice.example'], ['domain', 'blog.alice.example'], ['domain', 'shop07.example']]);
    assert.deepEqual(names(rep), ['alice.example', 'blog.alice.example', 'shop07.example']);
    const items = (rep.data as { records: Record<string, unknown>[] }).records;
    assert.deepEqual(items[0], { domain: 'alice.example', zone: 'alice.example', local_authority: 1, nameservers: SERVER_NS, error: null });
    assert.equal(items[1].zone, 'alice.example');
    assert.ok(r.state.calls.includes('whm:has_local_authority alice.example carol.example bob.example'), r.state.calls.join(', '));
  });

  it('refuses the whole call when a domain is missing, empty or not the caller’s (naming every such domain)', async () => {
    const r = await rig(() => {}, 'res1');
    const t = r.http();
    const none = await t.call('has_local_authority', []);
    assert.equal(none.ok, false);
    assert.match(none.reason, /at least one “domain”/);
    const empty = await t.call('has_local_authority', [['domain', 'alice.example'], ['domain-1', '']]);
    assert.equal(empty.ok, false);
    const foreign = await t.call('has_local_authority', [['domain', 'alice.example'], ['domain-1', 'carol.example'], ['domain-2', 'shop01.example']]);
    assert.equal(foreign.ok, false);
    assert.equal(foreign.reason, 'The account “res1” does not control the “carol.example” and “shop01.example” domains.');
    assert.equal(foreign.data, null);
  });

  it('through the whmapi1 CLI: the incremented names arrive as separate arguments', async () => {
    const state = makeCpState();
    const bins = installFakeBins(state);
    cleanup.push(() => rmSync(bins.dir, { recursive: true, force: true }));
    const res = await new WhmCli(bins.path('whmapi1')).call('has_local_authority', [['domain', 'alice.example'], ['domain-1', 'bob.example'], ['domain-2', 'carol.example']]);
    assert.equal(res.ok, true, res.reason);
    assert.deepEqual(((res.data as { records: { domain: string }[] }).records ?? []).map((x) => x.domain), ['alice.example', 'bob.example', 'carol.example']);
  });
});

describe('WHM bulk run: has_local_authority in batches, same answers as one call per domain', () => {
  /** Authority states that differ: another host's zone, a write not yet public, cPanel's own lookup failing. */
  const varied = (s: CpState) => {
    s.remoteAuthority = { 'shop03.example': CLOUDFLARE };
    s.publicSerial = { 'shop10.example': s.zones['shop10.example'].serial - 1 };
    s.authorityErrors = { 'shop20.example': '(XID abc123) DNS query (shop20.example/SOA) timeout!' };
  };

  for (const where of ['remote WHM', 'on the server (/etc/wwwacct.conf)'] as const) {
    it(`${where}: 50 listed domains → at most 3 calls, none over the batch size; every answer as a per-domain read`, async () => {
      const r = await rig(varied);
      const onServer = where !== 'remote WHM';
      if (onServer) writeCpanelServerFiles(r.state, r.root, { wwwacct: SERVER_NS });
      const { transport, batches } = counting(r.http());
      const panel = new WhmPanel({ transport, user: 'root', root: onServer ? r.root : null, hostname: 'server1.host.example' });
      const domains = (await panel.listDomains(ADMIN)).map((d) => d.domain);
      assert.equal(domains.length, 50);
      const bulk = await readAll(panel, domains);
      assert.ok(batches.length <= 3, `${batches.length} has_local_authority calls: ${batches.map((b) => b.length).join(', ')}`);
      assert.ok(batches.every((b) => b.length <= AuthorityBatcher.BATCH && new Set(b).size === b.length));
      assert.equal(batches[0].length, 1, 'the first read asks for its own zone alone');
      // The same answers as a panel that asks per domain (nothing listed: one call per read, as before).
      const { transport: single, batches: singles } = counting(r.http());
      const perDomain = new WhmPanel({ transport: single, user: 'root', root: onServer ? r.root : null, hostname: 'server1.host.example' });
      for (const d of domains) assert.deepEqual(nsView(bulk.get(d)!), nsView(await perDomain.readMailSettings(d)), d);
      assert.equal(singles.length, 50);
      assert.ok(singles.every((b) => b.length === 1));
      // The varied states came through: remote (Cloudflare's zone) → none; lookup error → unknown off the server.
      assert.deepEqual(bulk.get('shop03.example')!.nameservers, onServer ? SERVER_NS : []);
      assert.deepEqual(bulk.get('shop01.example')!.nameservers, SERVER_NS);
      assert.equal(!!bulk.get('shop20.example')!.nameserversUnknown, !onServer);
    });
  }

  it('a bulk audit (core auditMany) over the listing makes a few calls, not one per domain', async () => {
    const r = await rig();
    const { transport, batches } = counting(r.http());
    const panel = new WhmPanel({ transport, user: 'root', root: null, hostname: 'server1.host.example' });
    const domains = (await panel.listDomains(ADMIN)).map((d) => d.domain);
    const world: ZoneMap = Object.fromEntries(domains.map((d) => [d, { NS: SERVER_NS }]));
    const audits = await auditMany(domains, { panel, resolver: new MapResolver(world), checks: ['dns'], now: () => new Date('2027-03-01T12:00:00Z') }, { concurrency: 16 });
    assert.equal(audits.length, 50);
    assert.ok(batches.length <= 3, `${batches.length} calls`);
    for (const a of audits) assert.ok(a.findings.some((f) => f.rule === 'dns.authoritative'), `${a.domain}: ${a.findings.map((f) => f.rule).join(', ')}`);
  });

  it('a reseller’s listing: only its own zones are asked about', async () => {
    const r = await rig(() => {}, 'res1');
    const { transport, batches } = counting(r.http());
    const panel = new WhmPanel({ transport, user: 'res1', root: null });
    const domains = (await panel.listDomains({ user: 'res1', role: 'reseller' })).map((d) => d.domain);
    const got = await readAll(panel, domains, 2);
    assert.ok(batches.length <= 2, JSON.stringify(batches));
    const asked = batches.flat();
    assert.ok(asked.every((z) => ['res1.example', 'alice.example', 'alice-shop.example', 'bob.example'].includes(z)), asked.join(', '));
    for (const d of domains) assert.deepEqual(got.get(d)!.nameservers, SERVER_NS, d);
  });
});

describe('WHM: a single read is as before', () => {
  it('after a listing, one read asks for its own zone alone; reading it again asks again (fresh)', async () => {
    const r = await rig();
    const { transport, batches } = counting(r.http());
    const panel = new WhmPanel({ transport, user: 'root', root: null });
    await panel.listDomains(ADMIN);
    assert.deepEqual((await panel.readMailSettings('alice.example')).nameservers, SERVER_NS);
    assert.deepEqual(batches, [['alice.example']]);
    r.state.publicSerial = { 'alice.example': r.state.zones['alice.example'].serial - 1 }; // public DNS behind
    assert.deepEqual((await panel.readMailSettings('alice.example')).nameservers, []);
    assert.deepEqual(batches, [['alice.example'], ['alice.example']]);
    // A subdomain asks for its zone.
    await panel.readMailSettings('blog.alice.example');
    assert.deepEqual(batches.at(-1)?.[0], 'alice.example');
  });

  it('a write to a zone drops what was read ahead for it: the next read asks again', async () => {
    const r = await rig();
    const { transport, batches } = counting(r.http());
    const panel = new WhmPanel({ transport, user: 'root', root: null });
    const domains = (await panel.listDomains(ADMIN)).map((d) => d.domain);
    const i = domains.indexOf('shop05.example');
    await panel.readMailSettings(domains[i - 2]);
    await panel.readMailSettings(domains[i - 1]); // reads ahead: shop05.example is in this batch
    assert.ok(batches[1].includes('shop05.example'), JSON.stringify(batches));
    const calls = batches.length;
    // The write lands; public DNS still serves the serial before it (cPanel then answers 0).
    r.state.publicSerial = { 'shop05.example': r.state.zones['shop05.example'].serial };
    const z = await panel.readZone('shop05.example');
    const spf = z.records.find((x) => x.type === 'TXT' && x.name === 'shop05.example' && /^v=spf1/.test(x.value)) as ZoneRecord;
    const v = 'v=spf1 +a +mx ~all';
    await panel.applyChanges('shop05.example', [{ action: 'edit', name: spf.name, type: 'TXT', ttl: spf.ttl, before: spf, after: { ...spf, value: v, txt: [v] } }], z.version);
    assert.deepEqual((await panel.readMailSettings('shop05.example')).nameservers, []);
    assert.equal(batches.length, calls + 1);
    assert.equal(batches.at(-1)?.[0], 'shop05.example');
  });
});

describe('WHM bulk run: a failed has_local_authority call', () => {
  const failures: [string, (domains: string[]) => Promise<WhmResult>][] = [
    ['no answer (connection dropped)', () => Promise.reject(new Error('socket hang up'))],
    ['refused', () => Promise.resolve({ ok: false, data: null, reason: 'Permission denied' })],
  ];
  for (const [what, fail] of failures) {
    it(`${what}: every domain that waited on it reads “unknown” (never not authoritative); the others ask again`, async () => {
      const r = await rig();
      // The second call (the first batch) fails; every other call is answered.
      const { transport, batches } = counting(r.http(), (domains, n) => (n === 2 ? fail(domains) : null));
      const panel = new WhmPanel({ transport, user: 'root', root: null });
      const domains = (await panel.listDomains(ADMIN)).map((d) => d.domain);
      assert.deepEqual((await panel.readMailSettings(domains[0])).nameservers, SERVER_NS);
      // Five reads at once: the first asks for a batch, the next four wait on it.
      const waited = domains.slice(1, 6);
      const got = await Promise.all(waited.map((d) => panel.readMailSettings(d)));
      assert.equal(batches.length, 2, JSON.stringify(batches.map((b) => b.length)));
      assert.ok(waited.every((d) => batches[1].includes(d) || batches[1].includes(d.replace(/^blog\./, ''))));
      for (const s of got) {
        assert.deepEqual(s.nameservers, [], s.domain);
        assert.match(s.nameserversUnknown ?? '', /no answer to has_local_authority/, s.domain);
      }
      // The failure is not kept: the next domains (read ahead in the failed call) ask again, and get their answer.
      const rest = await readAll(panel, domains.slice(6), 4);
      for (const d of domains.slice(6)) {
        assert.deepEqual(rest.get(d)!.nameservers, SERVER_NS, d);
        assert.equal(rest.get(d)!.nameserversUnknown, undefined, d);
      }
      assert.ok(batches.length <= 4, `${batches.length} calls`);
      // In an audit, a domain of the failed call is `unknown`, not "not authoritative".
      const world: ZoneMap = { [waited[0]]: { NS: SERVER_NS } };
      const { transport: t2 } = counting(r.http(), (domains, n) => (n >= 2 ? fail(domains) : null));
      const p2 = new WhmPanel({ transport: t2, user: 'root', root: null });
      await p2.listDomains(ADMIN);
      await p2.readMailSettings(domains[0]);
      const [audit] = await auditMany([waited[0]], { panel: p2, resolver: new MapResolver(world), checks: ['dns'], now: () => new Date('2027-03-01T12:00:00Z') });
      assert.ok(audit.findings.some((f) => f.rule === 'dns.authority-unknown' && f.severity === 'unknown'), audit.findings.map((f) => f.rule).join(', '));
      assert.ok(!audit.findings.some((f) => f.rule === 'dns.not-authoritative'));
    });
  }

  it('on the server: a failed call falls back to /etc/wwwacct.conf’s nameservers, as a per-domain failure did', async () => {
    const r = await rig();
    writeCpanelServerFiles(r.state, r.root, { wwwacct: SERVER_NS });
    const { transport, batches } = counting(r.http(), () => Promise.reject(new Error('timed out')));
    const panel = new WhmPanel({ transport, user: 'root', root: r.root });
    const domains = (await panel.listDomains(ADMIN)).map((d) => d.domain);
    const got = await readAll(panel, domains.slice(0, 10), 5);
    for (const s of got.values()) {
      assert.deepEqual(s.nameservers, SERVER_NS, s.domain);
      assert.equal(s.nameserversUnknown, undefined);
    }
    assert.ok(batches.length >= 2 && batches.length <= 10, `${batches.length} calls`);
  });

  it('one item with an error: only that domain is unknown', async () => {
    const r = await rig((s) => (s.authorityErrors = { 'shop02.example': '(XID q1) DNS query (shop02.example/SOA) timeout!' }));
    const { transport, batches } = counting(r.http());
    const panel = new WhmPanel({ transport, user: 'root', root: null });
    const domains = (await panel.listDomains(ADMIN)).map((d) => d.domain);
    const got = await readAll(panel, domains, 8);
    assert.ok(batches.length <= 3);
    for (const d of domains) {
      const s = got.get(d)!;
      if (d === 'shop02.example') {
        assert.deepEqual(s.nameservers, []);
        assert.match(s.nameserversUnknown ?? '', /could not check whether public DNS serves this zone \(\(XID q1\)/);
      } else assert.deepEqual(nsView(s), { nameservers: SERVER_NS, unknown: null }, d);
    }
  });

  it('a batch refused for a zone no longer the caller’s: asked again without it; the others read, that one not-found', async () => {
    const r = await rig();
    const { transport, batches } = counting(r.http());
    const panel = new WhmPanel({ transport, user: 'root', root: null });
    const domains = (await panel.listDomains(ADMIN)).map((d) => d.domain);
    // shop09.example leaves the server after the listing (its account no longer has it): cPanel refuses any call naming it.
    const carol = r.state.accounts.find((a) => a.user === 'carol')!;
    carol.addon = carol.addon.filter((d) => d !== 'shop09.example');
    // Read in listing order as a bulk run does. The removed domain's own read now fails as not-found (WHM's validators
    // give no item for it, and the domain list asked again no longer has it): never settings made of nothing ("no
    // DKIM key", QA h3 D1). Its authority was asked in a batch all the same; the others are read as before.
    const got = new Map<string, MailSettings>();
    for (const d of domains) {
      if (d === 'shop09.example') await rejectsWith(panel.readMailSettings(d), 'not-found', /shop09\.example is no longer a domain this WHM user \(root\) manages/);
      else got.set(d, await panel.readMailSettings(d));
    }
    const refused = r.state.calls.filter((c) => c.startsWith('whm:has_local_authority') && c.includes(' shop09.example'));
    assert.ok(refused.length >= 1, r.state.calls.join('\n'));
    assert.ok(batches.length <= 4, `${batches.length} calls`);
    for (const d of domains) if (d !== 'shop09.example') assert.deepEqual(nsView(got.get(d)!), { nameservers: SERVER_NS, unknown: null }, d);
  });
});

describe('AuthorityBatcher (unit)', () => {
  it('reads ahead only once a second domain is read; each prefetched answer is taken once; TTL bounds it', async () => {
    let now = 1_000;
    const asked: string[][] = [];
    const b = new AuthorityBatcher(async (zones) => {
      asked.push(zones);
      return { ok: true, items: zones.map((z) => ({ domain: z, zone: z, local_authority: 1, nameservers: [`ns.${z}`], error: null })) };
    }, () => now);
    const list = Array.from({ length: 120 }, (_, i) => `d${i}.example`);
    b.listed('admin:root', list, (d) => d);
    assert.equal((await b.itemFor('d0.example', 'd0.example'))?.zone, 'd0.example');
    assert.deepEqual(asked, [['d0.example']]);
    await b.itemFor('d1.example', 'd1.example');
    assert.equal(asked[1].length, AuthorityBatcher.BATCH);
    assert.deepEqual(asked[1].slice(0, 3), ['d1.example', 'd2.example', 'd3.example']);
    for (let i = 2; i <= AuthorityBatcher.BATCH; i++) assert.equal((await b.itemFor(list[i], list[i]))?.zone, list[i]);
    assert.equal(asked.length, 2, 'd2…d50 took the answers read ahead');
    await b.itemFor('d51.example', 'd51.example');
    assert.equal(asked.length, 3);
    assert.deepEqual(asked[2].slice(0, 2), ['d51.example', 'd52.example']);
    await b.itemFor('d2.example', 'd2.example'); // read again: asks again
    assert.equal(asked.length, 4);
    assert.equal(asked[3][0], 'd2.example');
    assert.ok(!asked[3].slice(1).some((z) => Number(z.slice(1, -'.example'.length)) <= 100), 'domains read lately or read ahead are not asked again');
    now += AuthorityBatcher.TTL_MS; // prefetched answers past their time are not used
    await b.itemFor('d60.example', 'd60.example');
    assert.deepEqual(asked[4], ['d60.example'], 'a read a TTL after the last one is a single read');
  });
});
