// Fuzzing the cPanel, WHM and Plesk adapters' WRITE path (applyChanges) against their panels' answers: whatever a panel
// (or a proxy, a PHP error, a panel version we have not seen) answers to the calls of a write, the adapter must end it
// as a write made as planned or a PanelError that says why — never a raw JavaScript error, never a hang — and what it
// reports must be true of the zone: a write answered as made holds the plan, a failure that says nothing was written
// (stale, busy) left the zone as it was, a PartialWriteError names exactly what it left, and no record the plan does
// not own is ever lost or added. panel-answers-fuzz.test.ts does the same for the reads.
//
// The emulators (test/helpers/emulators/) act on every call they get and give the well-formed answers; the front
// (test/helpers/answers-front.ts, shared with the read fuzz test) forwards each call to them and rewrites one answer,
// picked per iteration by a seeded PRNG among the calls the write makes: the domain lists and the re-read before the
// write (cPanel UAPI DNS::parse_zone, WHM parse_dns_zone, Plesk GET /dns/records), the write itself
// (DNS::mass_edit_zone, mass_edit_dns_zone; Plesk's `plesk bin dns` over REST /cli/dns/call for a domain, REST POST
// and DELETE /dns/records for a domain alias's zone and for a record Plesk deletes by id), the re-read after it
// (Plesk) and the DKIM re-check after a DKIM record is written (cPanel/WHM). The rewrite is one of the read fuzz test's
// (a field dropped or of another type, huge or NaN-like numbers, bad base64, list items repeated, the whole body
// replaced by an HTML page, cut JSON, an empty body, a panel's failure envelope), or another HTTP status for the same
// body, or for a `plesk bin` answer another verdict (another exit code, an error on stderr). Since the panel did what
// was asked, a rewritten answer to a write is an answer that misreports a write that was made. A third of the writes
// also have the panel refuse one write call (the front answers it with the panel's refusal and does not pass it on:
// the panel did nothing), which takes the adapter down its recovery paths — on Plesk the zone read again to judge
// the step, the steps before it undone — and the one answer rewritten may then be any of those, the refusal itself
// included: garbled, it must not pass for the write made.
//
// Plans: one to three of an SPF edit, a TTL change, a DMARC record added, the MailChannels lockdown record removed or
// edited, the DKIM key record edited (two strings; cPanel/WHM then re-check DKIM), a CNAME retargeted, an A record
// edited (cPanel/WHM: Plesk writes TXT and CNAME only), built from the zone as read straight from the emulator (as a
// preview reads it). A third of the zones hold a second copy of the SPF record (another TTL) or the lockdown record
// under an owner spelled in capitals (Plesk then deletes by id). The zone before and after is read straight from the
// emulator, and compared as a multiset of records (type, name, TTL, text; the SOA left out).
//
// Properties of each write: it settles (a watchdog names it if not), with no unhandled rejection, and
// - answered as written: the zone holds the plan exactly, and the version returned is the zone's (cPanel/WHM: its
//   serial; Plesk: the hash of its records) — a success answer whose body is garbled is not proof unless the adapter
//   checks it;
// - a PanelError, with a message holding no "[object Object]" or "NaN" the answers did not: a PartialWriteError's zone
//   is the zone before with exactly its leftWritten; 'stale' or 'busy' (apply says "nothing was written") leaves the
//   zone as it was; anything else on cPanel/WHM (a zone written in one step) leaves it as it was or as planned — on
//   Plesk an error that does not say what it left is settled from the zone by apply (README "A write that fails
//   part-way"), so there only the next property is checked;
// - whatever the outcome: no record the plan does not own is lost, none it does not write is added.
// Counted apart, not failed: a version that cannot be told from the panel's own (a rewritten mass_edit new_serial that
// is a serial after the old one; a Plesk re-read after the write rewritten into a well-formed zone, as if edited right
// after) — nothing an adapter can check without another read; and Plesk's own word that README.md documents the
// adapter taking as said — a delete answered "no such record" (HTTP 404 to a REST delete, `plesk bin dns --del` saying
// so) is someone else's delete ('stale'), an add answered "already exists" (exit 2) someone else's record — which, the
// step made after all, leaves the adapter's account of the zone off by that step. HTTP 401, 403 and 404 (but to a
// delete) are not put on answers: the adapters take them as the panel's refusal, as README.md says.
//
// Deterministic: a seeded PRNG (mulberry32), fixed iteration counts, the emulators' state put back before every run
// (record ids, serials and the serial's date fixed); a failure names the seed, the iteration, the plan, the call
// refused and the call rewritten, the mutations, the answer served and the outcome, so it replays without the loop. A
// longer hunt: MH_FUZZ_SEED=<n> MH_FUZZ_ITERATIONS=<n> MH_FUZZ_SHOW=<n> (MH_FUZZ_CHARS=<n>: served answers cut there;
// MH_FUZZ_VERBOSE=1: the outcomes counted apart shown). Defects found are pinned by the tests at the end, each of which
// failed on the code before its fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpanelPanel } from '../../../src/adapters/panels/cpanel/index.js';
import { UapiHttp } from '../../../src/adapters/panels/cpanel/uapi.js';
import { splitTxt } from '../../../src/adapters/panels/cpanel/zonefile.js';
import { PanelHttpClient } from '../../../src/adapters/panels/http.js';
import { PleskPanel, PleskRestCli } from '../../../src/adapters/panels/plesk/index.js';
import { WhmHttp, WhmPanel } from '../../../src/adapters/panels/whm/index.js';
import { canonName } from '../../../src/core/domain.js';
import type { Change, Zone, ZoneRecord } from '../../../src/core/model.js';
import { PanelError, PartialWriteError, type ApplyResult, type Panel } from '../../../src/core/panel.js';
import { mutate, settled, short, shown, startFront, type Answer, type Front, type Script } from '../../helpers/answers-front.js';
import { makeCpState, startCpanelServer, type CpState, type RunningServer } from '../../helpers/emulators/cpanel.js';
import { makeFixture, SPF } from '../../helpers/emulators/fixture.js';
import { addPleskAlias, makePleskState, startPleskServer, type PleskState } from '../../helpers/emulators/plesk.js';
import { startWhmServer } from '../../helpers/emulators/whm.js';
import { prng, type Rng } from '../../helpers/prng.js';

type Kind = 'cpanel' | 'whm' | 'plesk';
type Settled = Awaited<ReturnType<typeof settled>>;

/** A domain alias of alice.example in the Plesk emulator: its zone is written through REST by record id. */
const ALIAS = 'alice-alias.example';

/** The zones written: a main and an addon domain (cPanel), two accounts' (WHM), a domain and a domain alias (Plesk). */
const DOMAINS: Record<Kind, readonly string[]> = { cpanel: ['alice.example', 'alice-shop.example'], whm: ['alice.example', 'bob.example'], plesk: ['alice.example', ALIAS] };

// ------------------------------------------------------------------------------------------------ the panels

interface Rig {
  front: Front;
  /** A new adapter (no caches) talking to the front. */
  panel(): Panel;
  /** An adapter straight to the emulator: what the zone really holds. */
  direct: Panel;
  /** The emulator's state as it was when started (records, ids, serials), then `variant` made to it. */
  reset(): void;
  /** A change to the zone written, for this iteration (made by every reset); null: the fixture's zones as they are. */
  variant: { what: string; make(): void } | null;
  /** The variants of `domain`'s zone on this rig's emulator (pleskVariants, cpVariants). */
  variants(domain: string): { what: string; make(): void }[];
  close(): Promise<void>;
}

/** Puts `state`'s every field back as it is now. */
function restorer<T extends object>(state: T): () => void {
  const pristine = structuredClone(state);
  return () => {
    for (const k of Object.keys(pristine) as (keyof T)[]) state[k] = structuredClone(pristine[k]);
  };
}

/**
 * What a zone may hold besides the fixture's, each taking the adapters down another path: a second copy of the SPF
 * record with another TTL (Plesk then deletes the copy the plan names by its id, REST DELETE, not `dns --del`, which
 * could take the other), and the lockdown record's owner spelled in capitals (Plesk deletes it by id; cPanel writes the
 * spelling back).
 */
const VARIANT_NAMES = ['a second SPF record (TTL 3600)', 'the lockdown owner spelled _MailChannels'] as const;

function pleskVariants(pl: PleskState, d: string): { what: string; make(): void }[] {
  const zoneId = () => pl.domains.find((x) => x.name === d)?.id ?? pl.aliases.find((a) => a.name === d)!.id;
  return [
    { what: VARIANT_NAMES[0], make: () => void pl.records.push({ id: pl.nextId++, domain_id: zoneId(), type: 'TXT', host: `${d}.`, value: SPF, opt: '', ttl: 3600 }) },
    { what: VARIANT_NAMES[1], make: () => void (pl.records.find((r) => r.domain_id === zoneId() && r.host === `_mailchannels.${d}.`)!.host = `_MailChannels.${d}.`) },
  ];
}

function cpVariants(cp: CpState, d: string): { what: string; make(): void }[] {
  return [
    { what: VARIANT_NAMES[0], make: () => void cp.zones[d].lines.push({ kind: 'record', dname: `${d}.`, ttl: 3600, type: 'TXT', data: [SPF] }) },
    { what: VARIANT_NAMES[1], make: () => void cp.zones[d].lines.forEach((l) => l?.kind === 'record' && l.dname === '_mailchannels' && (l.dname = '_MailChannels')) },
  ];
}

async function startRig(kind: Kind): Promise<Rig> {
  let upstream: RunningServer;
  let make: (url: string) => Panel;
  let restore: () => void;
  let variants: (domain: string) => { what: string; make(): void }[];
  // Client time limits far beyond any loopback answer: the watchdog names a write that does not settle.
  const client = (url: string, headers: Record<string, string>) => new PanelHttpClient({ baseUrl: url, headers, label: kind });
  if (kind === 'plesk') {
    const pl = makePleskState(makeFixture());
    addPleskAlias(pl, 'alice.example', { name: ALIAS });
    restore = restorer(pl);
    variants = (d) => pleskVariants(pl, d);
    upstream = await startPleskServer(pl);
    make = (url) => {
      const rest = client(url, { 'x-api-key': pl.apiKey });
      return new PleskPanel({ rest, apiKey: pl.apiKey, cli: new PleskRestCli(rest), root: null });
    };
  } else {
    const cp = makeCpState(makeFixture());
    cp.serialDate = '20270301'; // the serial a save gives does not depend on today
    restore = restorer(cp);
    variants = (d) => cpVariants(cp, d);
    if (kind === 'cpanel') {
      upstream = await startCpanelServer(cp);
      make = (url) => new CpanelPanel({ transport: new UapiHttp(client(url, { authorization: 'cpanel alice:tok-alice' })), user: 'alice', owner: 'res1' });
    } else {
      upstream = await startWhmServer(cp);
      make = (url) => new WhmPanel({ transport: new WhmHttp(client(url, { authorization: 'whm root:tok-root' })), user: 'root', root: null });
    }
  }
  const front = await startFront(upstream.url);
  const rig: Rig = {
    front,
    panel: () => make(front.url),
    direct: make(upstream.url),
    variant: null,
    variants,
    reset: () => {
      restore();
      rig.variant?.make();
    },
    close: async () => {
      await front.close();
      await upstream.close();
    },
  };
  return rig;
}

// ------------------------------------------------------------------------------------------------ the plans

const SPF_NEW = 'v=spf1 +a +mx include:relay.mailchannels.net ~all';
const DMARC = 'v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@host.example';
const LOCKDOWN_NEW = 'v=mc1 auth=thishostco';
/** A DKIM key record longer than one string (two on the wire), of fixed octets. */
const DKIM_NEW = `v=DKIM1; k=rsa; p=${Buffer.from(Array.from({ length: 294 }, (_, i) => (i * 37 + 11) & 255)).toString('base64')}`;

const txt = (name: string, ttl: number, text: string): ZoneRecord => ({ name, ttl, type: 'TXT', value: text, txt: splitTxt(text) });
const textOf = (r: ZoneRecord): string => {
  const t = r.type.toUpperCase();
  return t === 'TXT' ? (r.txt ? r.txt.join('') : r.value) : t === 'CNAME' ? canonName(r.value) : r.value;
};
const edit = (before: ZoneRecord | undefined, after: (b: ZoneRecord) => ZoneRecord): Change | null =>
  before ? { action: 'edit', name: before.name, type: before.type, ttl: after(before).ttl, before, after: after(before) } : null;
const add = (after: ZoneRecord): Change => ({ action: 'add', name: after.name, type: after.type, ttl: after.ttl, before: null, after });
const remove = (before: ZoneRecord | undefined): Change | null => (before ? { action: 'remove', name: before.name, type: before.type, ttl: before.ttl, before, after: null } : null);
const at = (z: Zone, name: string, type: string, pick: (r: ZoneRecord) => boolean = () => true) =>
  z.records.find((r) => canonName(r.name) === canonName(name) && r.type.toUpperCase() === type && pick(r));

interface Step {
  what: string;
  type: string;
  make(z: Zone, d: string): Change | null;
}

/** Groups of steps on one record each (a plan takes at most one step of a group). */
const GROUPS: Step[][] = [
  [
    { what: 'SPF edited', type: 'TXT', make: (z, d) => edit(at(z, d, 'TXT', (r) => textOf(r).startsWith('v=spf1')), (b) => txt(b.name, b.ttl, SPF_NEW)) },
    { what: 'SPF TTL changed', type: 'TXT', make: (z, d) => edit(at(z, d, 'TXT', (r) => textOf(r).startsWith('v=spf1')), (b) => txt(b.name, 3600, textOf(b))) },
  ],
  [{ what: 'DMARC added', type: 'TXT', make: (_z, d) => add(txt(`_dmarc.${d}`, 3600, DMARC)) }],
  [
    { what: 'lockdown removed', type: 'TXT', make: (z, d) => remove(at(z, `_mailchannels.${d}`, 'TXT')) },
    { what: 'lockdown edited', type: 'TXT', make: (z, d) => edit(at(z, `_mailchannels.${d}`, 'TXT'), (b) => txt(b.name, b.ttl, LOCKDOWN_NEW)) },
  ],
  [{ what: 'DKIM key edited', type: 'TXT', make: (z, d) => edit(at(z, `default._domainkey.${d}`, 'TXT'), (b) => txt(b.name, b.ttl, DKIM_NEW)) }],
  [{ what: 'CNAME retargeted', type: 'CNAME', make: (z, d) => edit(at(z, `www.${d}`, 'CNAME'), (b) => ({ name: b.name, ttl: b.ttl, type: 'CNAME', value: 'web.host.example' })) }],
  [{ what: 'A edited', type: 'A', make: (z, d) => edit(at(z, `mail.${d}`, 'A'), (b) => ({ name: b.name, ttl: b.ttl, type: 'A', value: '203.0.113.20' })) }],
];

/** One to three steps of distinct groups, of the types `kind` writes, made on `z`. */
function makePlan(kind: Kind, z: Zone, domain: string, rng: Rng): { what: string[]; changes: Change[] } {
  const groups = GROUPS.map((g) => g.filter((s) => kind !== 'plesk' || ['TXT', 'CNAME'].includes(s.type))).filter((g) => g.length);
  const what: string[] = [];
  const changes: Change[] = [];
  for (let n = 1 + rng.int(3); n > 0 && groups.length; n--) {
    const [g] = groups.splice(rng.int(groups.length), 1);
    const s = rng.pick(g);
    const c = s.make(z, domain);
    if (!c) throw new Error(`${s.what}: the emulator's zone ${domain} has no record for it`);
    what.push(s.what);
    changes.push(c);
  }
  return { what, changes };
}

// ------------------------------------------------------------------------------------------------ zones as multisets

/** Records by type, name, TTL and text, counted (the SOA left out: its serial is the version). */
type Bag = Map<string, number>;

const keyOf = (r: ZoneRecord) => `${r.type.toUpperCase()} ${canonName(r.name)} ${r.ttl} ${JSON.stringify(textOf(r))}`;

function bagOf(records: readonly (ZoneRecord | null)[]): Bag {
  const b: Bag = new Map();
  for (const r of records) if (r && r.type.toUpperCase() !== 'SOA') b.set(keyOf(r), (b.get(keyOf(r)) ?? 0) + 1);
  return b;
}

/** `a` less `b` (counts below zero dropped). */
function minus(a: Bag, b: Bag): Bag {
  const out: Bag = new Map();
  for (const [k, n] of a) if (n - (b.get(k) ?? 0) > 0) out.set(k, n - (b.get(k) ?? 0));
  return out;
}

const same = (a: Bag, b: Bag) => !minus(a, b).size && !minus(b, a).size;
const bagText = (b: Bag) => [...b].map(([k, n]) => (n > 1 ? `${n}× ${k}` : k)).join('; ');

/** `before` with `changes` made: each change's `before` taken out, its `after` put in. */
function applied(before: Bag, changes: readonly Change[]): Bag {
  const out = minus(before, bagOf(changes.map((c) => c.before)));
  for (const [k, n] of bagOf(changes.map((c) => c.after))) out.set(k, (out.get(k) ?? 0) + n);
  return out;
}

/** How `now` differs from `want`, in words. */
const differs = (now: Bag, want: Bag) => `lacks [${bagText(minus(want, now))}] and holds [${bagText(minus(now, want))}] besides`;

// ------------------------------------------------------------------------------------------------ the rewrites

/**
 * HTTP statuses an answer may come back with instead (the body as it was). Not 401 or 403 (credentials refused: the
 * panel did nothing) nor 404 (no such function, domain or record), which the adapters take as the panel's refusal, as
 * README.md says ("A 4xx, or the panel's own error answer, is a refusal") — except 404 to a REST delete by id, whose
 * reading (someone else deleted the record) README.md documents: counted apart (see plesksWord).
 */
const STATUSES = [200, 201, 302, 400, 409, 422, 500, 502, 503, 504];

/** What `plesk bin dns` may answer instead (REST /cli/<utility>/call: `{code, stdout, stderr}`, §1.4). */
const CLI_VERDICTS: [string, { code: number; stdout: string; stderr: string }][] = [
  ['exit 0, nothing on stderr', { code: 0, stdout: 'SUCCESS: done\n', stderr: '' }],
  ['exit 1, an error', { code: 1, stdout: '', stderr: 'An error occurred during domain update: Unable to update the DNS zone\n' }],
  ['exit 1, "does not exist"', { code: 1, stdout: '', stderr: 'Unable to remove the DNS record: the record does not exist\n' }],
  ['exit 0, an error on stderr', { code: 0, stdout: '', stderr: 'Unable to add DNS record\n' }],
  ['exit 2, "already exists"', { code: 2, stdout: '', stderr: 'Unable to add the DNS record: the record already exists\n' }],
  ['exit 255, nothing said', { code: 255, stdout: '', stderr: '' }],
];

/** One rewrite of a write's answer: another status, another `plesk bin` verdict, or one of the read fuzz test's. */
function mutateWrite(key: string, a: Answer, rng: Rng, log: string[]): Answer {
  const x = rng.next();
  if (x < 0.12) {
    const status = rng.pick(key.startsWith('DELETE ') ? [...STATUSES, 404] : STATUSES);
    log.push(`HTTP ${a.status} → ${status}`);
    return { ...a, status };
  }
  if (x < 0.25 && /\/cli\/[^/]+\/call$/.test(key)) {
    const [what, v] = rng.pick(CLI_VERDICTS);
    log.push(`plesk bin: ${what}`);
    return { ...a, body: JSON.stringify(v) };
  }
  return mutate(a, rng, log);
}

/** The calls that change something. */
const isWrite = (key: string) => /^POST \/execute\/DNS\/mass_edit_zone$|^POST \/json-api\/mass_edit_dns_zone$|^POST \/api\/v2\/cli\/|^POST \/api\/v2\/dns\/records$|^DELETE \/api\/v2\/dns\/records\//.test(key);

/**
 * The panel refusing a write, as it answers one: cPanel's error envelope (status 0 with its errors), WHM's
 * (metadata.result 0 with its reason); `plesk bin` exit 1 with its error; REST 400 with Plesk's error object.
 */
function refusalOf(key: string): Answer {
  const json = (body: unknown, status = 200): Answer => ({ status, contentType: 'application/json', body: JSON.stringify(body) });
  const why = 'The DNS zone is locked by another operation.';
  if (key.startsWith('POST /execute/')) return json({ status: 0, errors: [why], data: null, messages: null, warnings: null, metadata: {} });
  if (key.startsWith('POST /json-api/')) return json({ metadata: { command: key.slice('POST /json-api/'.length), reason: why, result: 0, version: 1 }, data: null });
  if (key.startsWith('POST /api/v2/cli/')) return json({ code: 1, stdout: '', stderr: `An error occurred during domain update: ${why}\n` });
  return json({ code: 400, message: why }, 400);
}

// ------------------------------------------------------------------------------------------------ the properties

/** What a made-up value shows: a JavaScript value turned into text ("undefined" is how messages name a missing field). */
const GARBAGE = ['[object Object]', 'NaN'];

/** The serial follows `old` in RFC 1982 arithmetic (what a save gives: cpanel.md §4.4). */
function follows(serial: string, old: string): boolean {
  if (!/^\d{1,10}$/.test(serial) || Number(serial) > 0xffffffff) return false;
  const d = (Number(serial) - Number(old) + 2 ** 32) % 2 ** 32;
  return d > 0 && d < 2 ** 31;
}

interface Ctx {
  kind: Kind;
  r: Settled;
  before: Bag;
  after: Bag;
  plan: Change[];
  expectedVersion: string;
  /** The zone's version as read straight from the emulator after the write. */
  fresh: string;
  /** The call rewritten (its key), its request body, and the answer served; null when the adapter never made it. */
  rewritten: { key: string; body: string; answer: Answer } | null;
  /** Every answer the front served to this write, for the made-up words check. */
  servedText: string;
}

type Verdict = { ok: true } | { ok: false; why: string } | { counted: 'undetectable' | 'documented'; why: string };

/**
 * Plesk's own word in the rewritten answer that README.md documents the adapter taking as said ("A write that fails
 * part-way"), or null: a delete answered "no such record" (HTTP 404 to a REST delete by id, `plesk bin dns --del`
 * saying so, the zone not holding it) is someone else's delete — 'stale', nothing of it this write's —, and an add
 * answered "already exists" (`plesk bin dns --add` exit 2) is a record someone else added, not this write's to take
 * back. When the panel did make the step (as here: the emulator always does), the adapter's account of the zone is
 * then off by that step, as documented.
 */
function plesksWord(c: Ctx): string | null {
  const w = c.rewritten;
  if (c.kind !== 'plesk' || !w) return null;
  if (/^DELETE \/api\/v2\/dns\/records\//.test(w.key)) return w.answer.status === 404 ? 'a REST delete answered 404' : null;
  if (w.key !== 'POST /api/v2/cli/dns/call') return null;
  if (w.body.includes('"--del"') && /does not exist|doesn't exist|no such record|not found/i.test(w.answer.body)) return '`plesk bin dns --del` answered "no such record"';
  let code: unknown;
  try {
    code = (JSON.parse(w.answer.body) as { code?: unknown } | null)?.code;
  } catch {
    code = undefined;
  }
  return w.body.includes('"--add"') && code === 2 && w.answer.status < 400 ? '`plesk bin dns --add` answered exit 2 ("already exists")' : null;
}

function verdict(c: Ctx): Verdict {
  const { r } = c;
  if ('hung' in r) return { ok: false, why: 'did not settle (hung)' };
  if (!r.ok) {
    const e = r.error;
    if (!(e instanceof PanelError)) return { ok: false, why: `threw ${(e as Error)?.constructor?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}` };
    if (typeof e.message !== 'string' || !e.message.trim()) return { ok: false, why: 'a PanelError without a message' };
    for (const g of GARBAGE) if (e.message.includes(g) && !c.servedText.includes(g)) return { ok: false, why: `a PanelError saying "${g}", which no answer did: ${e.message}` };
  }
  const why = zoneVerdict(c);
  if (!why || 'counted' in why) return why ?? { ok: true };
  const word = plesksWord(c);
  return word ? { counted: 'documented', why: `${why.why} (${word})` } : why;
}

/** What the outcome says of the zone, against what the zone holds (see the header): null when it is true. */
function zoneVerdict(c: Ctx): { ok: false; why: string } | { counted: 'undetectable'; why: string } | null {
  const { r } = c;
  if ('hung' in r) return null;
  const no = (why: string) => ({ ok: false as const, why });
  const intended = applied(c.before, c.plan);
  // Whatever the outcome: records the plan does not own are all there, and no record it does not write is added.
  const lost = minus(minus(c.before, c.after), bagOf(c.plan.map((x) => x.before)));
  if (lost.size) return no(`lost records the plan does not own: ${bagText(lost)}`);
  const extra = minus(minus(c.after, c.before), bagOf(c.plan.map((x) => x.after)));
  if (extra.size) return no(`added records the plan does not write: ${bagText(extra)}`);
  if (r.ok) {
    const v = r.value as ApplyResult;
    if (!same(c.after, intended)) return no(`answered as written, but the zone ${differs(c.after, intended)}`);
    if (!v || typeof v.version !== 'string' || !v.version) return no(`answered as written with the version ${short(v?.version)}`);
    if (v.version === c.fresh) return null;
    const why = `answered as written with the version ${short(v.version)}, not the zone's (${c.fresh})`;
    const w = c.rewritten?.key ?? '';
    if (c.kind !== 'plesk' && /mass_edit/.test(w) && follows(v.version, c.expectedVersion)) return { counted: 'undetectable', why };
    if (c.kind === 'plesk' && w === 'GET /api/v2/dns/records' && v.version.startsWith('sha256:')) return { counted: 'undetectable', why };
    return no(why);
  }
  const e = r.error as PanelError;
  const said = `${e.constructor.name}(${e.code}): ${e.message}`;
  if (e instanceof PartialWriteError) {
    const want = applied(c.before, e.leftWritten);
    return same(c.after, want) ? null : no(`${said} — leaving ${e.leftWritten.length} step(s) written, but the zone ${differs(c.after, want)}`);
  }
  if (e.code === 'stale' || e.code === 'busy') return same(c.after, c.before) ? null : no(`${said} — "nothing was written", but the zone ${differs(c.after, c.before)}`);
  // Plesk, an error that does not say what it left: apply settles the write from the zone (README "A write that fails
  // part-way"), so the steps may have been made in part — the records checked above.
  if (c.kind === 'plesk') return null;
  // cPanel/WHM write a zone in one step.
  return same(c.after, c.before) || same(c.after, intended) ? null : no(`${said} — the zone is neither as before nor as planned: it ${differs(c.after, intended)}`);
}

// ------------------------------------------------------------------------------------------------ the loop

const SEED = Number(process.env.MH_FUZZ_SEED ?? 0x0057_417e);
const ITERATIONS = Number(process.env.MH_FUZZ_ITERATIONS ?? 300); // per panel

const outcomeText = (r: Settled) =>
  'hung' in r ? 'hung' : r.ok ? `written, version ${short((r.value as ApplyResult)?.version)}` : r.error instanceof PanelError ? `${r.error.constructor.name}(${r.error.code}): ${r.error.message}` : String(r.error);

/**
 * One write of `changes` to `domain` on a fresh adapter through the front, the emulator put back first and the zone
 * compared after: the verdict, and what the front saw.
 */
async function writeOnce(rig: Rig, kind: Kind, domain: string, changes: Change[], expectedVersion: string, before: Bag, script: Script | null) {
  rig.reset();
  rig.front.reset(script);
  const r = await settled(rig.panel().applyChanges(domain, changes, expectedVersion));
  const zone = await rig.direct.readZone(domain);
  const seen = [...rig.front.seen];
  const bodies = [...rig.front.bodies];
  const i = script ? seen.findIndex(([k, n]) => k === script.key && n === script.nth) : -1;
  const rewritten = i >= 0 && rig.front.served ? { key: seen[i][0], body: bodies[i], answer: rig.front.served } : null;
  const served = rig.front.served?.body ?? '';
  // The served text, and its base64 strings decoded (a serial "TmFO" is "NaN"), for the made-up words check.
  const servedText = [served, ...[...served.matchAll(/"([A-Za-z0-9+/=]{4,})"/g)].map((m) => Buffer.from(m[1], 'base64').toString('latin1'))].join('\n');
  const ctx: Ctx = { kind, r, before, after: bagOf(zone.records), plan: changes, expectedVersion, fresh: zone.version, rewritten, servedText };
  return { r, seen, bodies, v: verdict(ctx) };
}

for (const kind of ['cpanel', 'whm', 'plesk'] as const) {
  test(`panel write answers fuzz (${kind}): ${ITERATIONS} writes with one answer rewritten (seed 0x${SEED.toString(16)}): each written as planned or a true PanelError`, { timeout: 300_000 }, async (t) => {
    const rig = await startRig(kind);
    t.after(() => rig.close());
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    t.after(() => process.off('unhandledRejection', onUnhandled));

    const rng = prng(SEED ^ { cpanel: 1, whm: 2, plesk: 3 }[kind]);
    const tally = { written: 0, panelErrors: 0, partial: 0, noAnswer: 0, refusedRuns: 0, unserved: 0, undetectable: 0, documented: 0 };
    const failures: string[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const domain = rng.pick(DOMAINS[kind]);
      rig.variant = rng.chance(1 / 3) ? rng.pick(rig.variants(domain)) : null;
      rig.reset();
      const zone = await rig.direct.readZone(domain);
      const before = bagOf(zone.records);
      const plan = makePlan(kind, zone, domain, rng);
      const head = `${kind} applyChanges(${domain}${rig.variant ? `, ${rig.variant.what}` : ''}: ${plan.what.join(', ')})`;
      // The calls the write makes on the emulator's well-formed answers: it is written as planned (or, in a variant,
      // refused as it says: Plesk keeps one copy of a record, and cannot add the SPF record's TTL change beside its copy).
      const clean = await writeOnce(rig, kind, domain, plan.changes, zone.version, before, null);
      assert.deepEqual(clean.v, { ok: true }, `${head} on the emulator's own answers: ${outcomeText(clean.r)}`);
      if (!rig.variant) assert.ok('ok' in clean.r && clean.r.ok, `${head} on the emulator's own answers: ${outcomeText(clean.r)}`);
      let calls = clean.seen;
      // A third of the writes have one write call refused by the panel (Plesk: one step), and then the calls of that
      // path are the ones rewritten — the refusal itself among them: garbled, it must not pass for the write made. The
      // refused write is itself checked.
      let refuse: Script['refuse'];
      const writes = calls.filter(([k]) => isWrite(k));
      if (writes.length && rng.chance(1 / 3)) {
        const [key, nth] = rng.pick(writes);
        refuse = { key, nth, answer: refusalOf(key) };
        const refused = await writeOnce(rig, kind, domain, plan.changes, zone.version, before, { key: '', nth: -1, rewrite: (a) => a, refuse });
        tally.refusedRuns++;
        if ('ok' in refused.v && !refused.v.ok) failures.push([`${head} with ${key} #${nth + 1} refused ${refused.v.why}`, `  seed 0x${SEED.toString(16)} (${kind}), iteration ${i}; nothing rewritten`, `  outcome: ${outcomeText(refused.r)}`].join('\n'));
        calls = refused.seen;
      }
      const [key, nth] = rng.pick(calls);
      const steps: string[] = [];
      // The PRNG is drawn in the front's rewrite; calls are made one at a time, so the draws keep their order.
      const script: Script = { key, nth, rewrite: (a) => mutateWrite(key, a, rng, steps), ...(refuse ? { refuse } : {}) };
      const run = await writeOnce(rig, kind, domain, plan.changes, zone.version, before, script);
      if (!rig.front.served) tally.unserved++;
      else if ('ok' in run.r && run.r.ok) tally.written++;
      else {
        tally.panelErrors++;
        if ('ok' in run.r && run.r.error instanceof PartialWriteError) tally.partial++;
        if ('ok' in run.r && run.r.error instanceof PanelError && run.r.error.code === 'no-answer') tally.noAnswer++;
      }
      if ('counted' in run.v) {
        tally[run.v.counted]++;
        if (process.env.MH_FUZZ_VERBOSE) t.diagnostic(`${run.v.counted}: ${head} ${run.v.why} (iteration ${i}; ${key} #${nth + 1}: ${steps.join(' → ')})`);
      }
      else if (!run.v.ok) {
        failures.push(
          [
            `${head} ${run.v.why}`,
            `  seed 0x${SEED.toString(16)} (${kind}), iteration ${i}; ${refuse ? `${refuse.key} #${refuse.nth + 1} refused by the panel; ` : ''}answer ${nth + 1} to ${key} rewritten: ${steps.join(' → ')}`,
            `  served: ${rig.front.served ? shown(rig.front.served).slice(0, Number(process.env.MH_FUZZ_CHARS ?? 3000)) : '(not served: the adapter never made that call)'}`,
            `  outcome: ${outcomeText(run.r)}`,
            `  calls: ${run.seen.map(([k, n], j) => `${k} #${n + 1}${isWrite(k) ? ` ${run.bodies[j].slice(0, 160)}` : ''}`).join(' | ')}`,
          ].join('\n'),
        );
      }
    }
    t.diagnostic(`tally: ${JSON.stringify(tally)}`);
    assert.deepEqual(unhandled.map(String), [], 'unhandled rejections');
    assert.deepEqual(failures.slice(0, Number(process.env.MH_FUZZ_SHOW ?? 5)), [], `${failures.length} of ${ITERATIONS} broke a property; the first ones are shown`);
    // Both outcomes were reached: writes made through rewritten answers, and writes refused.
    assert.ok(tally.written > ITERATIONS / 20 && tally.panelErrors > ITERATIONS / 10, JSON.stringify(tally));
  });
}

// ------------------------------------------------------------------------------------------------ found by the fuzzer
// Each test below is one kind of input the loop found, exactly: the emulator's well-formed answer with the one rewrite
// named. Each failed on the code before its fix.

/** The changes of the named steps (GROUPS) on `z`. */
function planOf(z: Zone, domain: string, names: readonly string[]): Change[] {
  return names.map((n) => {
    const step = GROUPS.flat().find((s) => s.what === n);
    const c = step?.make(z, domain);
    if (!c) throw new Error(`no step ${n} for ${domain}`);
    return c;
  });
}

/**
 * A write of the named steps to `domain` on a fresh rig of `kind` whose answer `nth` (0-based) to `key` is the
 * emulator's with its JSON rewritten by `edit`: the outcome and the loop's verdict on it.
 */
async function writeWithRewrite(kind: Kind, domain: string, names: readonly string[], key: string, edit: (json: any) => unknown, nth = 0) {
  const rig = await startRig(kind);
  try {
    const zone = await rig.direct.readZone(domain);
    const changes = planOf(zone, domain, names);
    const run = await writeOnce(rig, kind, domain, changes, zone.version, bagOf(zone.records), { key, nth, rewrite: (a) => ({ ...a, body: JSON.stringify(edit(JSON.parse(a.body)) ?? null) }) });
    assert.ok(rig.front.served, `${key} was asked`);
    return run;
  } finally {
    await rig.close();
  }
}

const MASS_EDIT: Record<'cpanel' | 'whm', string> = { cpanel: 'POST /execute/DNS/mass_edit_zone', whm: 'POST /json-api/mass_edit_dns_zone' };

test('found by the fuzzer: a mass_edit answered as done with a new_serial that is no serial after the old one is returned as the zone\'s version', async () => {
  // The zone is at 2024061100 and the save gives 2027030100 (the emulator's date): the new_serial rewritten to {} was
  // returned as the version "[object Object]", -1 as "-1", 1e-7 as "1e-7", 4294967296 (past 32 bits) and "007" (7,
  // before the old serial) as they were — the version apply records as the zone's after the fix. The write was made:
  // an answer that does not say the zone's new serial is a PanelError, and apply reads the zone to settle it.
  const returned: string[] = [];
  for (const kind of ['cpanel', 'whm'] as const) {
    for (const ns of [{}, { value: 2027030100 }, ['2027030100'], '', 'YQ', '-1', -1, 1e-7, 0.5, 4294967296, 2 ** 53, '007', '2024061100', 'NaN']) {
      const run = await writeWithRewrite(kind, 'alice.example', ['SPF edited'], MASS_EDIT[kind], (j) => {
        j.data.new_serial = ns;
        return j;
      });
      // The write was made: a PanelError ('other', naming the new serial) — never a made-up version.
      const error = 'ok' in run.r && !run.r.ok && run.r.error instanceof PanelError && run.r.error.code === 'other' && /new serial/.test(run.r.error.message);
      if (!error || !('ok' in run.v && run.v.ok)) returned.push(`${kind} new_serial ${short(ns)} → ${outcomeText(run.r)}`);
    }
    // cPanel's own answers: the serial as text (UAPI) or as a number (WHM API 1), both read.
    for (const ns of ['2027030100', 2027030100]) {
      const run = await writeWithRewrite(kind, 'alice.example', ['SPF edited'], MASS_EDIT[kind], (j) => {
        j.data.new_serial = ns;
        return j;
      });
      assert.deepEqual(run.v, { ok: true }, outcomeText(run.r));
      assert.equal('ok' in run.r && run.r.ok && (run.r.value as ApplyResult).version, '2027030100', `${kind} new_serial ${short(ns)}: ${outcomeText(run.r)}`);
    }
  }
  assert.deepEqual(returned, []);
});

test('found by the fuzzer: a cPanel error or a WHM reason that is no text says "[object Object]" in the message', async () => {
  // UAPI `errors` is a list of strings (§2) and WHM's `metadata.reason` a string: an object in their place was turned
  // into "[object Object]" ("cPanel refused the zone edit for alice.example: [object Object]"). Its JSON text says more.
  const said: Record<string, string> = {};
  const refusals: [string, Kind, string, (j: any) => unknown][] = [
    ['cPanel mass_edit_zone, errors an object', 'cpanel', MASS_EDIT.cpanel, () => ({ status: 0, errors: { reason: 'zone locked' }, data: null })],
    ['cPanel mass_edit_zone, errors a list of objects', 'cpanel', MASS_EDIT.cpanel, () => ({ status: 0, errors: [{ reason: 'zone locked' }], data: null })],
    ['cPanel list_domains, errors an object', 'cpanel', 'POST /execute/DomainInfo/list_domains', () => ({ status: 0, errors: { reason: 'zone locked' }, data: null })],
    ['WHM mass_edit_dns_zone, reason an object', 'whm', MASS_EDIT.whm, () => ({ metadata: { result: 0, reason: { reason: 'zone locked' } }, data: null })],
  ];
  for (const [what, kind, key, edit] of refusals) {
    const run = await writeWithRewrite(kind, 'alice.example', ['SPF edited'], key, edit);
    assert.ok('ok' in run.r && !run.r.ok && run.r.error instanceof PanelError, `${what}: ${outcomeText(run.r)}`);
    said[what] = run.r.error.message.includes('[object Object]') || !run.r.error.message.includes('zone locked') ? run.r.error.message : 'ok';
  }
  assert.deepEqual(said, Object.fromEntries(refusals.map(([w]) => [w, 'ok'])));
});

test('found by the fuzzer: a Plesk domain alias whose ascii_name is no text fails a write (and a read) with a TypeError', async () => {
  // GET /domains: an alias's `ascii_name` an object, a list or a number ("s.toLowerCase is not a function" while
  // telling a domain from an alias). The answer cannot be read: PanelError, nothing written.
  for (const ascii of [{}, [ALIAS], 7]) {
    const run = await writeWithRewrite('plesk', ALIAS, ['SPF edited'], 'GET /api/v2/domains', (j: any[]) =>
      j.map((d) => ({ ...d, aliases: (d.aliases as any[]).map((a) => ({ ...a, ascii_name: ascii })) })),
    );
    assert.deepEqual(run.v, { ok: true }, `ascii_name ${short(ascii)}: ${outcomeText(run.r)}`);
    assert.ok('ok' in run.r && !run.r.ok && run.r.error instanceof PanelError && run.r.error.code === 'other', `ascii_name ${short(ascii)}: ${outcomeText(run.r)}`);
  }
  const rig = await startRig('plesk');
  try {
    rig.front.reset({ key: 'GET /api/v2/domains', nth: 0, rewrite: (a) => ({ ...a, body: JSON.stringify((JSON.parse(a.body) as any[]).map((d) => ({ ...d, aliases: d.aliases.map((x: object) => ({ ...x, ascii_name: {} })) }))) }) });
    const r = await settled(rig.panel().readZone(ALIAS));
    assert.ok('ok' in r && !r.ok && r.error instanceof PanelError, `readZone: ${outcomeText(r)}`);
  } finally {
    await rig.close();
  }
});

test('found by the fuzzer: Plesk, undoing the delete of one of two identical records, an error answer to the re-add is taken as made because the other copy is in the zone — and the record is lost', async () => {
  // The zone holds the SPF record twice, with TTL 14400 and 3600. The SPF fix deletes the 14400 one by its id and adds
  // the new text; the DMARC add after it is refused, so the steps are undone: the new SPF record deleted, the old one
  // added back — which Plesk cannot do while the 3600 copy is there (one copy per type, host and value: exit 2), here
  // answered by its REST front with HTTP 500 (the body as it was). The zone, read again to judge that answer, holds a
  // record of that type, name and text — the copy — and the re-add was taken as made: the write said it left nothing
  // (PartialWriteError, leftWritten []), while the 14400 record was gone. Apply then records "nothing was written".
  const rig = await startRig('plesk');
  try {
    rig.variant = rig.variants('alice.example').find((v) => v.what === VARIANT_NAMES[0])!;
    rig.reset();
    const zone = await rig.direct.readZone('alice.example');
    const changes = planOf(zone, 'alice.example', ['SPF edited', 'DMARC added']);
    assert.equal(changes[0].before?.ttl, 14400);
    const cli = 'POST /api/v2/cli/dns/call';
    const run = await writeOnce(rig, 'plesk', 'alice.example', changes, zone.version, bagOf(zone.records), {
      key: cli,
      nth: 3,
      rewrite: (a) => ({ ...a, status: 500 }),
      refuse: { key: cli, nth: 1, answer: refusalOf(cli) },
    });
    // The write steps, as described above.
    const text = (v: string) => (v.includes('websitewelcome') ? 'old SPF' : v.includes('mailchannels') ? 'new SPF' : v.startsWith('v=DMARC1') ? 'DMARC' : v);
    const steps = run.seen.flatMap(([k], i) => (k === cli ? [`${(JSON.parse(run.bodies[i]) as { params: string[] }).params[0]} ${text((JSON.parse(run.bodies[i]) as { params: string[] }).params[3])}`] : k.startsWith('DELETE ') ? ['delete by id'] : []));
    assert.deepEqual(steps, ['delete by id', '--add new SPF', '--add DMARC', '--del new SPF', '--add old SPF']);
    assert.ok('ok' in run.r && !run.r.ok && run.r.error instanceof PartialWriteError, outcomeText(run.r));
    assert.deepEqual(run.v, { ok: true }, outcomeText(run.r));
  } finally {
    await rig.close();
  }
});

test('found by the fuzzer: Plesk, a REST delete answered HTTP 200 with a body that is not its success answer is taken as the delete made — and its undo adds a second copy of the record', async () => {
  // A domain alias's zone holding the SPF record twice (TTL 14400 and 3600); the plan changes the 14400 one's TTL to
  // 3600 (deleted by id, then added). The panel refuses the delete — Plesk's error object {"code":400,…} — but the
  // answer comes with HTTP 200. Plesk answers a delete made with {"status": "success"} (plesk.md §1.2); the body was
  // not looked at, the delete was taken as made, the add then refused ("already exists": the 3600 copy), and the undo
  // put back the record that had never been deleted: the zone held a third SPF record the plan does not write.
  const rig = await startRig('plesk');
  try {
    rig.variant = rig.variants(ALIAS).find((v) => v.what === VARIANT_NAMES[0])!;
    rig.reset();
    const zone = await rig.direct.readZone(ALIAS);
    const changes = planOf(zone, ALIAS, ['SPF TTL changed']);
    const del = `DELETE /api/v2/dns/records/${changes[0].before!.ref}`;
    const run = await writeOnce(rig, 'plesk', ALIAS, changes, zone.version, bagOf(zone.records), {
      key: del,
      nth: 0,
      rewrite: (a) => ({ ...a, status: 200 }),
      refuse: { key: del, nth: 0, answer: refusalOf(del) },
    });
    assert.deepEqual(rig.front.served, { status: 200, contentType: 'application/json', body: '{"code":400,"message":"The DNS zone is locked by another operation."}' });
    assert.deepEqual(run.v, { ok: true }, outcomeText(run.r));
    assert.ok('ok' in run.r && !run.r.ok && run.r.error instanceof PanelError, outcomeText(run.r));
  } finally {
    await rig.close();
  }
});
