// Fuzzing the files panel's zone-file parser: customers write their own zone files, so every octet of one is theirs.
// Well-formed zones (the demo's and the plan fixtures', and one with the rarer syntax) are mutated — quotes, backslash
// escapes (\DDD above 255 too), unbalanced parentheses, $ORIGIN/$TTL/$INCLUDE/$GENERATE lines, very long lines and
// tokens, NUL and control octets, CRLF and lone CR, a byte order mark, octets that are not UTF-8, tabs, comments in
// quotes — and read as the panel reads a file (readZoneText: UTF-8, any other octet as U+DC00 + octet). Properties:
// - parseZoneFile returns (it reports what it cannot read in `errors`, "line N: …", and never throws), with records of
//   the declared shape (a TTL that is an integer 0–2^31-1, TXT strings only on TXT/SPF, lines inside the file);
// - it finishes: no input sends it into catastrophic backtracking (an input that did is pinned below, and the loop
//   feeds it such tokens);
// - parse → write → parse keeps every record read: each rendered as the panel writes a record (renderRecordLine, lines
//   appended with applyLineEdits) reads back with the same name, type, value and TTL (and TXT strings, when each is a
//   string a zone can hold: renderRecordLine splits longer ones);
// - through the files panel itself (readZone → applyChanges → readZone, fewer iterations: files on disk), an edited
//   record's line rendered anew leaves every record as it was, the edited one with its new TTL.
//
// Deterministic: a seeded PRNG (mulberry32), a fixed iteration count; a failure names the seed, the iteration, the
// seed file, the mutations and the input as JSON, so it replays without the loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesPanel } from '../../../../src/adapters/panels/files/index.js';
import type { ZoneRecord } from '../../../../src/core/model.js';
import { PanelError } from '../../../../src/core/panel.js';
import { applyLineEdits, parseTtl, parseZoneFile, presentValue, renderRecordLine, type ParsedRecord, type ParsedZone } from '../../../../src/adapters/panels/files/zonefile.js';
import { decodeOctets } from '../../../../src/core/octets.js';
import { FIXTURES_DIR, REPO_ROOT } from '../../../helpers/corpora.js';
import { prng, type Rng } from '../../../helpers/prng.js';

// ------------------------------------------------------------------------------------------------ PRNG

// (prng, Rng: test/helpers/prng.ts)

// ------------------------------------------------------------------------------------------------ seed zones

/** The rarer syntax, in one zone: generic types, \# TXT, CAA with a `;` in quotes, escapes, $ORIGIN, a multi-line SOA. */
const RICH = [
  '$TTL 1h30m',
  '$ORIGIN rich.example.',
  '@ IN SOA ns1.rich.example. hostmaster.rich.example. ( 2026110101 ; serial',
  '   3600 1800 1209600 300 )',
  '  IN NS ns1',
  '  IN NS ns2.other.example.',
  '@ 300 IN MX 10 mail',
  '@ 300 IN MX 0 .',
  '@ IN TXT "v=spf1 include:_spf.example.net " "-all"',
  '@ IN TYPE16 "google-site-verification=abc"',
  'gen IN TXT \\# 12 0b763d73706631202d616c6c',
  '_dmarc IN TXT ( "v=DMARC1; p=none;"',
  '               " rua=mailto:d@rich.example" )',
  'default._domainkey 600 IN TXT "v=DKIM1\\; k=rsa\\; p=MIIB" "IjAN\\065QAB"',
  'esc IN TXT "caf\\195\\169 \\"quoted\\" back\\\\slash" unquoted\\032word',
  '@ IN CAA 0 issue "ca.example.net; account=230123"',
  'hinfo IN HINFO "PC Intel" "Linux 6"',
  '_sip._tcp IN SRV 10 60 5060 sip',
  'www IN CNAME @',
  'alias 60 IN CNAME target.other.example.',
  'unk IN TYPE65534 \\# 4 0A000001',
  'spf IN SPF "v=spf1 -all"',
  '$ORIGIN sub.rich.example.',
  'a IN A 192.0.2.1',
  '  IN AAAA 2001:db8::1',
  'mail.rich.example. 1w IN A 192.0.2.25',
  '',
].join('\n');

interface Seed {
  file: string;
  origin: string;
  text: string;
}

function seeds(): Seed[] {
  const out: Seed[] = [{ file: 'RICH', origin: 'rich.example', text: RICH }];
  for (const dir of [join(REPO_ROOT, 'src/demo/panel/zones'), join(FIXTURES_DIR, 'plans/zones')]) {
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith('.db')) out.push({ file: join(dir, f).slice(REPO_ROOT.length + 1), origin: f.slice(0, -3), text: readFileSync(join(dir, f), 'utf8') });
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ mutations

/** Pieces inserted at random: syntax, escapes, directives, TTL-like tokens (a run of digits gone wrong among them). */
const SNIPPETS = [
  '"', '\\', '\\0', '\\255', '\\256', '\\999', '\\"', '\\;', '\\ ', '\\.', '\\#', '(', ')', '( ', ' )', ';', '"a;b"', '"a\\"b"', '""',
  '\t', '\r', '\r\n', '\n', ' ', '\u0000', '\u0001', '\u001b', '\u007f', '\u00a0', '\ufeff', '\u2028', 'é', '\u{1F600}', 'İ',
  '@', '.', '..', '*', 'IN', 'CH', 'in', 'TXT', 'MX', 'CNAME', 'SOA', 'TYPE16', 'TYPE99', 'TYPE15', 'RRSIG', '\\# 0', '\\# 3 026162', '\\# 2 05',
  '0', '10', '1h', '1w2d', '1h30', '2147483648', '4294967295', '4294967296', '99999999999999999999999', '1'.repeat(30) + 'x', '9'.repeat(24) + 'h!',
  '\n$ORIGIN sub\n', '\n$ORIGIN .\n', '\n$ORIGIN example.\n', '\n$ORIGIN a..b.\n', '\n$TTL 1h30m\n', '\n$TTL 0\n', '\n$TTL 4294967296\n',
  '\n$TTL ' + '7'.repeat(40) + 'y\n', '\n$INCLUDE /etc/passwd\n', '\n$GENERATE 1-10 h$ A 192.0.2.$\n', '\n$FOO bar\n',
  '\n  IN TXT "v=spf1 -all"\n', '\n_dmarc IN TXT "v=DMARC1; p=none"\n', '\nx..y IN A 192.0.2.9\n',
];

type Mutation = (buf: Buffer, rng: Rng) => [Buffer, string];

const insert = (buf: Buffer, at: number, b: Buffer) => Buffer.concat([buf.subarray(0, at), b, buf.subarray(at)]);

const MUTATIONS: Mutation[] = [
  (buf, rng) => {
    const s = rng.pick(SNIPPETS);
    const at = rng.int(buf.length + 1);
    return [insert(buf, at, Buffer.from(s, 'utf8')), `insert ${JSON.stringify(s)} at ${at}`];
  },
  (buf, rng) => {
    // At a line's start or end: directives, owners, comments where they count.
    const lines = buf.toString('latin1').split('\n');
    const k = rng.int(lines.length);
    const s = rng.pick(SNIPPETS);
    lines[k] = rng.next() < 0.5 ? s + lines[k] : lines[k] + s;
    return [Buffer.from(lines.join('\n'), 'latin1'), `${JSON.stringify(s)} at line ${k + 1}`];
  },
  (buf, rng) => {
    const b = 0x80 + rng.int(128);
    const at = rng.int(buf.length + 1);
    return [insert(buf, at, Buffer.from([b])), `octet 0x${b.toString(16)} (not UTF-8) at ${at}`];
  },
  (buf, rng) => {
    const b = rng.int(32);
    const at = rng.int(buf.length + 1);
    return [insert(buf, at, Buffer.from([b])), `control octet ${b} at ${at}`];
  },
  (buf, rng) => {
    const n = 1 + rng.int(6);
    const at = rng.int(buf.length + 1);
    return [Buffer.concat([buf.subarray(0, at), buf.subarray(at + n)]), `delete ${n} at ${at}`];
  },
  (buf, rng) => {
    const to = rng.pick(['\r\n', '\r', '\n\r']);
    return [Buffer.from(buf.toString('latin1').replace(/\n/g, to), 'latin1'), `line breaks as ${JSON.stringify(to)}`];
  },
  (buf) => [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), buf]), 'byte order mark'],
  (buf, rng) => {
    // A very long line or token: a DKIM key's worth, or far more.
    const n = rng.pick([300, 1000, 5000, 40000]);
    const s = rng.pick(['x', '1', 'a ', '"a" ', '(', ')', '\\1', '\\', '.', '"', ';']);
    const at = rng.int(buf.length + 1);
    return [insert(buf, at, Buffer.from(s.repeat(n))), `${JSON.stringify(s)} × ${n} at ${at}`];
  },
  (buf, rng) => {
    const lines = buf.toString('latin1').split('\n');
    const k = rng.int(lines.length);
    lines.splice(k, 0, lines[rng.int(lines.length)]);
    return [Buffer.from(lines.join('\n'), 'latin1'), `a line repeated at ${k + 1}`];
  },
  (buf, rng) => {
    // Blanks: tabs for spaces, a blank owner made or taken away.
    const lines = buf.toString('latin1').split('\n');
    const k = rng.int(lines.length);
    lines[k] = rng.next() < 0.5 ? lines[k].replace(/ /g, '\t') : /^[ \t]/.test(lines[k]) ? lines[k].trimStart() : `\t${lines[k]}`;
    return [Buffer.from(lines.join('\n'), 'latin1'), `blanks changed on line ${k + 1}`];
  },
];

/** The text as the files panel reads a file of these octets (readZoneText). */
function asRead(buf: Buffer): string {
  return isUtf8(buf) ? buf.toString('utf8') : decodeOctets(buf);
}

// ------------------------------------------------------------------------------------------------ the properties

const CLASSES = new Set(['IN', 'CH', 'HS', 'CS']);

/** What is wrong with a parse result of `text`, or null. */
function zoneProblem(z: ParsedZone, text: string): string | null {
  if (!Array.isArray(z.records) || !Array.isArray(z.errors) || !Array.isArray(z.warnings)) return 'records, errors or warnings not a list';
  for (const e of z.errors) if (typeof e !== 'string' || !/^line [0-9]+: ./.test(e)) return `an error that names no line: ${JSON.stringify(e)}`;
  for (const w of z.warnings) if (typeof w !== 'string' || !w) return `a warning that is not text: ${JSON.stringify(w)}`;
  const lines = text.split('\n').length;
  for (const r of z.records) {
    const why = recordProblem(r, lines);
    if (why) return `${why}: ${JSON.stringify(r)}`;
  }
  return null;
}

function recordProblem(r: ParsedRecord, lines: number): string | null {
  if (typeof r.name !== 'string') return 'a name that is not text';
  if (r.name.endsWith('.')) return 'a name with a final dot (an empty label read as a name)';
  if (!Number.isInteger(r.ttl) || r.ttl < 0 || r.ttl > 2 ** 31 - 1) return `a TTL that is not 0–2^31-1 (${r.ttl})`;
  if (!CLASSES.has(r.class)) return `class ${r.class}`;
  if (typeof r.type !== 'string' || !r.type || r.type !== r.type.toUpperCase()) return `type ${r.type}`;
  if (!Array.isArray(r.rdata) || !r.rdata.every((t) => typeof t === 'string')) return 'rdata not string[]';
  const txtType = r.type === 'TXT' || r.type === 'SPF';
  if (txtType !== (r.txt !== undefined)) return 'TXT strings on a type that has none, or none on TXT/SPF';
  if (r.txt && !r.txt.every((t) => typeof t === 'string')) return 'txt not string[]';
  if (!(Number.isInteger(r.startLine) && r.startLine >= 0 && r.startLine <= r.endLine && r.endLine < lines)) return `lines ${r.startLine}–${r.endLine} of ${lines}`;
  return null;
}

/**
 * A record as the round trip compares it: name, type, value, TTL, and the TXT strings when `strings` (the record read
 * had only strings a zone can hold: renderRecordLine splits a longer one, which is then read back as two).
 */
function key(r: ParsedRecord, strings: boolean): string {
  return JSON.stringify([r.name, r.type, presentValue(r), r.ttl, strings ? (r.txt ?? null) : null]);
}

/**
 * Every record of `z` written as the files panel writes a record (renderRecordLine, appended with applyLineEdits to a
 * file that has a first line already, as a zone file does), read back: the records that do not come back the same, or
 * null.
 */
function roundTripProblem(z: ParsedZone, origin: string): string | null {
  if (!z.records.length) return null;
  const lines = z.records.map((r) => renderRecordLine({ name: r.name, ttl: r.ttl, type: r.type, value: presentValue(r), ...(r.txt ? { txt: r.txt } : {}) }));
  const written = applyLineEdits('; records written back\n', [{ startLine: -1, endLine: -1, lines }]);
  const back = parseZoneFile(written, origin);
  if (back.errors.length) return `the written records do not parse: ${back.errors[0]} (${JSON.stringify(written.split('\n')[Number(/^line ([0-9]+)/.exec(back.errors[0])?.[1] ?? 1) - 1])})`;
  const strings = z.records.map((r) => !r.txt?.some((t) => Buffer.byteLength(t) > 255));
  const want = z.records.map((r, k) => key(r, strings[k]));
  const got = back.records.map((r, k) => key(r, strings[k] ?? true));
  for (let k = 0; k < Math.max(want.length, got.length); k++) {
    if (want[k] !== got[k]) return `record ${k + 1} read ${around(want[k], got[k])}, written as ${short(JSON.stringify(lines[k]))}, read back ${around(got[k], want[k])}`;
  }
  return null;
}

/** Long texts cut down for a message, around where `a` first differs from `b`. */
function around(a: string | undefined, b: string | undefined): string {
  if (a === undefined) return 'nothing';
  let d = 0;
  while (b !== undefined && d < a.length && a[d] === b[d]) d++;
  return a.length <= 300 ? a : `…(${a.length} chars, differing at ${d})…${a.slice(Math.max(0, d - 120), d + 120)}…`;
}
const short = (s: string) => (s.length <= 300 ? s : `${s.slice(0, 150)}…(${s.length} chars)…${s.slice(-150)}`);

function report(seed: number, i: number, base: Seed, steps: string[], text: string, why: string): string {
  return [
    `zonefile fuzz: ${why}`,
    `  seed ${seed}, iteration ${i}, zone ${base.file} (origin ${base.origin}), mutations: ${steps.join(' → ')}`,
    `  replay: parseZoneFile(${JSON.stringify(text)}, ${JSON.stringify(base.origin)})`,
  ].join('\n');
}

// ------------------------------------------------------------------------------------------------ the loop

const SEED = 0x20ae_f11e;
const ITERATIONS = 3000;

test('zonefile fuzz: the seed zones parse without errors and round-trip (the mutations start from well-formed zones)', () => {
  for (const s of seeds()) {
    const z = parseZoneFile(s.text, s.origin);
    assert.deepEqual(z.errors, [], s.file);
    assert.ok(z.records.length > 3, s.file);
    assert.equal(zoneProblem(z, s.text), null, s.file);
    assert.equal(roundTripProblem(z, s.origin), null, s.file);
  }
});

test(`zonefile fuzz: ${ITERATIONS} mangled zone files (seed ${SEED}) parse without throwing, to records of the declared shape, and round-trip`, (t) => {
  const rng = prng(SEED);
  const all = seeds();
  const tally = { clean: 0, withErrors: 0, records: 0, roundTrips: 0 };
  for (let i = 0; i < ITERATIONS; i++) {
    const base = rng.pick(all);
    let buf: Buffer = Buffer.from(base.text, 'utf8');
    const steps: string[] = [];
    for (let k = 1 + rng.int(4); k > 0; k--) {
      const [next, what] = rng.pick(MUTATIONS)(buf, rng);
      buf = next;
      steps.push(what);
    }
    const text = asRead(buf);
    let z: ParsedZone;
    try {
      z = parseZoneFile(text, base.origin);
    } catch (e) {
      assert.fail(report(SEED, i, base, steps, text, `threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`));
    }
    const why = zoneProblem(z, text) ?? roundTripProblem(z, base.origin);
    if (why) assert.fail(report(SEED, i, base, steps, text, why));
    if (z.errors.length) tally.withErrors++;
    else tally.clean++;
    tally.records += z.records.length;
    if (z.records.length) tally.roundTrips++;
  }
  t.diagnostic(`tally: ${JSON.stringify(tally)}`);
  // Both kinds of input were reached: zones still readable, and zones with lines that are not.
  assert.ok(tally.clean > ITERATIONS / 10 && tally.withErrors > ITERATIONS / 10, JSON.stringify(tally));
});

// ------------------------------------------------------------------------------------------------ through the panel

const PANEL_SEED = 0x0f11_e5;
const PANEL_ITERATIONS = 150;

test(`zonefile fuzz through the files panel: ${PANEL_ITERATIONS} mangled zones (seed ${PANEL_SEED}), one record edited (its line rendered anew), every record read back`, async (t) => {
  // The panel's own write: readZone, then applyChanges with an edit whose record has no source text (so its line is
  // written by renderRecordLine, the path a write falls back to without checking what the line reads as), then
  // readZone again. Each record must read back as it was, the edited one with its new TTL; a write the panel refuses
  // (PanelError) is fine — a wrong write or another error is not.
  const rng = prng(PANEL_SEED);
  const all = seeds();
  const root = mkdtempSync(join(tmpdir(), 'mh-zonefuzz-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const d of ['zones', 'dkim', 'domains']) mkdirSync(join(root, d));
  const server = { hostname: 'server1.newhost.example', ips: ['203.0.113.10'], nameservers: ['ns1.newhost.example', 'ns2.newhost.example'] };
  writeFileSync(join(root, 'panel.json'), JSON.stringify({ server, accounts: [{ user: 'root', role: 'admin', domains: all.map((s) => s.origin) }] }));
  const panel = new FilesPanel(root);
  panel.now = () => new Date(Date.UTC(2026, 10, 1));
  const tally = { written: 0, refused: 0, skipped: 0 };
  // (A TXT record's value is its strings joined: a string past 255 octets is written as two.)
  const row = (r: ZoneRecord) => JSON.stringify([r.name, r.type, r.value, r.ttl]);
  for (let i = 0; i < PANEL_ITERATIONS; i++) {
    const base = rng.pick(all);
    let buf: Buffer = Buffer.from(base.text, 'utf8');
    const steps: string[] = [];
    for (let k = rng.int(3); k > 0; k--) {
      const [next, what] = rng.pick(MUTATIONS)(buf, rng);
      buf = next;
      steps.push(what);
    }
    writeFileSync(join(root, 'zones', `${base.origin}.db`), buf);
    const text = asRead(buf);
    const zone = await panel.readZone(base.origin);
    const candidates = zone.records.filter((r) => r.type !== 'SOA');
    if (zone.writeBlocked || !candidates.length) {
      tally.skipped++;
      continue;
    }
    const before = rng.pick(candidates);
    const after: ZoneRecord = { name: before.name, ttl: before.ttl + 1, type: before.type, value: before.value, ...(before.txt ? { txt: before.txt } : {}) };
    const where = () => report(PANEL_SEED, i, base, [...steps, `edit of ${before.name} ${before.type} (line ${before.ref})`], text, '');
    try {
      await panel.applyChanges(base.origin, [{ action: 'edit', name: before.name, type: before.type, ttl: before.ttl, before, after }], zone.version);
    } catch (e) {
      if (e instanceof PanelError) {
        tally.refused++;
        continue;
      }
      assert.fail(`${where()}\n  applyChanges threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    }
    tally.written++;
    const want = candidates.map((r) => row(r === before ? after : r)).sort();
    const got = (await panel.readZone(base.origin)).records.filter((r) => r.type !== 'SOA').map(row).sort();
    assert.deepEqual(got, want, where());
  }
  t.diagnostic(`tally: ${JSON.stringify(tally)}`);
  assert.ok(tally.written > PANEL_ITERATIONS / 3, JSON.stringify(tally));
});

// ------------------------------------------------------------------------------------------------ found by the fuzzer
// Each input below broke a property of the loop above on the code before its fix (the comment says how).

/** The zone's records as [name, type, value, ttl], and that they round-trip (null when they do). */
function readBack(text: string, origin = 'x.test'): { z: ParsedZone; rows: [string, string, string, number][]; roundTrip: string | null } {
  const z = parseZoneFile(text, origin);
  return { z, rows: z.records.map((r) => [r.name, r.type, presentValue(r), r.ttl]), roundTrip: roundTripProblem(z, origin) };
}

test('regression (fuzz): a TTL-like token of many digits that ends badly is read in one pass (the TTL regex backtracked exponentially)', () => {
  // /^([0-9]+[smhdw]?)+$/ on 1…1x tried every way to cut the digits into runs: twice the time per digit, a 40-digit
  // token held the process for hours (on the old code this test does not finish). The sizes double; the results are
  // what BIND says of such tokens: no TTL.
  for (const n of [16, 32, 64, 128, 4096]) {
    const token = '1'.repeat(n) + 'x';
    assert.equal(parseTtl(token), null, `${n} digits`);
    const z = parseZoneFile(`$TTL ${token}\n@ ${token} IN A 192.0.2.1\n@ 300 IN A 192.0.2.2\n`, 'x.test');
    assert.match(z.errors[0], /^line 1: bad \$TTL 1+x$/);
    assert.match(z.errors[1], /^line 2: cannot find a record type/);
    assert.deepEqual(z.records.map((r) => r.rdata[0]), ['192.0.2.2']);
  }
  // The exact line the loop found: a 30-digit run spliced into an owner, then the TTL position.
  assert.equal(parseTtl('111111111111111111111111111111x'), null);
});

test('regression (fuzz): TTLs are read as BIND reads them — never a number a written line cannot hold', () => {
  assert.deepEqual(
    ['0', '3600', '1h30m', '1W', '2147483647', '2147483648', '4294967295', '4294967296', '99999999999999999999999', '1h30', 'h', '1hh', '1h1m1'].map(parseTtl),
    [0, 3600, 5400, 604800, 2147483647, 0, 0, null, null, null, null, null, null],
  );
  // 1e23 was a TTL: written back as "1e+23", which reads as no TTL at all. Now the line is not read (BIND refuses it).
  const big = readBack('@ 99999999999999999999999 IN A 192.0.2.1\n@ 2147483648 IN A 192.0.2.2\n');
  assert.match(big.z.errors[0], /^line 1: /);
  assert.deepEqual(big.rows, [['x.test', 'A', '192.0.2.2', 0]], 'past 2^31-1: 0 (RFC 2181 §8), as BIND loads it');
  assert.equal(big.roundTrip, null);
  assert.match(parseZoneFile('$TTL 4294967296\n', 'x.test').errors[0], /^line 1: bad \$TTL 4294967296$/);
});

test('regression (fuzz): a name holding other white space than space and tab (no-break space, U+FEFF, a lone CR) is written back whole', () => {
  // renderRecordLine split values at /\s+/ and trimmed them: the MX host below lost its trailing dot (written relative:
  // another name under the zone), the CNAME target its last character.
  for (const ws of ['\u00a0', '\ufeff', '\r', '\u2028', '\u000b']) {
    const { z, roundTrip } = readBack(`@ 300 IN MX 10 mail.${ws}example.net.\nwww 300 IN CNAME target.example${ws}.\n`);
    assert.deepEqual(z.errors, [], JSON.stringify(ws));
    assert.deepEqual(z.records.map((r) => r.rdata), [['10', `mail.${ws}example.net`], [`target.example${ws}`]], JSON.stringify(ws));
    assert.equal(roundTrip, null, JSON.stringify(ws));
  }
});

test('regression (fuzz): \\; and \\ in a bare name stay escapes (the name is not cut at a comment or a space when written back)', () => {
  // The lexer took the backslash off these two escapes only: the owner read as "x;y.x.test", written back as
  // "x;y.x.test." (a comment after x), and the CNAME target as "a b.example", written back as two tokens. (A name's
  // escapes are in BIND's form, as named-checkzone -D writes them: the space as \032.)
  const { z, rows, roundTrip } = readBack('x\\;y 300 IN TXT "v=spf1 -all"\nwww 300 IN CNAME a\\ b.example.\n');
  assert.deepEqual(z.errors, []);
  assert.deepEqual(rows, [
    ['x\\;y.x.test', 'TXT', 'v=spf1 -all', 300],
    ['www.x.test', 'CNAME', 'a\\032b.example', 300],
  ]);
  assert.equal(roundTrip, null);
  // In a TXT word they mean what they always meant: the octet escaped.
  assert.deepEqual(parseZoneFile('@ IN TXT v=spf1\\ -all a\\;b\n', 'x.test').records[0].txt, ['v=spf1 -all', 'a;b']);
});

test('regression (fuzz): a quoted string holding a ; or a space in other data than TXT keeps its quotes in the value, and is written back whole', () => {
  // The value joined the tokens bare: a CAA record rendered from it lost everything after its ";" (the account binding
  // of RFC 8657), a HINFO's "PC Intel" became two tokens.
  const { z, rows, roundTrip } = readBack('@ 300 IN CAA 0 issue "ca.example.net; account=230123"\nh 300 IN HINFO "PC Intel" "Linux 6"\n@ 300 IN CAA 0 issue "letsencrypt.org"\n');
  assert.deepEqual(z.errors, []);
  assert.deepEqual(rows.map((r) => r[2]), ['0 issue "ca.example.net; account=230123"', '"PC Intel" "Linux 6"', '0 issue letsencrypt.org']);
  assert.deepEqual(z.records[0].rdata, ['0', 'issue', 'ca.example.net; account=230123'], 'the tokens as read');
  assert.equal(roundTrip, null);
});

test('regression (fuzz): a name with an empty label is an error (BIND refuses it), not a name with a final dot', () => {
  // `mail.x.test..` was read as the name "mail.x.test." — written back as "mail.x.test.", another name.
  const z = parseZoneFile('mail.x.test.. 300 IN A 192.0.2.1\n  300 IN AAAA 2001:db8::1\nwww 300 IN CNAME a..b.\n.a 300 IN A 192.0.2.3\n$ORIGIN a..b.\nok 300 IN A 192.0.2.4\n', 'x.test');
  assert.deepEqual(z.errors, [
    'line 1: the name "mail.x.test.." has an empty label (a dot at its start or two in a row), which BIND refuses to load the zone for',
    'line 2: the name "mail.x.test.." has an empty label (a dot at its start or two in a row), which BIND refuses to load the zone for',
    'line 3: the name "a..b." has an empty label (a dot at its start or two in a row), which BIND refuses to load the zone for',
    'line 4: the name ".a" has an empty label (a dot at its start or two in a row), which BIND refuses to load the zone for',
    'line 5: the name "a..b." has an empty label (a dot at its start or two in a row), which BIND refuses to load the zone for',
  ]);
  assert.deepEqual(z.records.map((r) => r.name), ['ok.x.test'], 'the origin stays x.test');
  // The root and an escaped dot are not empty labels.
  assert.deepEqual(readBack('@ 300 IN MX 0 .\na\\..b 300 IN A 192.0.2.5\n').rows, [
    ['x.test', 'MX', '0 .', 300],
    ['a\\..b.x.test', 'A', '192.0.2.5', 300],
  ]);
});

test('regression (fuzz): a name ending in an escaped dot is relative (the escape is part of its last label)', () => {
  // `target\.` was read as absolute: the name "target\" (a dangling backslash), where BIND reads target\..x.test.
  const { z, rows, roundTrip } = readBack('www 300 IN CNAME target\\.\nmx 300 IN MX 10 mail\\\\.\n');
  assert.deepEqual(z.errors, []);
  assert.deepEqual(rows, [
    ['www.x.test', 'CNAME', 'target\\..x.test', 300],
    ['mx.x.test', 'MX', '10 mail\\\\', 300], // an escaped backslash, then the final dot: absolute
  ]);
  assert.equal(roundTrip, null);
});

test('regression (fuzz): a quoted name where BIND reads none, or one ending in a backslash that escapes nothing, is an error', () => {
  // Read as its text, `"a b"` became the owner "a b.x.test", which has no written form. BIND 9.18 reads a quoted owner
  // as the name written bare (`"a b"` is a\032b: zonefile-bind-types.test.ts), and refuses a quoted CNAME target.
  const z = parseZoneFile('"a b" 300 IN TXT "x"\nwww 300 IN CNAME "target.example."\nmx 300 IN MX 10 mail\\\n', 'x.test');
  assert.deepEqual(z.errors, [
    'line 2: the name "target.example." is quoted (BIND reads a quoted name only as an owner or an SVCB or HTTPS target; here it refuses to load the zone: unexpected token)',
    'line 3: the name "mail\\\\" ends with a backslash that escapes nothing',
  ]);
  assert.deepEqual(z.records.map((r) => r.name), ['a\\032b.x.test']);
});

test('regression (fuzz): a token ending in two dots keeps both in the value (only a name\'s one final dot goes)', () => {
  // The value took one dot off "3600..": written back as "3600.", read back as "3600". (Found in an SOA's refresh field,
  // which BIND now refuses there as no time; an HINFO string is any word.)
  const { rows, roundTrip } = readBack('@ 300 IN HINFO 3600.. x\n');
  assert.deepEqual(rows, [['x.test', 'HINFO', '3600.. x', 300]]);
  assert.equal(roundTrip, null);
});

test('regression (fuzz): an MX or SRV target @ under $ORIGIN . is the root, as . is', () => {
  // Read as "" (the empty origin), written back as ".", read back as "." — another value.
  const { rows, roundTrip } = readBack('$ORIGIN .\nx.test. 300 IN MX 0 @\n_smtp._tcp.x.test. 300 IN SRV 0 0 0 @\n');
  assert.deepEqual(rows, [
    ['x.test', 'MX', '0 .', 300],
    ['_smtp._tcp.x.test', 'SRV', '0 0 0 .', 300],
  ]);
  assert.equal(roundTrip, null);
});
