// A third independent DMARC judge: OpenDMARC's library (libopendmarc 1.4.2, Debian's libopendmarc-dev), the parser of
// the opendmarc milter that many Postfix and Sendmail receivers run. Where it reads a DMARC record otherwise than
// mailhealth, a customer's mail is judged otherwise there. (Mail::DMARC is the first DMARC judge:
// test/e2e/dmarc-verdicts-oracle.test.ts.)
//
// The judge (test/fixtures/oracles/opendmarc-judge.c, compiled here with gcc into a temp dir) calls
// opendmarc_policy_parse_dmarc() on each record's text — the TXT strings joined, as receivers join them — with no DNS,
// and prints its status and, when it parsed, p, sp, pct and the rua/ruf lists.
//
// 1. The corpus (RECORDS, hand-made, and GENERATED: a seeded PRNG mutating valid records — tag order, case,
//    whitespace, p/sp/np/pct values, rua/ruf forms with !size, several URIs, unknown and duplicate tags, trailing ";",
//    empty values, Unicode) is read by both sides: what policy applies to the domain ("policy": mailhealth's
//    parseDmarcRecord policy, "discarded" when isDmarcRecord says receivers discard it; OpenDMARC's p, or "refused"
//    with its status), then for records both apply alike, the subdomain policy and pct. Every difference falls in one
//    class of CLASSES, each with its verdict pair and its classification: (b) OpenDMARC departs from RFC 7489 where a
//    customer's record is judged otherwise by its receivers, or (c) harmless (neither side enforces a policy). A
//    difference no class explains, or one whose verdicts are not the class's, fails the test; so does a class no case
//    shows. (No class is (a): the differences found in mailhealth were in the DMARC fix, see 2.)
//    Its length limits on report addresses (LIMITS, each just under, at and over): a report URI of 256 octets or
//    more (whitespace not counted, a !size suffix counted) makes it refuse the whole record; a rua= or ruf= value of
//    512 octets or more (as written, from "=" to ";", whitespace counted) is skipped whole — no report of that kind,
//    the policy still applied. mailhealth's dmarc.compat says both (openDmarcIgnores, openDmarcDropsReports).
// 2. Every record the DMARC fix writes (planDmarc over a variety of starting records: none, broken, stale report
//    addresses, p=none, several records, long records split into strings, report addresses over those limits) is read
//    by OpenDMARC as the policy the fix meant: parsed, the same p, the same subdomain policy, the same rua and ruf
//    lists; and every report address the fix does not write is named in its notes. The defects it found — the fix kept
//    an rf= or ri= value that OpenDMARC refuses the whole record over (src/core/plans/dmarc.ts refusedReportTag; pinned
//    without gcc in test/core/plans/dmarc-opendmarc.test.ts), and report URIs or lists over OpenDMARC's limits (fixed:
//    fitReportUris; test/core/plans/dmarc-opendmarc-limits.test.ts) — are fixed.
//
// Skipped with a message when gcc or libopendmarc is missing (.ci/run installs gcc and libopendmarc-dev).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isDmarcRecord, openDmarcDropsReports, openDmarcIgnores, parseDmarcRecord, policyValue, validPct, type DmarcPolicy } from '../../src/core/dmarc/record.js';
import type { ZoneRecord } from '../../src/core/model.js';
import { planDmarc } from '../../src/core/plans/dmarc.js';
import { checkContext } from '../core/checks/context.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { buildOpenDmarcJudge, runLinesJudge } from '../helpers/oracles.js';
import { prng } from '../helpers/prng.js';
import { listOf, uriOf } from '../helpers/dmarc-lengths.js';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'oracles', 'opendmarc-judge.c');
const found = buildOpenDmarcJudge(SOURCE, 'OpenDMARC judge');
// The compiled judge serves both suites below: removed once all have run.
after(() => {
  if ('dir' in found) rmSync(found.dir, { recursive: true, force: true });
});

interface Judged {
  status?: number;
  text?: string;
  p?: string;
  sp?: string;
  pct?: number;
  rua?: string[];
  ruf?: string[];
  crash?: number;
  error?: string;
}

const LETTER: Record<string, DmarcPolicy> = { n: 'none', q: 'quarantine', r: 'reject' };
const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const unhex = (h: string) => Buffer.from(h, 'hex').toString('utf8');

async function judge(bin: string, texts: readonly string[]): Promise<Judged[]> {
  const out = await runLinesJudge<Judged>(bin, bin, texts.map((t) => ({ hex: hex(t) })));
  for (const o of out) for (const k of ['rua', 'ruf'] as const) if (o[k]) o[k] = o[k]!.map(unhex);
  return out;
}

// ---- 1. the corpus ----

/** Hand-made records: each an edge the generator may not reach, or a class's plainest example. */
const RECORDS: string[] = [
  'v=DMARC1; p=none',
  'v=DMARC1; p=reject; rua=mailto:dmarc@example.com',
  'v=DMARC1; p=quarantine; sp=reject; pct=50; adkim=s; aspf=r; rua=mailto:a@example.com!10m,mailto:b@example.com; ruf=mailto:f@example.com; fo=1:d; rf=afrf; ri=86400',
  'V=DMARC1; P=Quarantine; SP=None; ADKIM=S; ASPF=R',
  'v = DMARC1 ; p = none ; sp = quarantine',
  'v=DMARC1;\tp=none\t;\tsp=quarantine;\tpct=50',
  'v=DMARC1; p=none;',
  'v=DMARC1;; p=none;;',
  'v=DMARC1; p=none; rua=mailto:dmarc@example.com; p=reject',
  'v=DMARC1; p=reject; p=none',
  'v=DMARC1; p=reject; sp=none; sp=reject',
  'v=DMARC1; rua=mailto:dmarc@example.com',
  'v=DMARC1; sp=reject',
  'v=DMARC1; p=; rua=mailto:dmarc@example.com',
  'v=DMARC1; p=block; rua=mailto:dmarc@example.com',
  'v=DMARC1; p=r',
  'v=DMARC1; p=rej; rua=mailto:dmarc@example.com',
  'v=DMARC1; p=re ject',
  'v=DMARC1; p=quarantine; sp=r',
  'v=DMARC1; p=reject; sp=block; rua=mailto:dmarc@example.com',
  'v=DMARC1; p=quarantine; np=reject',
  'v=DMARC1; p=quarantine; np=block',
  'v=DMARC1; p=reject; pct=0',
  'v=DMARC1; p=reject; pct=101',
  'v=DMARC1; p=reject; pct=-1',
  'v=DMARC1; p=reject; pct=50.5',
  'v=DMARC1; p=reject; pct=abc',
  'v=DMARC1; p=reject; pct=050',
  'v=DMARC1; p=reject; pct=',
  'v=DMARC1; p=none; adkim=strict',
  'v=DMARC1; p=none; aspf=x',
  'v=DMARC1; p=reject; rf=xml',
  'v=DMARC1; p=reject; rf=afrf:iodef',
  'v=DMARC1; p=reject; ri=daily',
  'v=DMARC1; p=reject; ri=4294967296',
  'v=DMARC1; p=reject; fo=2; ruf=mailto:f@example.com',
  'v=DMARC1; p=reject; rua=mailto:dmarc@example.com,',
  'v=DMARC1; p=reject; rua=mailto:a@example.com,,mailto:b@example.com',
  'v=DMARC1; p=reject; rua=mailto:a@example.com mailto:b@example.com',
  'v=DMARC1; p=reject; rua=dmarc@example.com',
  'v=DMARC1; p=reject; rua=mailto:dmarc@bücher.example',
  `v=DMARC1; p=reject; rua=mailto:${'a'.repeat(260)}@example.com`,
  `v=DMARC1; p=reject; rua=${Array.from({ length: 16 }, (_, k) => `mailto:dmarc-reports-${k}@example.com`).join(',')}`,
  'v=DMARC1; p=none; foo=bar; t=y; psd=n',
  'v=DMARC1; p=none; 1x=2; junk',
  'v=DMARC1; p:reject',
  'v=dmarc1; p=reject',
  'v=DMARC2; p=reject',
  'v=DMARC1 p=reject',
  'p=reject; v=DMARC1',
  'p=reject',
  ' v=DMARC1; p=reject',
  'v=spf1 -all',
  'v=DMARC1; p=reject; v=DMARC1',
  'v=DMARC1; p=qUaRaNtInE',
];

/** Valid records the generator mutates. */
const BASES = [
  'v=DMARC1; p=none; rua=mailto:dmarc@example.com',
  'v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com; ruf=mailto:forensic@example.com; fo=1',
  'v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=s',
  'v=DMARC1; p=reject; pct=25; rua=mailto:a@example.com,mailto:b@example.org',
  'v=DMARC1; p=none',
];

const POLICY_VALUES = ['none', 'quarantine', 'reject', 'NONE', 'Reject', 'r', 'q', 'n', 'rej', 'quar', 'block', '', 're ject', 'rejectx'];
const PCT_VALUES = ['0', '1', '50', '100', '050', '00100', '101', '1000', '-1', '50.5', 'abc', '', '+5', '0x10', ' 25 '];
const URI_VALUES = ['mailto:dmarc@example.com', 'mailto:a@example.com!10m', 'mailto:b@example.com!10x', 'mailto:c@example.com!', 'dmarc@example.com', 'mailto:dmarc', 'https://reports.example.com/dmarc', 'MAILTO:UP@EXAMPLE.COM', 'mailto:d@bücher.example', 'mailto:q@example.com?subject=dmarc'];

/** One mutation of a record's tag list (`tags`: tag=value texts after v=DMARC1). */
type Mutation = (tags: string[], rng: ReturnType<typeof prng>) => void;
const set = (tags: string[], name: string, value: string) => {
  const i = tags.findIndex((t) => t.split('=')[0].trim().toLowerCase() === name);
  if (i < 0) tags.push(`${name}=${value}`);
  else tags[i] = `${name}=${value}`;
};
const MUTATIONS: Mutation[] = [
  (t, r) => set(t, 'p', r.pick(POLICY_VALUES)),
  (t, r) => set(t, 'sp', r.pick(POLICY_VALUES)),
  (t, r) => set(t, 'np', r.pick(POLICY_VALUES)),
  (t, r) => set(t, 'pct', r.pick(PCT_VALUES)),
  (t, r) => set(t, r.pick(['adkim', 'aspf']), r.pick(['r', 's', 'S', 'strict', 'relaxed', 'x', ''])),
  (t, r) => set(t, r.pick(['rua', 'ruf']), Array.from({ length: 1 + r.int(3) }, () => r.pick(URI_VALUES)).join(r.pick([',', ', ', ' , '])) + (r.chance(0.2) ? ',' : '')),
  (t, r) => set(t, 'fo', r.pick(['0', '1', 'd', 's', '0:1:d:s', '1,d', '2', ''])),
  (t, r) => set(t, 'rf', r.pick(['afrf', 'AFRF', 'iodef', 'afrf:iodef', 'xml', ''])),
  (t, r) => set(t, 'ri', r.pick(['86400', '3600', 'daily', '-5', '4294967296', ''])),
  (t, r) => t.push(r.pick(['foo=bar', 't=y', 't=n', 'psd=n', '1x=2', 'junk', '=x'])),
  // A duplicate of a tag already there (its value kept or another).
  (t, r) => {
    if (!t.length) return;
    const i = r.int(t.length);
    t.push(r.chance(0.5) ? t[i] : `${t[i].split('=')[0]}=${r.pick(POLICY_VALUES)}`);
  },
  (t) => {
    const i = t.findIndex((x) => /^p=/i.test(x));
    if (i >= 0) t.splice(i, 1);
  },
  // Tag names in upper case.
  (t) => t.forEach((x, i) => (t[i] = x.replace(/^[a-z]+/, (n) => n.toUpperCase()))),
  (t, r) => {
    if (t.length < 2) return;
    const i = r.int(t.length);
    const j = r.int(t.length);
    [t[i], t[j]] = [t[j], t[i]];
  },
];

/** A few hundred records: a valid base, 1–3 mutations, then its version tag and separators varied. */
function generated(seed: number, n: number): string[] {
  const rng = prng(seed);
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    const tags = rng.pick(BASES).split(';').slice(1).map((t) => t.trim());
    for (let m = 1 + rng.int(3); m > 0; m--) rng.pick(MUTATIONS)(tags, rng);
    const v = rng.chance(0.85) ? 'v=DMARC1' : rng.pick(['V=DMARC1', 'v = DMARC1', 'v=dmarc1', 'v=DMARC2', ' v=DMARC1']);
    const all = rng.chance(0.04) ? [...tags, v] : [v, ...tags];
    let text = all.join(rng.pick(['; ', ';', ' ; ', ';\t']));
    if (rng.chance(0.2)) text += rng.pick([';', ';;', '; ']);
    out.push(text);
  }
  return out;
}

const SEED = 7489;
const GENERATED = generated(SEED, 360);

/** What OpenDMARC's parser does with a record's report addresses: reads them, refuses the record, skips a tag's list. */
type LimitVerdict = 'reads' | 'refuses' | 'skips rua' | 'skips ruf';

type LimitCase = [label: string, text: string, verdict: LimitVerdict, tag: 'rua' | 'ruf'];

/**
 * OpenDMARC's length limits on report addresses, each just under, at and over (all with p=reject, valid to mailhealth):
 * the verdict its parser gives, which dmarc.compat must give too.
 */
const limitCases = (tag: 'rua' | 'ruf'): LimitCase[] => [
  [`${tag}: a URI of 255 octets`, `v=DMARC1; p=reject; ${tag}=${uriOf(255)}`, 'reads', tag],
  [`${tag}: a URI of 256 octets`, `v=DMARC1; p=reject; ${tag}=${uriOf(256)}`, 'refuses', tag],
  [`${tag}: a URI of 257 octets`, `v=DMARC1; p=reject; ${tag}=mailto:d@example.com,${uriOf(257)}`, 'refuses', tag],
  [`${tag}: a URI of 255 octets with spaces around it (not counted)`, `v=DMARC1; p=reject; ${tag}=   ${uriOf(255)}   ,mailto:d@example.com`, 'reads', tag],
  [`${tag}: a URI of 255 octets with its !10m suffix`, `v=DMARC1; p=reject; ${tag}=${uriOf(251)}!10m`, 'reads', tag],
  [`${tag}: a URI of 256 octets with its !10m suffix`, `v=DMARC1; p=reject; ${tag}=${uriOf(252)}!10m`, 'refuses', tag],
  [`${tag}: a URI of 255 octets with 2-octet letters`, `v=DMARC1; p=reject; ${tag}=mailto:${'é'.repeat(10)}${uriOf(235).slice(7)}`, 'reads', tag],
  [`${tag}: a URI of 256 octets with 2-octet letters`, `v=DMARC1; p=reject; ${tag}=mailto:${'é'.repeat(10)}${uriOf(236).slice(7)}`, 'refuses', tag],
  [`${tag}: a list of 511 octets`, `v=DMARC1; p=reject; ${tag}=${listOf(511)}`, 'reads', tag],
  [`${tag}: a list of 512 octets`, `v=DMARC1; p=reject; ${tag}=${listOf(512)}`, `skips ${tag}`, tag],
  [`${tag}: a list of 513 octets`, `v=DMARC1; p=reject; ${tag}=${listOf(513)}`, `skips ${tag}`, tag],
  [`${tag}: a list of 510 octets and a space on each side (512 as written)`, `v=DMARC1; p=reject; ${tag}= ${listOf(510)} ; adkim=r`, `skips ${tag}`, tag],
  [`${tag}: a list of 510 octets and a space (511 as written)`, `v=DMARC1; p=reject; ${tag}= ${listOf(510)}`, 'reads', tag],
  [`${tag}: a list of 511 octets holding a URI of 256`, `v=DMARC1; p=reject; ${tag}=${listOf(254)},${uriOf(256)}`, 'refuses', tag],
  [`${tag}: a list of 512 octets holding a URI of 300 (skipped before its URIs are looked at)`, `v=DMARC1; p=reject; ${tag}=${listOf(211)},${uriOf(300)}`, `skips ${tag}`, tag],
];
const LIMITS: LimitCase[] = [...limitCases('rua'), ...limitCases('ruf')];

/** What one side makes of a record. */
interface Reading {
  /** The policy applied to the domain: none/quarantine/reject, `no policy` (a record that applies none), `discarded`, `refused(N)`. */
  policy: string;
  /** With a policy: what the record sets for subdomains. */
  sub?: string;
  pct?: number;
}

function mailhealthReads(text: string): Reading {
  if (!isDmarcRecord(text)) return { policy: 'discarded' };
  const rec = parseDmarcRecord(text);
  if (!rec.policy) return { policy: 'no policy' };
  // RFC 7489 §6.3: a bad pct is discarded for the default, 100 (the parser reports it as an error).
  const pct = rec.tags.pct !== undefined && validPct(rec.tags.pct) ? Number(rec.tags.pct) : 100;
  return { policy: rec.policy, sub: rec.subdomainPolicy ?? undefined, pct };
}

function openDmarcReads(o: Judged): Reading {
  if (o.crash !== undefined || o.error !== undefined) return { policy: `crashed(${o.crash ?? o.error})` };
  if (o.status !== 0) return { policy: `refused(${o.status})` };
  const p = LETTER[o.p!];
  // An unspecified sp is p for subdomains (opendmarc_get_policy_to_enforce falls back to p).
  return { policy: p, sub: LETTER[o.sp || o.p!], pct: o.pct };
}

/** What dmarc.compat says OpenDMARC's parser does with a record's report addresses (its lookup's misses aside). */
function mailhealthLimitVerdict(text: string): LimitVerdict {
  if (openDmarcIgnores(text).some((w) => !/^its version/.test(w))) return 'refuses';
  const drops = openDmarcDropsReports(text);
  if (drops.some((w) => w.startsWith('its rua='))) return 'skips rua';
  if (drops.some((w) => w.startsWith('its ruf='))) return 'skips ruf';
  return 'reads';
}

/** OpenDMARC's verdict on a record whose report addresses are all in one tag. */
function openDmarcLimitVerdict(o: Judged, tag: 'rua' | 'ruf'): LimitVerdict | string {
  if (o.status !== 0) return o.status === 4 ? 'refuses' : `status ${o.status ?? o.crash}`;
  return o[tag]?.length ? 'reads' : `skips ${tag}`;
}

const tagsOf = (text: string) => text.split(';').map((p) => p.trim()).filter((p) => p.includes('='));
const valueOf = (part: string) => part.slice(part.indexOf('=') + 1).trim();
const nameOf = (part: string) => part.slice(0, part.indexOf('=')).trim().toLowerCase();
/** The values of one tag in a record, in order (duplicates included). */
const valuesOf = (text: string, tag: string) => tagsOf(text).filter((p) => nameOf(p) === tag).map(valueOf);
const FULL = /^(none|quarantine|reject)$/i;
/** A non-empty left part of none/quarantine/reject (with the whitespace removed), as OpenDMARC accepts it. */
const abbreviation = (v: string) => {
  const w = v.replace(/\s+/g, '').toLowerCase();
  return w !== '' && !FULL.test(v) && ['none', 'quarantine', 'reject'].some((p) => p.startsWith(w));
};

type Aspect = 'policy' | 'sub' | 'pct';
interface Row {
  text: string;
  aspect: Aspect;
  mailhealth: string;
  opendmarc: string;
}

interface Difference {
  id: string;
  /** (b): OpenDMARC departs from RFC 7489 and its receivers judge the record otherwise; (c): harmless. */
  kind: 'b' | 'c';
  reason: string;
  applies: (text: string) => boolean;
  /** Per aspect, the verdict pair [mailhealth, OpenDMARC] the class allows. */
  says: Partial<Record<Aspect, [RegExp, RegExp]>>;
}

const REFUSED = /^refused\(\d\)$/;
const POLICY = /^(none|quarantine|reject)$/;
const NOT_ENFORCED = /^(none|no policy)$/;

/**
 * The differences, first match wins (the order matters: a record with several anomalies is explained by the first
 * class that applies; the verdict pair must then be that class's).
 */
const CLASSES: Difference[] = [
  {
    id: 'records RFC 7489 discards (v=DMARC1 not first, not exact, or text before it): OpenDMARC\'s parser reads them',
    kind: 'b',
    // RFC 7489 §6.6.3 step 2 discards a record that does not start with the v=DMARC1 tag (isDmarcRecord). OpenDMARC's
    // parser accepts v= anywhere (or missing), compares DMARC1 without case and trims whitespace. Its DNS lookup
    // (opendmarc_dns.c, 1.4.2) keeps the first TXT containing "v=DMARC" anywhere, so `p=reject; v=DMARC1` and
    // ` v=DMARC1; p=reject` are applied by its receivers, while `v=dmarc1` is not found by it at all.
    reason: 'RFC 7489 §6.6.3 step 2; OpenDMARC does not check where v= is',
    applies: (t) => !isDmarcRecord(t),
    says: { policy: [/^discarded$/, /^(none|quarantine|reject|refused\(\d\))$/] },
  },
  {
    id: 'an abbreviated or spaced policy (p=r, p=quar, p=re ject): OpenDMARC reads a left part of the word as the policy',
    kind: 'b',
    // RFC 7489 §6.3: p is none, quarantine or reject; any other value is invalid (§6.6.3 step 6: with a valid rua the
    // record is p=none, else no policy). OpenDMARC removes all whitespace from a value and accepts any left part of a
    // policy word ("Be generous"): p=r is reject, p=n none, p=q quarantine. A customer's p=r record enforces reject at
    // its receivers while mailhealth (and other receivers) see no policy: the check says dmarc.syntax (fail) and the fix
    // writes p=none.
    reason: 'RFC 7489 §6.3 policy values; OpenDMARC accepts prefixes and strips whitespace',
    applies: (t) => valuesOf(t, 'p').some(abbreviation) || valuesOf(t, 'sp').some(abbreviation),
    says: { policy: [/^(none|quarantine|reject|no policy)$/, /^(none|quarantine|reject|refused\(\d\))$/], sub: [POLICY, POLICY] },
  },
  {
    id: 'a tag given twice: OpenDMARC takes the last value',
    kind: 'b',
    // RFC 7489 §6.3's grammar has each tag once; mailhealth reports a duplicate (dmarc.syntax, fail), keeps the first
    // value, and a second p= makes the record one without a valid p (p=none with a rua, else no policy). OpenDMARC
    // overwrites: `p=none; p=reject` is reject to it.
    reason: 'RFC 7489 §6.3 (one of each tag); OpenDMARC: last value wins',
    applies: (t) => {
      const names = tagsOf(t).map(nameOf);
      return names.some((n, i) => ['p', 'sp', 'pct', 'v'].includes(n) && names.indexOf(n) !== i);
    },
    says: { policy: [/^(none|quarantine|reject|no policy)$/, /^(none|quarantine|reject|refused\(\d\))$/], sub: [POLICY, POLICY], pct: [/^\d+$/, /^\d+$/] },
  },
  {
    id: 'an empty sp= beside a valid p: OpenDMARC skips the tag, mailhealth reads the record as one without a valid p',
    kind: 'b',
    // RFC 7489 §6.3: no tag allows an empty value; an invalid sp makes the record one without a valid p (§6.6.3: p=none
    // with a valid rua, else no policy). OpenDMARC skips a tag whose value is empty, so `p=reject; sp=` is reject to it.
    reason: 'RFC 7489 §6.3/§6.6.3; OpenDMARC skips empty values',
    applies: (t) => valuesOf(t, 'sp').includes('') && valuesOf(t, 'p').some((v) => FULL.test(v)),
    says: { policy: [NOT_ENFORCED, POLICY] },
  },
  {
    id: 'no valid p: mailhealth reads p=none when a valid rua is given (RFC 7489 §6.6.3), OpenDMARC refuses the record',
    kind: 'c',
    // Neither enforces anything: p=none is monitoring only. (OpenDMARC then sends no aggregate report either.)
    reason: 'RFC 7489 §6.6.3 step 6.1; OpenDMARC requires p=',
    applies: (t) => !valuesOf(t, 'p').some((v) => FULL.test(v) || abbreviation(v)),
    says: { policy: [NOT_ENFORCED, REFUSED] },
  },
  {
    id: 'an invalid value of another tag (sp, adkim, aspf, fo, rf, ri, pct out of range, an empty URI in rua/ruf, a URI over 255 octets): OpenDMARC refuses the whole record',
    kind: 'b',
    // RFC 7489 §6.3: "Syntax errors in the remainder of the record SHOULD be discarded in favor of default values (if
    // any) or ignored outright"; an invalid sp makes the record one without a valid p (§6.6.3: p=none with a valid rua).
    // OpenDMARC returns DMARC_PARSE_ERROR_BAD_VALUE and its receivers apply no DMARC policy. mailhealth reports all but
    // rf/ri and a report URI of 256 octets or more as dmarc.syntax (fail, the fix drops them); those as dmarc.compat
    // (warn: RFC 7489 receivers read the record; the fix drops or shortens them too — refusedReportTag, fitReportUris).
    reason: 'RFC 7489 §6.3 (discard bad values for defaults); OpenDMARC refuses the record',
    applies: () => true,
    says: { policy: [/^(none|quarantine|reject|no policy)$/, REFUSED] },
  },
];

/** pct differences of records both apply alike (after CLASSES' policy verdicts agree). */
const PCT_CLASS: Difference = {
  id: 'pct not a whole number 0–100: OpenDMARC reads the leading digits (strtoul), "abc" as 0',
  kind: 'b',
  // RFC 7489 §6.3: pct is 1*3DIGIT, 0–100; a bad value is discarded for the default 100 (mailhealth: dmarc.syntax fail,
  // the fix drops it). OpenDMARC's strtoul reads 50.5 as 50, +5 as 5, 0x10 and abc as 0 — pct=abc applies the policy
  // to no mail at all at its receivers.
  reason: 'RFC 7489 §6.3 pct syntax; OpenDMARC strtoul',
  applies: (t) => valuesOf(t, 'pct').some((v) => v !== '' && !validPct(v)),
  says: { pct: [/^100$/, /^\d+$/] },
};

describe('OpenDMARC reads DMARC records as mailhealth does, but for the listed differences', { skip: 'skip' in found ? found.skip : false }, () => {
  const { bin } = found as { bin: string; dir: string };
  const texts = [...RECORDS, ...LIMITS.map(([, text]) => text), ...GENERATED];
  let rows: Row[] = [];
  let judged: Judged[] = [];

  before(async () => {
    judged = await judge(bin, texts);
    rows = texts.flatMap((text, i): Row[] => {
      const m = mailhealthReads(text);
      const o = openDmarcReads(judged[i]);
      const out: Row[] = [{ text, aspect: 'policy', mailhealth: m.policy, opendmarc: o.policy }];
      if (m.policy === o.policy && POLICY.test(m.policy)) {
        out.push({ text, aspect: 'sub', mailhealth: m.sub!, opendmarc: o.sub! });
        out.push({ text, aspect: 'pct', mailhealth: String(m.pct), opendmarc: String(o.pct) });
      }
      return out;
    });
  });

  const classOf = (r: Row) => (r.aspect === 'pct' ? (PCT_CLASS.applies(r.text) ? PCT_CLASS : undefined) : CLASSES.find((c) => c.applies(r.text)));
  const line = (r: Row) => `${JSON.stringify(r.text)} ${r.aspect}: mailhealth ${r.mailhealth}, OpenDMARC ${r.opendmarc}`;

  test('the judge answers every record and never crashes', () => {
    const policies = rows.filter((r) => r.aspect === 'policy');
    assert.equal(policies.length, texts.length);
    assert.deepEqual(policies.filter((r) => r.opendmarc.startsWith('crashed')).map(line), []);
  });

  test('most records are read alike, and the corpus reaches every verdict on both sides', () => {
    const policies = rows.filter((r) => r.aspect === 'policy');
    const agree = policies.filter((r) => r.mailhealth === r.opendmarc).length;
    assert.ok(agree >= policies.length / 3, `${agree}/${policies.length} agree`);
    for (const side of ['mailhealth', 'opendmarc'] as const) {
      const said = new Set(policies.map((r) => r[side].replace(/\(\d\)/, '')));
      const want = side === 'mailhealth' ? ['none', 'quarantine', 'reject', 'no policy', 'discarded'] : ['none', 'quarantine', 'reject', 'refused'];
      for (const v of want) assert.ok(said.has(v), `${side} says ${v} somewhere: ${[...said].join(', ')}`);
    }
  });

  for (const aspect of ['policy', 'sub', 'pct'] as const) {
    test(`${aspect}: every difference is one of the listed classes, with that class's verdicts`, () => {
      const off = rows.filter((r) => r.aspect === aspect && r.mailhealth !== r.opendmarc);
      const unexplained = off.filter((r) => {
        const c = classOf(r);
        const pair = c?.says[aspect];
        return !pair || !pair[0].test(r.mailhealth) || !pair[1].test(r.opendmarc);
      });
      assert.deepEqual(unexplained.map((r) => `${line(r)} [${classOf(r)?.id ?? 'no class'}]`), []);
    });
  }

  for (const c of [...CLASSES, PCT_CLASS]) {
    test(`(${c.kind}) ${c.id}: some record shows it`, () => {
      assert.ok(rows.some((r) => r.mailhealth !== r.opendmarc && classOf(r) === c), `no record shows: ${c.id}`);
    });
  }

  test('dmarc.compat: a record mailhealth reads without errors is one OpenDMARC refuses exactly when openDmarcIgnores names an rf=/ri= value or a report URI of 256 octets or more (its lookup-miss of `V=DMARC1` is not the parser\'s: checked by opendmarc-check over loopback DNS)', () => {
    const off: string[] = [];
    let refused = 0;
    let long = 0;
    texts.forEach((text, i) => {
      if (!isDmarcRecord(text)) return;
      const rec = parseDmarcRecord(text);
      // Records with a written policy only (one without p= but with rua= is p=none to mailhealth and refused by
      // OpenDMARC: neither enforces anything).
      if (rec.errors.length || policyValue(rec.tags.p) === undefined) return;
      const reasons = openDmarcIgnores(text).filter((w) => !/^its version/.test(w));
      const says = reasons.length > 0;
      const refuses = judged[i].status !== 0;
      if (refuses) refused++;
      if (refuses && reasons.some((w) => /^its ru[af]= address/.test(w))) long++;
      if (says !== refuses) off.push(`${JSON.stringify(text)}: mailhealth ${says ? 'warns' : 'is silent'}, OpenDMARC status ${judged[i].status}`);
    });
    assert.ok(refused > 0, 'some error-free record is refused by OpenDMARC');
    assert.ok(long > 0, 'some error-free record is refused over a long report URI');
    assert.deepEqual(off, []);
  });

  test('report addresses: every rua and ruf URI of a record mailhealth reads without errors, OpenDMARC keeps (whitespace removed) — but a list of 512 octets or more, which it skips whole exactly where openDmarcDropsReports says so', () => {
    const off: string[] = [];
    let skipped = 0;
    texts.forEach((text, i) => {
      if (!isDmarcRecord(text) || judged[i].status !== 0) return;
      const rec = parseDmarcRecord(text);
      if (rec.errors.length) return;
      const drops = openDmarcDropsReports(text);
      for (const tag of ['rua', 'ruf'] as const) {
        if (!rec[tag].length) continue;
        const got = judged[i][tag] ?? [];
        const says = drops.some((w) => w.startsWith(`its ${tag}=`));
        if (says) {
          skipped++;
          if (got.length) off.push(`${JSON.stringify(text)}: mailhealth says the ${tag}= list is skipped, OpenDMARC kept ${got.join(',')}`);
          continue;
        }
        const want = rec[tag].map((u) => u.raw.replace(/\s+/g, ''));
        if (want.some((u) => !got.includes(u))) off.push(`${JSON.stringify(text)}: ${tag} mailhealth ${want.join(',')}, OpenDMARC ${got.join(',')}`);
      }
    });
    assert.deepEqual(off, []);
    assert.ok(skipped > 0, 'some record has a rua= or ruf= list of 512 octets or more');
  });

  test('length limits, just under, at and over: OpenDMARC gives each record its verdict, and dmarc.compat says the same', () => {
    const off: string[] = [];
    LIMITS.forEach(([label, text, verdict, tag]) => {
      const i = texts.indexOf(text);
      const rec = parseDmarcRecord(text);
      const theirs = openDmarcLimitVerdict(judged[i], tag);
      const ours = mailhealthLimitVerdict(text);
      if (rec.errors.length || rec.policy !== 'reject') off.push(`${label}: mailhealth finds errors (${rec.errors.join('; ')}) or no p=reject`);
      if (theirs !== verdict) off.push(`${label}: OpenDMARC ${theirs}, expected ${verdict} (${judged[i].text ?? ''})`);
      if (ours !== verdict) off.push(`${label}: mailhealth says ${ours}, expected ${verdict}`);
    });
    assert.deepEqual(off, []);
  });
});

// ---- 2. the records the DMARC fix writes ----

const D = 'alice.example';
const LONG_RUA = Array.from({ length: 9 }, (_, k) => `mailto:dmarc-reports-${k}@alice.example`).join(',');
/** A record's text as TXT strings of at most 200 octets (ASCII here), as a zone stores a long one. */
const strings = (text: string) => text.match(/[^]{1,200}/g)!;

/** Starting states of `_dmarc.alice.example` (each record as its strings), and the world around it. */
const PLAN_CASES: { label: string; records: string[][]; world?: ZoneMap }[] = [
  { label: 'missing', records: [] },
  { label: 'p=none without rua, unknown tag', records: [['v=DMARC1; p=none; fo=1; foo=bar']] },
  { label: 'stale report address', records: [['v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@dreamhost.com']] },
  { label: 'stale and kept addresses, ruf too', records: [['v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc-reports@dreamhost.com,mailto:d@alice.example; ruf=mailto:f@dreamhost.com']] },
  { label: 'no mailto:', records: [['v=DMARC1; p=reject; rua=d@alice.example']] },
  { label: 'spaces between URIs', records: [['v=DMARC1; p=quarantine; rua=mailto:a@alice.example mailto:b@alice.example']] },
  { label: 'Unicode report domain', records: [['v=DMARC1; p=none; rua=mailto:d@bücher.alice.example']] },
  { label: 'p missing, rua', records: [['v=DMARC1; rua=mailto:d@alice.example']] },
  { label: 'p missing, sp', records: [['v=DMARC1; sp=reject']] },
  { label: 'p invalid', records: [['v=DMARC1; p=block; rua=mailto:d@alice.example']] },
  { label: 'p abbreviated', records: [['v=DMARC1; p=r']] },
  { label: 'p twice', records: [['v=DMARC1; p=none; p=reject; rua=mailto:d@alice.example']] },
  { label: 'sp invalid', records: [['v=DMARC1; p=reject; sp=block; rua=mailto:d@alice.example']] },
  { label: 'sp empty', records: [['v=DMARC1; p=reject; sp=']] },
  { label: 'bad pct', records: [['v=DMARC1; p=quarantine; pct=abc; rua=mailto:d@alice.example']] },
  { label: 'pct 50', records: [['v=DMARC1; p=quarantine; pct=50; rua=mailto:d@alice.example; foo=bar']] },
  { label: 'bad adkim/aspf/fo', records: [['v=DMARC1; p=reject; adkim=strict; aspf=x; fo=2; ruf=mailto:f@alice.example']] },
  // The defect this test found: rf= and ri= values OpenDMARC refuses the record over, kept by the fix.
  { label: 'rf=xml', records: [['v=DMARC1; p=reject; rf=xml; rua=mailto:dmarc-reports@dreamhost.com']] },
  { label: 'rf=afrf:iodef', records: [['v=DMARC1; p=reject; rf=afrf:iodef; rua=mailto:dmarc-reports@dreamhost.com']] },
  { label: 'ri=daily', records: [['v=DMARC1; p=quarantine; ri=daily; ruf=mailto:f@dreamhost.com']] },
  { label: 'rf and ri valid', records: [['v=DMARC1; p=quarantine; rf=AFRF; ri=3600; rua=mailto:dmarc-reports@dreamhost.com']] },
  { label: 'empty URI', records: [['v=DMARC1; p=reject; rua=mailto:d@alice.example,,mailto:e@alice.example']] },
  { label: 'trailing comma', records: [['v=DMARC1; p=reject; rua=mailto:d@alice.example,']] },
  { label: 'duplicate rua', records: [['v=DMARC1; p=none; rua=mailto:a@alice.example; rua=mailto:b@alice.example']] },
  { label: 'v not first', records: [['p=reject; v=DMARC1; rua=mailto:d@alice.example']] },
  { label: 'no separator', records: [['v=DMARC1 p=quarantine rua=mailto:d@alice.example']] },
  { label: 'leading space', records: [[' v=DMARC1; p=reject']] },
  { label: 'version in lower case', records: [['v=dmarc1; p=reject; sp=none']] },
  { label: 'upper-case tags', records: [['V=DMARC1; P=Reject; SP=None; RUA=mailto:dmarc-reports@dreamhost.com']] },
  { label: 'two records', records: [['v=DMARC1; p=reject; rua=mailto:a@alice.example'], ['v=DMARC1; p=quarantine; sp=none; rua=mailto:b@alice.example']] },
  { label: 'two records, one broken', records: [['v=DMARC1; p=reject; sp=quarantine'], ['v=DMARC1; p=none; pct=20; ri=daily']] },
  { label: 'beside SPF', records: [['v=DMARC1; p=none; rua=mailto:dmarc-reports@dreamhost.com'], ['v=spf1 -all']] },
  { label: 'long record in strings', records: [[`v=DMARC1; p=quarantine; rf=xml; rua=${LONG_RUA.slice(0, 150)}`, `${LONG_RUA.slice(150)},mailto:dmarc-reports@dreamhost.com`]] },
  { label: 'long record, string cut in a tag', records: [['v=DMARC1; p=rej', 'ect; sp=quar', `antine; ri=1 day; rua=${LONG_RUA}`]] },
  { label: 'external report address, authorised', records: [['v=DMARC1; p=reject; rua=mailto:r@dmarcian.com!10m; ri=x']], world: { [`${D}._report._dmarc.dmarcian.com`]: { TXT: [['v=DMARC1']] } } },
  // OpenDMARC's length limits (LIMITS): the fix used to keep every report address as it was.
  { label: 'rua URI of 256 octets beside a short one', records: [strings(`v=DMARC1; p=reject; rua=mailto:d@alice.example,${uriOf(256, D)}`)] },
  { label: 'rua URI of 255 octets', records: [strings(`v=DMARC1; p=reject; rua=${uriOf(255, D)}`)] },
  { label: 'rua URI over 255 octets only with its !size suffix', records: [strings(`v=DMARC1; p=quarantine; rua=${uriOf(252, D)}!10m,mailto:d@alice.example`)] },
  { label: 'the only rua URI over 255 octets', records: [strings(`v=DMARC1; p=none; rua=${uriOf(300, D)}`)] },
  { label: 'ruf URI of 256 octets', records: [strings(`v=DMARC1; p=reject; rua=mailto:d@alice.example; ruf=${uriOf(256, D)}; fo=1`)] },
  { label: 'rua list of 511 octets', records: [strings(`v=DMARC1; p=reject; rua=${listOf(511, D)}`)] },
  { label: 'rua list of 512 octets', records: [strings(`v=DMARC1; p=reject; rua=${listOf(512, D)}`)] },
  { label: 'rua list of 700 octets', records: [strings(`v=DMARC1; p=reject; sp=quarantine; rua=${listOf(700, D)}`)] },
  { label: 'rua list over 511 octets only with its spaces', records: [strings(`v=DMARC1; p=reject; rua=${listOf(500, D).split(',').join(' , ')}`)] },
  { label: 'ruf list of 600 octets', records: [strings(`v=DMARC1; p=reject; rua=mailto:d@alice.example; ruf=${listOf(600, D)}`)] },
  { label: 'rua list of 600 octets with a previous host\'s address first', records: [strings(`v=DMARC1; p=reject; rua=mailto:dmarc-reports@dreamhost.com,${listOf(560, D)}`)] },
];

describe('OpenDMARC reads every record the DMARC fix writes as the policy the fix meant', { skip: 'skip' in found ? found.skip : false }, () => {
  const { bin } = found as { bin: string; dir: string };
  const planned: { label: string; value: string; strings: string[]; from: string[]; notes: string[] }[] = [];
  let judgedPlans: Judged[] = [];

  before(async () => {
    for (const c of PLAN_CASES) {
      const name = `_dmarc.${D}`;
      const recs: ZoneRecord[] = c.records.map((strings, i) => ({ name, ttl: 3600, type: 'TXT', value: strings.join(''), txt: strings, ref: `r${i}` }));
      const map: ZoneMap = { ...c.world, ...(recs.length ? { [name]: { TXT: c.records } } : {}) };
      const ctx = checkContext(D, map, {}, recs);
      const plan = await planDmarc(ctx, recs);
      assert.equal(plan.blocked, undefined, c.label);
      const added = plan.changes.filter((ch) => ch.after && ch.after.name === name && ch.after.type === 'TXT').map((ch) => ch.after!);
      // A plan without changes leaves the one record as it is: that record is what the fix stands by.
      const left = plan.changes.length === 0 && recs.length === 1 ? recs : added;
      assert.equal(left.length, 1, `${c.label}: the fix leaves one record (${plan.notes.join(' | ')})`);
      const strings = left[0].txt ?? [left[0].value];
      planned.push({ label: c.label, value: strings.join(''), strings, from: c.records.map((r) => r.join('')), notes: plan.notes });
    }
    judgedPlans = await judge(bin, planned.map((p) => p.value));
  });

  test('every case gives a record to judge; some are split into strings', () => {
    assert.equal(planned.length, PLAN_CASES.length);
    assert.ok(planned.some((p) => p.strings.length > 1), 'a long record is written as several strings');
  });

  test('OpenDMARC parses each, with the fix\'s p, subdomain policy, rua and ruf lists', () => {
    const off: string[] = [];
    planned.forEach((p, i) => {
      const rec = parseDmarcRecord(p.value);
      const o = judgedPlans[i];
      const meant = { status: 0, p: rec.tags.p, sub: rec.subdomainPolicy, rua: rec.rua.map((u) => u.raw), ruf: rec.ruf.map((u) => u.raw) };
      const read = { status: o.status ?? o.crash, p: o.status === 0 ? LETTER[o.p!] : undefined, sub: o.status === 0 ? LETTER[o.sp || o.p!] : undefined, rua: o.rua ?? [], ruf: o.ruf ?? [] };
      if (rec.errors.length) off.push(`${p.label}: mailhealth finds errors in the record its fix writes: ${rec.errors.join('; ')}`);
      assert.equal(rec.policy, rec.tags.p, `${p.label}: the fix writes a valid p`);
      if (JSON.stringify(meant) !== JSON.stringify(read)) off.push(`${p.label}: ${JSON.stringify(p.value)}\n  meant ${JSON.stringify(meant)}\n  OpenDMARC ${JSON.stringify(read)} (${o.text ?? ''})`);
    });
    assert.deepEqual(off, []);
  });

  test('every report address of the records the fix starts from that the record it writes lacks is named in its notes', () => {
    const off: string[] = [];
    for (const p of planned) {
      const wrote = parseDmarcRecord(p.value);
      for (const tag of ['rua', 'ruf'] as const) {
        const has = new Set(wrote[tag].map((u) => u.address.toLowerCase()));
        for (const text of p.from.filter(isDmarcRecord))
          for (const u of parseDmarcRecord(text)[tag]) if (!has.has(u.address.toLowerCase()) && !p.notes.some((n) => n.includes(u.address))) off.push(`${p.label}: ${tag} ${u.address} dropped without a note (${p.notes.join(' | ')})`);
      }
    }
    assert.deepEqual(off, []);
  });
});
