// Fuzzing the cPanel, WHM and Plesk adapters' reading of their panels' answers: a panel (or a proxy, a PHP error, a
// panel version we have not seen) may answer anything, and whatever it answers must end as a well-formed result or a
// PanelError that says why — never a raw JavaScript error as a finding's text, never a hang, never a record or a
// setting made up from garbage (a TXT whose text is "undefined", a serial read from an empty field).
//
// The emulators (test/helpers/emulators/) give the well-formed answers; a front on 127.0.0.1 (port 0; the front and
// the mutations are in test/helpers/answers-front.ts, shared with the write fuzz test) forwards every
// call to them and rewrites one answer, picked per iteration by a seeded PRNG: a call (method and path, and which
// occurrence of it) and one to three structural mutations of its JSON — a field dropped, a value of another type
// (number ↔ string ↔ null ↔ list ↔ object ↔ boolean), huge, negative or NaN-like numbers, invalid base64, base64 of
// octets that are not UTF-8 or of NaN-like serials, very long strings, list items repeated (duplicate ids) or added with
// an unknown type — or the whole body replaced (an HTML error page, JSON cut short, an empty body, `null`, cPanel's
// error envelope or WHM's metadata.result 0, with and without errors). Plesk's XML answers get a few of their own
// (status gone or other, a tag emptied, an HTML page).
//
// Properties, for readZone, listDomains and readMailSettings on each panel: the call settles (a watchdog fails it,
// naming the input, if it does not), and either returns a result of the declared shape — every record with a
// non-empty name and upper-case type, a string value, a TTL that is an integer 0–2^31-1, TXT strings that are strings;
// on cPanel/WHM a serial that is an integer 0–2^32-1 (RFC 1982) spelled as the version; domains, IPs, nameservers as
// strings; routing local or remote — holding no "undefined", "[object Object]", "NaN" or "Infinity" that the answer did
// not hold, or rejects with a PanelError that has a message.
//
// Deterministic: a seeded PRNG (mulberry32), fixed iteration counts, the emulators' state rebuilt per panel; a failure
// names the seed, the iteration, the call rewritten, the mutations and the answer served, so it replays without the loop.
// A longer hunt: MH_FUZZ_SEED=<n> MH_FUZZ_ITERATIONS=<n> MH_FUZZ_SHOW=<n> (the defaults are what the suite runs).
// Defects found are pinned by tests at the end (exact inputs); one found and not fixed yet would be `todo` there and
// counted, not failed, by the loop (KNOWN). The nine found when this test was written are fixed (each test failed on
// the code before).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpanelPanel } from '../../../src/adapters/panels/cpanel/index.js';
import { UapiHttp } from '../../../src/adapters/panels/cpanel/uapi.js';
import { PanelHttpClient } from '../../../src/adapters/panels/http.js';
import { PleskPanel, PleskRestCli } from '../../../src/adapters/panels/plesk/index.js';
import { WhmHttp, WhmPanel } from '../../../src/adapters/panels/whm/index.js';
import type { DomainRef, MailSettings, Zone } from '../../../src/core/model.js';
import { PanelError, type Panel } from '../../../src/core/panel.js';
import { mutate, settled, short, shown, startFront, type Answer, type Front, type Script } from '../../helpers/answers-front.js';
import { makeCpState, startCpanelServer, type RunningServer } from '../../helpers/emulators/cpanel.js';
import { makeFixture } from '../../helpers/emulators/fixture.js';
import { makePleskState, startPleskServer } from '../../helpers/emulators/plesk.js';
import { startWhmServer } from '../../helpers/emulators/whm.js';
import { prng } from '../../helpers/prng.js';

const DOMAIN = 'alice.example';

// ------------------------------------------------------------------------------------------------ the properties

/** What a made-up value shows: a JavaScript value turned into text. */
const GARBAGE = ['undefined', '[object Object]', 'NaN', 'Infinity'];

/** Every string in a result (deep). */
function stringsOf(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringsOf(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) stringsOf(x, out);
  return out;
}

/** A word of GARBAGE in the result that the answer served did not hold (in its text or its base64 decoded). */
function madeUp(result: unknown, served: string): string | null {
  const decoded = [...served.matchAll(/"([A-Za-z0-9+/=]{4,})"/g)].map((m) => Buffer.from(m[1], 'base64').toString('latin1')).join('\n');
  for (const s of stringsOf(result)) {
    for (const g of GARBAGE) if (s.includes(g) && !served.includes(g) && !decoded.includes(g)) return `${JSON.stringify(s.slice(0, 80))} holds "${g}", which the answer did not`;
  }
  return null;
}

const TTL_MAX = 2 ** 31 - 1;

function zoneProblem(z: Zone, serialed: boolean): string | null {
  if (!z || typeof z !== 'object') return 'no zone';
  if (typeof z.domain !== 'string' || !z.domain) return `domain ${short(z.domain)}`;
  if (typeof z.version !== 'string') return `version ${short(z.version)}`;
  if (serialed) {
    // cPanel/WHM: the serial the write API checks (§4.4), an RFC 1982 serial, spelled as the version.
    if (typeof z.serial !== 'number' || !Number.isInteger(z.serial) || z.serial < 0 || z.serial > 2 ** 32 - 1) return `serial ${short(z.serial)} is not an integer 0–2^32-1`;
    if (z.version !== String(z.serial)) return `version ${short(z.version)} is not the serial ${z.serial}`;
  } else if (z.serial !== null && typeof z.serial !== 'number') return `serial ${short(z.serial)}`;
  if (!Array.isArray(z.records)) return 'records not a list';
  for (const r of z.records) {
    const why =
      typeof r.name !== 'string' || !r.name
        ? 'a name that is no text'
        : typeof r.type !== 'string' || !/^[A-Z0-9]+$/.test(r.type)
          ? 'a type that is not upper-case letters and digits'
          : typeof r.value !== 'string'
            ? 'a value that is no text'
            : !Number.isInteger(r.ttl) || r.ttl < 0 || r.ttl > TTL_MAX
              ? 'a TTL that is not an integer 0–2^31-1'
              : r.txt !== undefined && !(Array.isArray(r.txt) && r.txt.every((t) => typeof t === 'string'))
                ? 'txt not a list of strings'
                : r.ref !== undefined && typeof r.ref !== 'string'
                  ? 'a ref that is no text'
                  : null;
    if (why) return `${why}: ${short(r)}`;
  }
  return null;
}

function domainsProblem(list: DomainRef[]): string | null {
  if (!Array.isArray(list)) return 'not a list';
  for (const d of list) {
    if (typeof d.domain !== 'string' || !d.domain || typeof d.owner !== 'string' || !d.owner) return `an entry without a domain or owner: ${short(d)}`;
    for (const k of ['reseller', 'aliasOf'] as const) if (d[k] !== undefined && (typeof d[k] !== 'string' || !d[k])) return `${k} ${short(d[k])}`;
  }
  return null;
}

function settingsProblem(m: MailSettings): string | null {
  if (!m || typeof m !== 'object') return 'no settings';
  for (const k of ['domain', 'hostname', 'helo'] as const) if (typeof m[k] !== 'string') return `${k} ${short(m[k])} is no text`;
  for (const k of ['ips', 'nameservers'] as const) if (!Array.isArray(m[k]) || !m[k].every((x) => typeof x === 'string' && x)) return `${k} ${short(m[k])} is not a list of names`;
  if (!m.dkim || typeof m.dkim.selector !== 'string' || typeof m.dkim.signing !== 'boolean') return `dkim ${short(m.dkim)}`;
  if (m.dkim.publicKey !== undefined && (typeof m.dkim.publicKey !== 'string' || !/^[A-Za-z0-9+/=]+$/.test(m.dkim.publicKey))) return `dkim.publicKey ${short(m.dkim.publicKey)}`;
  if (m.routing !== 'local' && m.routing !== 'remote') return `routing ${short(m.routing)}`;
  if (m.relay !== null && (typeof m.relay !== 'object' || typeof m.relay.host !== 'string')) return `relay ${short(m.relay)}`;
  return null;
}

// ------------------------------------------------------------------------------------------------ the panels

type Kind = 'cpanel' | 'whm' | 'plesk';
type Method = 'readZone' | 'listDomains' | 'readMailSettings';
const METHODS: readonly Method[] = ['readZone', 'listDomains', 'readMailSettings'];

interface Rig {
  front: Front;
  /** A new adapter (no caches) talking to the front. */
  panel(): Panel;
  close(): Promise<void>;
}

async function startRig(kind: Kind): Promise<Rig> {
  let upstream: RunningServer;
  let make: (url: string) => Panel;
  // Client time limits far beyond any loopback answer: the watchdog below names a call that does not settle.
  const client = (url: string, headers: Record<string, string>) => new PanelHttpClient({ baseUrl: url, headers, label: kind });
  if (kind === 'plesk') {
    const pl = makePleskState(makeFixture());
    upstream = await startPleskServer(pl);
    make = (url) => {
      const rest = client(url, { 'x-api-key': pl.apiKey });
      return new PleskPanel({ rest, apiKey: pl.apiKey, cli: new PleskRestCli(rest), root: null });
    };
  } else {
    const cp = makeCpState(makeFixture());
    cp.serialDate = '20270301';
    if (kind === 'cpanel') {
      upstream = await startCpanelServer(cp);
      make = (url) => new CpanelPanel({ transport: new UapiHttp(client(url, { authorization: 'cpanel alice:tok-alice' })), user: 'alice', owner: 'res1' });
    } else {
      upstream = await startWhmServer(cp);
      make = (url) => new WhmPanel({ transport: new WhmHttp(client(url, { authorization: 'whm root:tok-root' })), user: 'root', root: null });
    }
  }
  const front = await startFront(upstream.url);
  return {
    front,
    panel: () => make(front.url),
    close: async () => {
      await front.close();
      await upstream.close();
    },
  };
}

const IDENTITY = { cpanel: { user: 'alice', role: 'customer' as const }, whm: { user: 'root', role: 'admin' as const }, plesk: { user: 'admin', role: 'admin' as const } };

function run(kind: Kind, panel: Panel, method: Method): Promise<unknown> {
  if (method === 'readZone') return panel.readZone(DOMAIN);
  if (method === 'listDomains') return panel.listDomains(IDENTITY[kind]);
  return panel.readMailSettings(DOMAIN);
}

function problemOf(kind: Kind, method: Method, v: unknown): string | null {
  if (method === 'readZone') return zoneProblem(v as Zone, kind !== 'plesk');
  if (method === 'listDomains') return domainsProblem(v as DomainRef[]);
  return settingsProblem(v as MailSettings);
}


/** The verdict on one call: null when it kept the properties, else why. */
function verdict(kind: Kind, method: Method, r: Awaited<ReturnType<typeof settled>>, served: string): string | null {
  if ('hung' in r) return 'did not settle (hung)';
  if (!r.ok) {
    const e = r.error;
    if (!(e instanceof PanelError)) return `threw ${(e as Error)?.constructor?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`;
    if (typeof e.message !== 'string' || !e.message.trim()) return 'a PanelError without a message';
    return null;
  }
  return problemOf(kind, method, r.value) ?? madeUp(r.value, served);
}

// ------------------------------------------------------------------------------------------------ the loop

/**
 * Defects the loop found that are not fixed yet: each is pinned by a `todo` test below (an exact reproduction), and the
 * loop counts it under its name instead of failing. Once fixed, its count stays 0 and the entry can go.
 */
const KNOWN: { name: string; kind: Kind[]; method: Method; why: RegExp }[] = [];

const SEED = Number(process.env.MH_FUZZ_SEED ?? 0x00fa_11ed);
const ITERATIONS = Number(process.env.MH_FUZZ_ITERATIONS ?? 400); // per panel


function report(kind: Kind, i: number, method: Method, script: Script, steps: string[], front: Front, why: string): string {
  return [
    `${kind} ${method}(${JSON.stringify(DOMAIN)}) ${why}`,
    `  seed 0x${SEED.toString(16)} (${kind}), iteration ${i}; answer ${script.nth + 1} to ${script.key} rewritten${script.unseenBesides ? ', and the first to each call the well-formed run did not make' : ''}: ${steps.join(' → ')}`,
    `  served: ${front.served ? shown(front.served) : '(not served: the adapter never made that call)'}`,
    ...front.unseen.map((u) => `  served to ${u.key}: ${shown(u.answer)}`),
  ].join('\n');
}

for (const kind of ['cpanel', 'whm', 'plesk'] as const) {
  test(`panel answers fuzz (${kind}): ${ITERATIONS} answers rewritten (seed 0x${SEED.toString(16)}): each read a well-formed result or a PanelError`, { timeout: 120_000 }, async (t) => {
    const rig = await startRig(kind);
    t.after(() => rig.close());
    // The calls each method makes on the emulator's well-formed answers, which read without a problem.
    const calls = new Map<Method, [string, number][]>();
    for (const m of METHODS) {
      rig.front.reset(null);
      const r = await settled(run(kind, rig.panel(), m));
      assert.equal(verdict(kind, m, r, ''), null, `${kind} ${m} on the emulator's own answers`);
      assert.ok('ok' in r && r.ok);
      calls.set(m, [...rig.front.seen]);
    }
    const rng = prng(SEED ^ { cpanel: 1, whm: 2, plesk: 3 }[kind]);
    const tally = { values: 0, panelErrors: 0, unserved: 0, known: {} as Record<string, number> };
    const failures: string[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const method = rng.pick(METHODS);
      const [key, nth] = rng.pick(calls.get(method)!);
      const steps: string[] = [];
      // The PRNG is drawn in the front's rewrite; calls are made one at a time, so the draws keep their order.
      const unseen = rng.next() < 0.25 ? new Set(calls.get(method)!.map(([k]) => k)) : undefined;
      const script: Script = { key, nth, rewrite: (a) => mutate(a, rng, steps), ...(unseen ? { unseenBesides: unseen } : {}) };
      rig.front.reset(script);
      const r = await settled(run(kind, rig.panel(), method));
      const served = rig.front.served;
      const why = verdict(kind, method, r, [served, ...rig.front.unseen.map((u) => u.answer)].map((a) => a?.body ?? '').join('\n'));
      const known = why ? KNOWN.find((k) => k.kind.includes(kind) && k.method === method && k.why.test(why)) : undefined;
      if (known) tally.known[known.name] = (tally.known[known.name] ?? 0) + 1;
      else if (why) failures.push(report(kind, i, method, script, steps, rig.front, why));
      if (!served) tally.unserved++;
      else if ('ok' in r && r.ok) tally.values++;
      else tally.panelErrors++;
    }
    t.diagnostic(`tally: ${JSON.stringify(tally)}`);
    assert.deepEqual(failures.slice(0, Number(process.env.MH_FUZZ_SHOW ?? 5)), [], `${failures.length} of ${ITERATIONS} broke a property; the first ones are shown`);
    // Both outcomes were reached: answers still read, and answers refused.
    assert.ok(tally.values > ITERATIONS / 20 && tally.panelErrors > ITERATIONS / 10, JSON.stringify(tally));
  });
}

// ------------------------------------------------------------------------------------------------ found by the fuzzer
// Each test below is one input the loop found, exactly: the well-formed answer of the emulator with the one rewrite
// named. Fixed since (Plesk: hostname, /server/ips, the subscription's /domains/{id}, empty host targets, TTLs past
// 2^31-1; cPanel: error objects, serials that are not digits, record types not starting with a letter, the root as owner).

/** `method` on a fresh adapter of `kind` whose answer `nth` (0-based) to `key` is the emulator's rewritten by `edit`. */
async function withRewrite(kind: Kind, key: string, edit: (json: any) => unknown, method: Method, nth = 0): Promise<Awaited<ReturnType<typeof settled>>> {
  const rig = await startRig(kind);
  try {
    rig.front.reset({ key, nth, rewrite: (a) => ({ ...a, body: JSON.stringify(edit(JSON.parse(a.body)) ?? null) }) });
    const r = await settled(run(kind, rig.panel(), method));
    assert.ok(rig.front.served, `${key} was asked`);
    return r;
  } finally {
    await rig.close();
  }
}

/** The call ended in a PanelError (code `code` when given), naming `re` when given. */
function assertPanelError(r: Awaited<ReturnType<typeof settled>>, code?: PanelError['code'], re?: RegExp): void {
  assert.ok('ok' in r, 'settled');
  assert.ok(!r.ok, `a PanelError, not the value ${short(r.ok ? r.value : null)}`);
  assert.ok(r.error instanceof PanelError, `a PanelError, not ${(r.error as Error)?.constructor?.name}: ${(r.error as Error)?.message}`);
  if (code) assert.equal(r.error.code, code, r.error.message);
  if (re) assert.match(r.error.message, re);
}

const b64Text = (s: string) => Buffer.from(s, 'utf8').toString('base64');
/** The SOA item of a parse_zone answer's items (UAPI `data`, WHM `data.payload`). */
const soaItem = (items: any[]) => items.find((x) => x.record_type === 'SOA');

test('found by the fuzzer: Plesk GET /server answering a hostname that is no text fails readMailSettings with a TypeError', async () => {
  // {"hostname": {"value": "server1.host.example"}} (and a list, a number, true): `canonName(server?.hostname ?? '')`.
  for (const hostname of [{ value: 'server1.host.example' }, ['server1.host.example'], -0.5, true]) {
    const r = await withRewrite('plesk', 'GET /api/v2/server', (j) => ({ ...j, hostname }), 'readMailSettings');
    assertPanelError(r, 'other', /\/server/);
  }
});

test('found by the fuzzer, made moot since: Plesk takes no outgoing IP from GET /server/ips — a failed XML server get prefs makes the settings unreadable', async () => {
  // Answer 2 to the XML API (1: dns get, 2: server get prefs) says <status>error</status>. The adapter once fell back
  // to the first shared IP of GET /server/ips here (whose entries the fuzzer found unchecked); since review R6 a failed
  // prefs read is never replaced by a guess: PanelError naming the call, and no call the well-formed read does not make.
  const rig = await startRig('plesk');
  try {
    const rewrite = (a: Answer): Answer => ({ ...a, body: a.body.replace('<status>ok</status>', '<status>error</status>') });
    rig.front.reset({ key: 'POST /enterprise/control/agent.php', nth: 1, rewrite, unseenBesides: new Set(['POST /enterprise/control/agent.php', 'GET /api/v2/domains', 'GET /api/v2/server', 'GET /api/v2/dns/records']) });
    const r = await settled(rig.panel().readMailSettings(DOMAIN));
    assert.ok(rig.front.served, 'the prefs answer was rewritten');
    assert.deepEqual(rig.front.unseen.map((u) => u.key), [], 'no fallback asked (GET /api/v2/server/ips)');
    assertPanelError(r, 'other', /outgoing mail settings for .* could not be read.*server get prefs/);
  } finally {
    await rig.close();
  }
});

test('found by the fuzzer: Plesk GET /domains/{base_domain_id} answering an entry without a name fails readMailSettings with a TypeError', async () => {
  // Answer 2 to GET /domains (domainByName's ?name=) gives the domain another id than its base_domain_id (11), so its
  // subscription is asked for (GET /domains/11, a call the well-formed read does not make), which answers without a
  // name. The emulator's outgoing mail mode is domain-ip, the branch that asks.
  const rig = await startRig('plesk');
  try {
    const rewrite = (a: Answer): Answer => {
      const j = JSON.parse(a.body);
      if (Array.isArray(j)) return { ...a, body: JSON.stringify(j.map((x) => ({ ...x, id: 2147483648 }))) };
      const { name: _name, ...rest } = j;
      return { ...a, body: JSON.stringify(rest) };
    };
    rig.front.reset({ key: 'GET /api/v2/domains', nth: 1, rewrite, unseenBesides: new Set(['POST /enterprise/control/agent.php', 'GET /api/v2/domains', 'GET /api/v2/server', 'GET /api/v2/dns/records', 'GET /api/v2/clients']) });
    const r = await settled(rig.panel().readMailSettings(DOMAIN));
    assert.ok(rig.front.unseen.some((u) => u.key === 'GET /api/v2/domains/11'), `the subscription was asked: ${rig.front.unseen.map((u) => u.key).join(', ')}`);
    assertPanelError(r, 'other');
  } finally {
    await rig.close();
  }
});

test('found by the fuzzer: a Plesk NS record with an empty value is read as a nameserver ""', async () => {
  const r = await withRewrite('plesk', 'GET /api/v2/dns/records', (j: any[]) => j.map((x) => (x.type === 'NS' && x.value === 'ns1.host.example.' ? { ...x, value: '' } : x)), 'readMailSettings');
  assert.equal(verdict('plesk', 'readMailSettings', r, ''), null);
});

test('found by the fuzzer: a Plesk TTL past 2^31-1 is read as it is (4294967296), a TTL no zone file can hold', async () => {
  for (const ttl of [2 ** 31, 2 ** 32, '4294967296']) {
    const r = await withRewrite('plesk', 'GET /api/v2/dns/records', (j: any[]) => j.map((x) => (x.type === 'A' ? { ...x, ttl } : x)), 'readZone');
    assert.equal(verdict('plesk', 'readZone', r, ''), null, `ttl ${short(ttl)}`);
  }
});

test('found by the fuzzer: has_local_authority with an `error` that is an object says "[object Object]" in nameserversUnknown', async () => {
  const whys: Record<string, string | null> = {};
  for (const kind of ['cpanel', 'whm'] as const) {
    const key = kind === 'cpanel' ? 'POST /execute/DNS/has_local_authority' : 'POST /json-api/has_local_authority';
    const r = await withRewrite(
      kind,
      key,
      (j) => {
        const items: any[] = kind === 'cpanel' ? j.data : (j.data?.records ?? j.data?.payload ?? j.data);
        for (const it of Array.isArray(items) ? items : []) it.error = { value: null };
        return j;
      },
      'readMailSettings',
    );
    whys[kind] = verdict(kind, 'readMailSettings', r, '');
  }
  assert.deepEqual(whys, { cpanel: null, whm: null });
});

test('found by the fuzzer: a cPanel SOA serial field that is not digits is read as a serial ("" → 0, "-1", "0x1F" → 31, "1e3" → 1000)', async () => {
  // cPanel writes a serial as digits (§4.4); anything else is no serial, and a made-up one is carried back to
  // mass_edit_zone as the version the write checks. The read should fail (invalid-zone), as it does for no serial.
  const read: string[] = [];
  for (const kind of ['cpanel', 'whm'] as const) {
    const key = kind === 'cpanel' ? 'POST /execute/DNS/parse_zone' : 'POST /json-api/parse_dns_zone';
    for (const serial of ['', ' ', '-1', '0x1F', '1e3', '2024061100.5', '4294967296']) {
      const r = await withRewrite(kind, key, (j) => {
        soaItem(kind === 'cpanel' ? j.data : j.data.payload).data_b64[2] = b64Text(serial);
        return j;
      }, 'readZone');
      if ('ok' in r && r.ok) read.push(`${kind} ${JSON.stringify(serial)} → serial ${(r.value as Zone).serial}`);
      else assertPanelError(r, 'invalid-zone');
    }
  }
  assert.deepEqual(read, []);
});

test('found by the fuzzer: a cPanel record_type "-1" is read as a record of type "-1"', async () => {
  const r = await withRewrite('cpanel', 'POST /execute/DNS/parse_zone', (j) => {
    j.data.find((x: any) => x.record_type === 'A').record_type = '-1';
    return j;
  }, 'readZone');
  assertPanelError(r, 'other', /record_type/);
});

test('found by the fuzzer: a cPanel record owned by "." (the root) is read into the zone with the name ""', async () => {
  const r = await withRewrite('cpanel', 'POST /execute/DNS/parse_zone', (j) => {
    j.data.find((x: any) => x.record_type === 'MX').dname_b64 = b64Text('.');
    return j;
  }, 'readZone');
  assertPanelError(r, 'other');
});
