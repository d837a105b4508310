// The generated "world" of the end-to-end verdict tests — test/e2e/audit-verdicts-oracles.test.ts (mailhealth against
// pyspf and dkimpy) and test/e2e/spf-second-judge.test.ts (mailhealth and pyspf against Mail::SPF) — and what both do
// with it: three files panels and the names their records point at, served by one loopback DNS server
// (src/adapters/dns/server.ts, as the CLI tests use); mailhealth's audit of each panel through the real CLI (`audit
// --all --json --no-history`: files panel, wire resolver); pyspf's and dkimpy's answers
// (test/fixtures/oracles/audit-verdicts.py); and mailhealth's verdicts read from its findings.
//
// - `bench`: the benchmark's generator (bench/generate.ts — clean domains, HostGator leftovers, mail-service includes,
//   lockdown records, broken DMARC, another key at the selector) for a server relaying through MailChannels; it writes
//   each domain's private key (dkim/<domain>.pem), which dkimpy signs with;
// - `direct`: a server that delivers its mail itself from 203.0.113.10 and 2001:db8:10::25, its domains generated here
//   with a seeded PRNG (no Math.random, no clock; the keys are fresh each run, but no verdict depends on their bits);
// - `relayed`: a server relaying through MailChannels, its domains generated around the relay's include;
// and in both, HAND_MADE: the smallest domain showing each difference the tests list (a test may add its own, `extra`).
// The seeds and counts are fixed: every test that builds the world gets the same domains.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '../../bench/generate.js';
import type { DnsServer, ServedData, ServedZoneMap } from '../../src/adapters/dns/server.js';
import { addZoneFile } from '../../src/demo/world.js';
import { cli } from '../cli/fixtures/run-cli.js';

const ORACLE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'oracles', 'audit-verdicts.py');

// ---- the servers ----

export const SERVER_IP = '203.0.113.10';
export const SERVER_IP6 = '2001:db8:10::25';
export const HELO = 'server1.newhost.example';
export const SELECTOR = 'default';
/** An address no generated term covers (filler names' A records are 192.0.2.1–192.0.2.11): receivers evaluate every term. */
export const STRANGER_IP = '192.0.2.200';
/** The same for IPv6 (receivers look up AAAA records for it: void lookups differ by address family). */
export const STRANGER_IP6 = '2001:db8:ffff::200';
/**
 * Addresses across relay.mailchannels.net's published 23.83.208.0/20 (23.83.208.0–23.83.223.255, bench/generate.ts's
 * world), one in each /24 a generated ip4 term before the relay's include covers.
 */
export const RELAY_PROBES = ['23.83.208.10', '23.83.211.10', '23.83.215.250', '23.83.216.10', '23.83.223.250'];

export type PanelName = 'bench' | 'direct' | 'relayed';
const BENCH_DOMAINS = 120;
const DIRECT_DOMAINS = 260;
const RELAYED_DOMAINS = 80;

// ---- a seeded PRNG (bench/generate.ts's xorshift, which it does not export) ----

interface Rand {
  next(): number;
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
  /** One of the entries, by weight. */
  weighted<T extends string>(xs: readonly (readonly [T, number])[]): T;
  shuffle<T>(xs: T[]): T[];
}

function rng(seed: number): Rand {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (xs) => xs[int(xs.length)],
    weighted(xs) {
      let v = next() * xs.reduce((s, [, w]) => s + w, 0);
      for (const [k, w] of xs) if ((v -= w) < 0) return k;
      return xs[xs.length - 1][0];
    },
    shuffle(xs) {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [xs[i], xs[j]] = [xs[j], xs[i]];
      }
      return xs;
    },
  };
}

// ---- keys ----

export type KeyName = 'rsa-a' | 'rsa-b' | 'rsa-c' | 'rsa1024' | 'rsa768' | 'rsa1020' | 'rsa512' | 'ed-a' | 'ed-b' | 'rsa-other' | 'ed-other';
/**
 * The keys servers sign with (rsa768: a key receivers refuse, RFC 8301) — and two that no server here signs with. (A
 * hand-made domain may sign with rsa1020 or rsa512, keys under RFC 8301's 1024 bits no generated domain uses.)
 */
const SERVER_KEYS: readonly KeyName[] = ['rsa-a', 'rsa-b', 'rsa-c', 'rsa1024', 'rsa768', 'ed-a', 'ed-b'];
type DkimpyKey = { alg: 'rsa-sha256' | 'ed25519-sha256'; key: string };
export interface Key {
  kind: 'rsa' | 'ed25519';
  /** What the files panel reads (dkim/<domain>.pem): PKCS#8, as it writes a key it generates. */
  pem: string;
  dkimpy: DkimpyKey;
  /** The p= of its DKIM record: SPKI DER (RSA) or the raw 32-byte key (Ed25519, RFC 8463), base64. */
  p: string;
}

function makeKey(kind: 'rsa' | 'ed25519', bits = 2048): Key {
  if (kind === 'ed25519') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url').toString('base64');
    const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(12).toString('base64');
    return { kind, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), dkimpy: { alg: 'ed25519-sha256', key: seed }, p: raw };
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return rsaKey(privateKey);
}

function rsaKey(privateKey: KeyObject): Key {
  return {
    kind: 'rsa',
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    dkimpy: { alg: 'rsa-sha256', key: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() },
    p: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

function makeKeys(): Record<KeyName, Key> {
  return {
    'rsa-a': makeKey('rsa'),
    'rsa-b': makeKey('rsa'),
    'rsa-c': makeKey('rsa'),
    rsa1024: makeKey('rsa', 1024),
    rsa768: makeKey('rsa', 768),
    rsa1020: makeKey('rsa', 1020),
    rsa512: makeKey('rsa', 512),
    'ed-a': makeKey('ed25519'),
    'ed-b': makeKey('ed25519'),
    'rsa-other': makeKey('rsa'),
    'ed-other': makeKey('ed25519'),
  };
}

// ---- the world: names the generated records point at (besides bench/generate.ts's provider zones) ----

export class World {
  readonly map: ServedZoneMap = {};
  private at(name: string): ServedData {
    return (this.map[name] ??= {});
  }
  txt(name: string, ...strings: string[]): void {
    (this.at(name).TXT ??= []).push(strings);
  }
  a(name: string, ip: string): void {
    (this.at(name).A ??= []).push(ip);
  }
  aaaa(name: string, ip: string): void {
    (this.at(name).AAAA ??= []).push(ip);
  }
  cname(name: string, target: string): void {
    this.at(name).CNAME = [target];
  }
  mx(name: string, exchange: string): void {
    (this.at(name).MX ??= []).push({ priority: 10, exchange });
  }
}

/** An IPv6 address as %{i} expands it: 32 nibbles, dot-separated. */
export function nibbles(ip6: string): string {
  const [head, tail = ''] = ip6.split('::');
  const parts = (s: string) => (s ? s.split(':') : []);
  const groups = [...parts(head), ...Array(8 - parts(head).length - parts(tail).length).fill('0'), ...parts(tail)];
  return groups.map((g) => g.padStart(4, '0')).join('').split('').join('.');
}

/** Names every generated domain may use. */
function commonWorld(w: World): void {
  for (const ns of ['ns1.newhost.example', 'ns2.newhost.example']) w.a(ns, '127.0.0.1');
  w.a(HELO, SERVER_IP);
  w.aaaa(HELO, SERVER_IP6);
  // Another host's mail server (an MX or a:/mx: target that is not this server).
  w.a('mx.other-host.example', '198.51.100.25');
  w.a('other-host.example', '198.51.100.26');
  w.mx('other-host.example', 'mx.other-host.example');
  // A name that exists with no SPF record (include → permerror) and one with a TXT record only (a: → void lookup).
  w.a('nospf.chain.example', '192.0.2.50');
  w.txt('nospf.chain.example', 'site-verification=abc');
  w.txt('txtonly.chain.example', 'hello');
  // Filler names: one lookup each, never matching (192.0.2.1–11, 2001:db8:f::1–b), never void for either family.
  for (let k = 0; k < 11; k++) {
    w.a(`f${k}.chain.example`, `192.0.2.${k + 1}`);
    w.aaaa(`f${k}.chain.example`, `2001:db8:f::${(k + 1).toString(16)}`);
  }
  // exists:%{i}.ex.chain.example matches this server's addresses (%{i} of an IPv6 address: its nibbles, RFC 7208 §7.3).
  w.a(`${SERVER_IP}.ex.chain.example`, '127.0.0.2');
  w.a(`${nibbles(SERVER_IP6)}.ex.chain.example`, '127.0.0.2');
}

// ---- generated domains ----

export interface Generated {
  panel: PanelName;
  domain: string;
  /** What was varied (for messages and for the DELIBERATE / DEFECTS predicates). */
  tags: Set<string>;
  /** The server's signing key (bench: read from its dkim/ file). */
  key: Key;
}

/** The SPF text of a term list (and `all`), with the version tag as given. */
const spfText = (version: string, terms: readonly string[]) => [version, ...terms].join(' ');

/** A record's text as zone-file strings: cut where the generator says, at most 255 octets each. */
function strings(text: string, cuts: readonly number[]): string[] {
  const out: string[] = [];
  let from = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    if (c <= from || c >= text.length) continue;
    out.push(text.slice(from, c));
    from = c;
  }
  out.push(text.slice(from));
  return out.flatMap((s) => s.match(/[^]{1,250}/g) ?? ['']);
}

const quoted = (xs: readonly string[]) => `( ${xs.map((s) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(' ')} )`;

const QUALIFIERS = ['', '', '', '+', '-', '~', '?'] as const;

interface Term {
  text: string;
  /** DNS lookups it costs receivers (RFC 7208 §4.6.4), the included records' included. */
  cost: number;
}

/** An include chain in the world at `base`, `depth` records deep; `inner` is put in the deepest record (else ip terms). */
function chain(r: Rand, w: World, base: string, depth: number, ipTerms: readonly string[], inner?: string): Term {
  const terms: string[] = [];
  let cost = 0;
  const n = 1 + r.int(2);
  for (let k = 0; k < n; k++) terms.push(r.pick(QUALIFIERS) + r.pick(ipTerms));
  if (depth > 1) {
    const sub = chain(r, w, `n${depth - 1}.${base}`, depth - 1, ipTerms, inner);
    terms.splice(r.int(terms.length + 1), 0, r.pick(['', '', '', '~', '-', '?']) + sub.text);
    cost += sub.cost;
  } else if (inner) {
    terms.splice(r.int(terms.length + 1), 0, inner);
    cost += 1;
  }
  const all = r.pick(['-all', '~all', '?all', '']);
  w.txt(base, spfText('v=spf1', all ? [...terms, all] : terms));
  return { text: `include:${base}`, cost: cost + 1 };
}

const IP4_HIT = ['ip4:203.0.113.10', 'ip4:203.0.113.0/24', 'ip4:203.0.112.0/22', 'ip4:203.0.113.8/30'];
const IP4_MISS = ['ip4:203.0.113.11', 'ip4:203.0.113.12/30', 'ip4:198.51.100.0/24', 'ip4:203.0.114.0/24', 'ip4:203.0.113.0/29'];
const IP6_HIT = ['ip6:2001:db8:10::25', 'ip6:2001:db8:10::/48', 'ip6:2001:db8:10::/64', 'ip6:2001:DB8:10:0:0:0:0:25'];
const IP6_MISS = ['ip6:2001:db8:11::/48', 'ip6:2001:db8:10::26', 'ip6:2001:db8:10:1::/64'];
const IP_TERMS = [...IP4_HIT, ...IP4_MISS, ...IP6_HIT, ...IP6_MISS];

/** What a direct domain's zone holds at its apex and mail host: this server, a neighbour, another host, nothing. */
export interface Hosts {
  apexA?: string;
  apexAAAA?: string;
  mailA?: string;
  mailAAAA?: string;
  mx: string[];
}

function hostsFor(r: Rand, d: string): Hosts {
  const mx = r.weighted([
    ['own', 7],
    ['other', 2],
    ['both', 1],
  ] as const);
  return {
    apexA: r.pick([SERVER_IP, SERVER_IP, '203.0.113.77', '198.51.100.20', undefined]),
    apexAAAA: r.pick([SERVER_IP6, '2001:db8:10::99', undefined, undefined]),
    mailA: r.pick([SERVER_IP, SERVER_IP, '198.51.100.21']),
    mailAAAA: r.pick([SERVER_IP6, undefined]),
    mx: mx === 'own' ? [`mail.${d}.`] : mx === 'other' ? ['mx.other-host.example.'] : [`mail.${d}.`, 'mx.other-host.example.'],
  };
}

/** A domain's SPF records (each its strings) and, when its record includes it, its own `_spf` record. */
type SpfShape = { records: string[][]; ownSpf?: string[] };

/** One top-level term for a server that delivers itself. */
function directTerm(r: Rand, w: World, d: string, base: string, tags: Set<string>): Term {
  const q = r.pick(QUALIFIERS);
  const kind = r.weighted([
    ['ip4', 6],
    ['ip6', 4],
    ['a', 4],
    ['mx', 4],
    ['include', 5],
    ['own', 1],
    ['google', 2],
    ['nospf', 1],
    ['nx', 1],
    ['void', 2],
    ['exists', 1],
    ['syntax', 1],
    ['modifier', 1],
  ] as const);
  tags.add(`term:${kind}`);
  switch (kind) {
    case 'ip4':
      return { text: q + r.pick(r.chance(0.5) ? IP4_HIT : IP4_MISS), cost: 0 };
    case 'ip6':
      return { text: q + r.pick(r.chance(0.5) ? IP6_HIT : IP6_MISS), cost: 0 };
    case 'a':
      return { text: q + r.pick(['a', `a:mail.${d}`, 'a/24', `a:mail.${d}/24`, 'a//64', 'a/24//64', 'a:other-host.example']), cost: 1 };
    case 'mx':
      return { text: q + r.pick(['mx', 'mx/24', `mx:${d}`, 'mx//64', 'mx:other-host.example']), cost: 1 };
    case 'include': {
      const depth = 1 + r.int(3);
      tags.add(`include-depth:${depth}`);
      const t = chain(r, w, base, depth, IP_TERMS);
      return { text: q + t.text, cost: t.cost };
    }
    case 'own':
      // The domain's own _spf record, filled in by the caller (its zone, not the world).
      return { text: `${q}include:_spf.${d}`, cost: 1 };
    case 'google':
      return { text: `${q}include:_spf.google.com`, cost: 2 };
    case 'nospf':
      return { text: `${q}include:nospf.chain.example`, cost: 1 };
    case 'nx':
      return { text: `${q}include:${base}.nowhere.example`, cost: 1 };
    case 'void':
      return { text: q + r.pick([`a:${base}.nowhere.example`, `mx:${base}.nowhere.example`, 'a:txtonly.chain.example']), cost: 1 };
    case 'exists':
      return { text: `${q}exists:%{i}.ex.chain.example`, cost: 1 };
    case 'syntax':
      return { text: r.pick(['ip4:203.0.113.300', 'ip6:2001:db8::/129', 'frob:example.com', 'a:', 'ip4:203.0.113.10/33']), cost: 0 };
    case 'modifier':
      return { text: r.pick(['moo=bar', 'exp=explain.chain.example']), cost: 0 };
  }
}

/**
 * A direct domain's SPF record(s): 1–5 terms, an all term or redirect= (sometimes both: the redirect ignored), sometimes
 * filled to exactly 10 or 11 lookups, two records, another case of v=spf1, a record receivers do not see as SPF.
 */
function directSpf(r: Rand, w: World, d: string, i: number, tags: Set<string>): SpfShape {
  // The version tag in another case (RFC 7208 §4.5 / RFC 5234: matched case-insensitively).
  const version = r.chance(0.06) ? r.pick(['V=SPF1', 'v=SPF1', 'V=spf1']) : 'v=spf1';
  if (version !== 'v=spf1') tags.add('version-case');
  const n = 1 + r.int(5);
  const terms: Term[] = [];
  for (let k = 0; k < n; k++) terms.push(directTerm(r, w, d, `c${i}x${k}.chain.example`, tags));
  let ownSpf: string[] | undefined;
  if (terms.some((t) => /include:_spf\./.test(t.text))) {
    // The domain's own record, in its zone: two ip terms and an all term.
    ownSpf = [spfText('v=spf1', [r.pick(QUALIFIERS) + r.pick(IP_TERMS), r.pick(QUALIFIERS) + r.pick(IP_TERMS), r.pick(['-all', '~all', '?all'])])];
  }
  // The end: all, redirect= (the rest of the policy elsewhere), both (redirect ignored), or neither.
  const end = r.weighted([
    ['all', 7],
    ['redirect', 2],
    ['both', 1],
    ['none', 1],
  ] as const);
  tags.add(`end:${end}`);
  const tail: Term[] = [];
  if (end === 'all' || end === 'both') tail.push({ text: r.weighted([['-all', 4], ['~all', 4], ['?all', 1], ['+all', 1]] as const), cost: 0 });
  if (end === 'redirect' || end === 'both') {
    const t = chain(r, w, `rd${i}.chain.example`, 1 + r.int(2), IP_TERMS);
    tail.push({ text: t.text.replace(/^include:/, 'redirect='), cost: end === 'both' ? 0 : t.cost });
  }
  const cost = [...terms, ...tail].reduce((s, t) => s + t.cost, 0);
  const target = r.chance(0.08) ? 10 : r.chance(0.08) ? 11 : null;
  if (target !== null && cost < target) {
    tags.add(`lookups:${target}`);
    for (let k = cost; k < target; k++) terms.push({ text: `a:f${k - cost}.chain.example`, cost: 1 });
  }
  r.shuffle(terms);
  const text = spfText(version, [...terms, ...tail].map((t) => t.text));
  const records: string[][] = [];
  const shape = r.weighted([
    ['one', 12],
    ['split', 5],
    ['run-together', 1],
    ['version-run-together', 1],
    ['two', 1],
    ['missing', 1],
  ] as const);
  tags.add(`spf:${shape}`);
  switch (shape) {
    case 'one':
      records.push(strings(text, []));
      break;
    case 'split':
      // Cut anywhere, also inside a term: receivers join the strings with nothing between them (RFC 7208 §3.3).
      records.push(strings(text, Array.from({ length: 1 + r.int(3) }, () => 1 + r.int(text.length - 1))));
      break;
    case 'run-together': {
      // Cut at a space, which is lost: two terms run together (not next to a term with macros: that case is a
      // hand-made domain of its own, HAND_MADE macro-run-together).
      const around = (x: number) => text.slice(text.lastIndexOf(' ', x - 1) + 1, x) + text.slice(x + 1).split(' ')[0];
      const spaces = [...text.matchAll(/ /g)].map((m) => m.index!).filter((x) => x > version.length && !around(x).includes('%{'));
      if (!spaces.length) records.push(strings(text, []));
      else {
        const at = r.pick(spaces);
        records.push([...strings(text.slice(0, at), []), ...strings(text.slice(at + 1), [])]);
      }
      break;
    }
    case 'version-run-together':
      // "v=spf1" "ip4:… -all": joined, receivers read v=spf1ip4:…, no SPF record (RFC 7208 §4.5).
      records.push([version, ...strings(text.slice(version.length + 1), [])]);
      break;
    case 'two':
      records.push(strings(text, []), [r.pick(['v=spf1 include:_spf.google.com ~all', `v=spf1 ip4:${SERVER_IP} -all`, 'v=spf1 mx -all'])]);
      break;
    case 'missing':
      break;
  }
  return { records, ...(ownSpf ? { ownSpf } : {}) };
}

/** One relayed domain's SPF record: around include:relay.mailchannels.net. */
function relayedSpf(r: Rand, w: World, d: string, i: number, tags: Set<string>): SpfShape {
  const RELAY = 'include:relay.mailchannels.net';
  const how = r.weighted([
    ['plain', 4],
    ['qualified', 3],
    ['shadow', 4],
    ['nested', 3],
    ['redirect', 1],
    ['ranges-only', 1],
    ['broken-before', 1],
    ['broken-after', 1],
    ['absent', 1],
  ] as const);
  tags.add(`relay:${how}`);
  const terms: string[] = [];
  const others = () => r.pick([...IP4_MISS, ...IP4_HIT, 'a', 'mx', 'include:_spf.google.com', 'ip6:2001:db8:10::/48']);
  for (let k = r.int(3); k > 0; k--) terms.push(others());
  let tail = r.pick(['-all', '~all', '~all', '?all']);
  switch (how) {
    case 'plain':
      terms.splice(r.int(terms.length + 1), 0, r.pick(['', '+']) + RELAY);
      break;
    case 'qualified':
      terms.splice(r.int(terms.length + 1), 0, r.pick(['-', '~', '?']) + RELAY);
      break;
    case 'shadow': {
      // A "-"/"~"/"?" ip4 term before the include, covering some of the relay's addresses — or none (23.83.224.0/24),
      // or after a "+" range that passes them first.
      const range = r.pick(['23.83.208.0/24', '23.83.211.0/24', '23.83.215.0/24', '23.83.216.0/24', '23.83.223.0/24', '23.83.208.0/20', '23.83.0.0/16', '23.83.224.0/24', '23.83.208.10']);
      const shadow = `${r.pick(['-', '~', '?'])}ip4:${range}`;
      const pass = r.chance(0.2) ? ['ip4:23.83.208.0/20'] : [];
      tags.add(pass.length ? 'shadow:after-pass' : `shadow:${range}`);
      terms.push(...pass, shadow, RELAY);
      break;
    }
    case 'nested': {
      const t = chain(r, w, `rl${i}.chain.example`, 1 + r.int(2), IP4_MISS, r.pick(['', '', '~', '-']) + RELAY);
      terms.splice(r.int(terms.length + 1), 0, r.pick(['', '', '~']) + t.text);
      break;
    }
    case 'redirect':
      tail = 'redirect=relay.mailchannels.net';
      break;
    case 'ranges-only':
      // The relay's addresses as a range, no include.
      terms.push('ip4:23.83.208.0/20');
      break;
    case 'broken-before':
      terms.unshift(r.pick([`include:rl${i}.nowhere.example`, 'include:nospf.chain.example']));
      terms.push(RELAY);
      break;
    case 'broken-after':
      terms.push(RELAY, r.pick([`include:rl${i}.nowhere.example`, 'include:nospf.chain.example']));
      break;
    case 'absent':
      break;
  }
  const text = spfText('v=spf1', [...terms, tail]);
  return { records: [r.chance(0.25) ? strings(text, [1 + r.int(text.length - 1)]) : strings(text, [])] };
}

/** DKIM at the server's selector: what the generated domain publishes there. */
const DKIM_VARIANTS = [
  ['server', 30],
  ['other', 6],
  ['testing', 3],
  ['h-sha1', 3],
  ['h-sha256', 2],
  ['h-both', 1],
  ['k-mismatch', 3],
  ['s-email', 2],
  ['s-star', 1],
  ['s-tlsrpt', 1],
  ['truncated', 2],
  ['bad-padding', 1],
  ['bad-char', 1],
  ['cname-server', 3],
  ['cname-other', 1],
  ['cname-dangling', 1],
  ['two-server-other', 2],
  ['two-other-server', 2],
  ['two-copies', 2],
  ['two-stray', 1],
  ['revoked', 2],
  ['missing', 2],
  ['v-not-first', 1],
  ['no-v', 1],
  ['v-dkim2', 1],
  ['folded', 2],
  ['k-unknown', 1],
] as const;
export type DkimVariant = (typeof DKIM_VARIANTS)[number][0];

/** The zone lines at the selector (relative owner) for the variant, and world records it points at. */
function dkimLines(v: DkimVariant, key: Key, keys: Record<KeyName, Key>, d: string, w: World): string[] {
  const owner = `${SELECTOR}._domainkey`;
  const other = key.kind === 'ed25519' ? keys['ed-other'] : keys['rsa-other'];
  const rec = (k: Key, extra = '') => `v=DKIM1; k=${k.kind}; ${extra}p=${k.p}`;
  const line = (text: string) => `${owner} IN TXT ${quoted(strings(text, []))}`;
  switch (v) {
    case 'server':
      return [line(rec(key))];
    case 'other':
      return [line(rec(other))];
    case 'testing':
      return [line(rec(key, 't=y; '))];
    case 'h-sha1':
      return [line(rec(key, 'h=sha1; '))];
    case 'h-sha256':
      return [line(rec(key, 'h=sha256; '))];
    case 'h-both':
      return [line(rec(key, 'h=sha1:sha256; '))];
    case 'k-mismatch':
      // The key's bytes under the other type's k=.
      return [line(`v=DKIM1; k=${key.kind === 'rsa' ? 'ed25519' : 'rsa'}; p=${key.p}`)];
    case 's-email':
      return [line(rec(key, 's=email; '))];
    case 's-star':
      return [line(rec(key, 's=*; '))];
    case 's-tlsrpt':
      return [line(rec(key, 's=tlsrpt; '))];
    case 'truncated':
      return [line(rec({ ...key, p: key.p.slice(0, -8) }))];
    case 'bad-padding':
      return [line(rec({ ...key, p: key.p.slice(0, -1) }))];
    case 'bad-char':
      return [line(rec({ ...key, p: `${key.p.slice(0, 20)}!${key.p.slice(21)}` }))];
    case 'cname-server':
      w.txt(`${d}.keys.chain.example`, ...strings(rec(key), []));
      return [`${owner} IN CNAME ${d}.keys.chain.example.`];
    case 'cname-other':
      w.txt(`${d}.keys.chain.example`, ...strings(rec(other), []));
      return [`${owner} IN CNAME ${d}.keys.chain.example.`];
    case 'cname-dangling':
      return [`${owner} IN CNAME ${d}.nowhere.example.`];
    case 'two-server-other':
      return [line(rec(key)), line(rec(other))];
    case 'two-other-server':
      return [line(rec(other)), line(rec(key))];
    case 'two-copies':
      return [line(rec(key)), line(rec(key))];
    case 'two-stray':
      return [line(rec(key)), line(`site-verification=${d}`)];
    case 'revoked':
      return [line(`v=DKIM1; k=${key.kind}; p=`)];
    case 'missing':
      return [];
    case 'v-not-first':
      return [line(`k=${key.kind}; v=DKIM1; p=${key.p}`)];
    case 'no-v':
      return [line(`k=${key.kind}; p=${key.p}`)];
    case 'v-dkim2':
      return [line(`v=DKIM2; k=${key.kind}; p=${key.p}`)];
    case 'folded':
      // Folding white space inside p= (RFC 6376 §3.2: FWS is allowed in base64).
      return [line(`v=DKIM1; k=${key.kind}; p=${key.p.replace(/(.{40})/g, '$1 ')}`)];
    case 'k-unknown':
      return [line(`v=DKIM1; k=dsa; p=${key.p}`)];
  }
}

/** A domain's zone file: SOA and NS of this server's panel, its hosts, SPF, DKIM at the selector and DMARC. */
function zoneFile(hosts: Hosts, spf: SpfShape, dkim: readonly string[]): string {
  return [
    '$TTL 300',
    '@ IN SOA ns1.newhost.example. hostmaster.newhost.example. ( 2026010101 ; serial',
    '  3600 600 604800 300 )',
    '@ IN NS ns1.newhost.example.',
    '@ IN NS ns2.newhost.example.',
    ...(hosts.apexA ? [`@ IN A ${hosts.apexA}`] : []),
    ...(hosts.apexAAAA ? [`@ IN AAAA ${hosts.apexAAAA}`] : []),
    ...(hosts.mailA ? [`mail IN A ${hosts.mailA}`] : []),
    ...(hosts.mailAAAA ? [`mail IN AAAA ${hosts.mailAAAA}`] : []),
    ...hosts.mx.map((m) => `@ IN MX 10 ${m}`),
    ...spf.records.map((x) => `@ IN TXT ${quoted(x.flatMap((c) => strings(c, [])))}`),
    ...(spf.ownSpf ? [`_spf IN TXT ${quoted(spf.ownSpf)}`] : []),
    ...dkim,
    '_dmarc IN TXT "v=DMARC1; p=none"',
    '',
  ].join('\n');
}

/**
 * Hand-made domains, added to the generated ones: one at least for each difference in DELIBERATE and DEFECTS of
 * test/e2e/audit-verdicts-oracles.test.ts (so the fixed seed always shows it), each as small as it can be — the
 * reproductions in that test's report (a test adds its own as `extra`). Its zone has the
 * server's addresses at the apex and at mail.<d> (the MX), and the server's key at the selector, unless it says
 * otherwise.
 */
export interface HandMade {
  panel: 'direct' | 'relayed';
  label: string;
  /** The SPF records (each its strings) of domain `d`. */
  spf: (d: string) => string[][];
  ownSpf?: string[];
  hosts?: (d: string) => Partial<Hosts>;
  dkim?: DkimVariant;
  /** The key the server signs with (rsa-a unless it says). */
  key?: KeyName;
  /**
   * The zone lines at the selector, written by the test itself (instead of `dkim`'s variant): for the server's `key`,
   * domain `d`, names in the World `w` (selectorTxt writes a TXT line there).
   */
  dkimZone?: (key: Key, d: string, w: World) => string[];
}

/**
 * A zone line at the server's selector (relative owner) publishing one TXT record: its text cut into strings of at most
 * 250 octets, or the strings as given.
 */
export function selectorTxt(text: string | readonly string[]): string {
  return `${SELECTOR}._domainkey IN TXT ${quoted(typeof text === 'string' ? strings(text, []) : text)}`;
}
export const HAND_MADE: HandMade[] = [
  // Names with an A record and no AAAA: void for an IPv6 sender. The server's IPv6 address comes after three of them.
  { panel: 'direct', label: 'v6void-server', spf: (d) => [[`v=spf1 a mx a:mail.${d} ip6:2001:db8:10::25 -all`]], hosts: () => ({ mailAAAA: undefined }) },
  // The same for IPv4: names with an AAAA record and no A.
  {
    panel: 'direct',
    label: 'v4void-server',
    spf: (d) => [[`v=spf1 a mx a:mail.${d} ip4:203.0.113.10 -all`]],
    hosts: () => ({ apexA: undefined, apexAAAA: SERVER_IP6, mailA: undefined }),
  },
  // Both server addresses first (spf.ok), then three names without AAAA: every other IPv6 sender gets permerror.
  { panel: 'direct', label: 'v6void-others', spf: (d) => [[`v=spf1 ip4:203.0.113.10 ip6:2001:db8:10::25 a mx a:mail.${d} -all`]], hosts: () => ({ mailAAAA: undefined }) },
  // mx: the first MX host has the server's AAAA, the second none; two void lookups before.
  {
    panel: 'direct',
    label: 'mx-after-match',
    spf: () => [['v=spf1 a:gone1.nowhere.example a:gone2.nowhere.example mx -all']],
    hosts: (d) => ({ mx: [`mail.${d}.`, 'mx.other-host.example.'] }),
  },
  // An unknown modifier twice (RFC 7208 §6: only redirect= and exp= are limited to once).
  { panel: 'direct', label: 'modifier-twice', spf: () => [['v=spf1 moo=bar moo=bar ip4:203.0.113.10 ip6:2001:db8:10::25 -all']] },
  // A string ends right before a term with macros: joined, receivers read include:_spf.dexists:%{i}.ex.chain.example.
  {
    panel: 'direct',
    label: 'macro-run-together',
    spf: (d) => [[`v=spf1 ip4:203.0.113.10 ip6:2001:db8:10::25 include:_spf.${d}`, 'exists:%{i}.ex.chain.example -all']],
    ownSpf: ['v=spf1 ip4:198.51.100.0/24 -all'],
  },
  // exists:%{i}… lists this server; for anyone else each is a void lookup.
  { panel: 'direct', label: 'exists-voids', spf: () => [['v=spf1 exists:%{i}.ex.chain.example exists:%{i}.ex.chain.example a:gone.nowhere.example -all']] },
  // 10 lookup mechanisms, then ~all and a redirect= that all makes receivers ignore.
  {
    panel: 'direct',
    label: 'redirect-beside-all',
    spf: () => [[`v=spf1 ${Array.from({ length: 10 }, (_, k) => `a:f${k}.chain.example`).join(' ')} ip4:203.0.113.10 ip6:2001:db8:10::25 ~all redirect=_spf.google.com`]],
  },
  // "a:f1.chain.example" "a:f2.chain.example …": joined, a:f1.chain.examplea:f2.chain.example — valid, and void.
  { panel: 'direct', label: 'run-together-valid', spf: () => [['v=spf1 a:f1.chain.example', 'a:f2.chain.example ip4:203.0.113.10 ip6:2001:db8:10::25 -all']] },
  { panel: 'direct', label: 'two-records', spf: () => [['v=spf1 ip4:203.0.113.10 ip6:2001:db8:10::25 -all'], ['v=spf1 include:_spf.google.com ~all']] },
  { panel: 'direct', label: 'dkim-h-sha1', spf: () => [['v=spf1 mx -all']], dkim: 'h-sha1' },
  { panel: 'direct', label: 'dkim-v-late', spf: () => [['v=spf1 mx -all']], dkim: 'v-not-first' },
  { panel: 'relayed', label: 'relay-broken-before', spf: () => [['v=spf1 include:nospf.chain.example include:relay.mailchannels.net ~all']] },
  { panel: 'relayed', label: 'relay-ranges-only', spf: () => [['v=spf1 ip4:23.83.208.0/20 -all']] },
];

/**
 * Writes a generated panel (direct or relayed) under `dir`, its hand-made domains (HAND_MADE, then `extra`) after the
 * generated; returns them.
 */
function generatePanel(
  panel: 'direct' | 'relayed',
  dir: string,
  n: number,
  seed: number,
  keys: Record<KeyName, Key>,
  w: World,
  extra: readonly HandMade[],
): Generated[] {
  const r = rng(seed);
  const zones = join(dir, 'zones');
  mkdirSync(zones, { recursive: true });
  mkdirSync(join(dir, 'dkim'), { recursive: true });
  const out: Generated[] = [];
  const write = (d: string, zone: string, key: Key, tags: Set<string>) => {
    writeFileSync(join(zones, `${d}.db`), zone);
    writeFileSync(join(dir, 'dkim', `${d}.pem`), key.pem, { mode: 0o600 });
    out.push({ panel, domain: d, tags, key });
  };
  for (let i = 0; i < n; i++) {
    const d = `d${String(i).padStart(3, '0')}.${panel}.example`;
    const tags = new Set<string>();
    const keyName = r.weighted([
      ['rsa-a', 5],
      ['rsa-b', 5],
      ['rsa-c', 5],
      ['rsa1024', 1],
      ['rsa768', 1],
      ['ed-a', 2],
      ['ed-b', 1],
    ] as const satisfies readonly (readonly [KeyName, number])[]);
    tags.add(`key:${keyName}`);
    const key = keys[keyName];
    const hosts = hostsFor(r, d);
    const spf = panel === 'direct' ? directSpf(r, w, d, i, tags) : relayedSpf(r, w, d, i, tags);
    const variant = r.weighted(DKIM_VARIANTS);
    tags.add(`dkim:${variant}`);
    write(d, zoneFile(hosts, spf, dkimLines(variant, key, keys, d, w)), key, tags);
  }
  for (const h of [...HAND_MADE, ...extra].filter((x) => x.panel === panel)) {
    const d = `${h.label}.${panel}.example`;
    const hosts: Hosts = { apexA: SERVER_IP, mailA: SERVER_IP, mailAAAA: SERVER_IP6, mx: [`mail.${d}.`], ...h.hosts?.(d) };
    const spf: SpfShape = { records: h.spf(d), ...(h.ownSpf ? { ownSpf: h.ownSpf } : {}) };
    const key = keys[h.key ?? 'rsa-a'];
    const tags = new Set([`hand:${h.label}`, `dkim:${h.dkimZone ? 'hand' : (h.dkim ?? 'server')}`]);
    write(d, zoneFile(hosts, spf, h.dkimZone ? h.dkimZone(key, d, w) : dkimLines(h.dkim ?? 'server', key, keys, d, w)), key, tags);
  }
  const config = {
    server: {
      hostname: HELO,
      ips: panel === 'direct' ? [SERVER_IP, SERVER_IP6] : [SERVER_IP],
      helo: HELO,
      nameservers: ['ns1.newhost.example', 'ns2.newhost.example'],
      dkimSelector: SELECTOR,
      relay: panel === 'relayed' ? { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } : null,
    },
    accounts: [
      { user: 'root', role: 'admin' },
      { user: 'erin', role: 'customer', domains: out.map((g) => g.domain) },
    ],
  };
  writeFileSync(join(dir, 'panel.json'), JSON.stringify(config, null, 2) + '\n');
  return out;
}

/** The benchmark's panel (bench/generate.ts), its domains with the keys it wrote. */
function benchPanel(dir: string, map: ServedZoneMap): { panelDir: string; domains: Generated[] } {
  const g = generate(dir, BENCH_DOMAINS);
  for (const [origin, file] of g.zones) if (!file.startsWith(g.zonesDir)) addZoneFile(map, readFileSync(file, 'utf8'), origin);
  const domains = g.domains.map((d): Generated => {
    const zone = readFileSync(join(g.zonesDir, `${d}.db`), 'utf8');
    const spf = /^@ IN TXT "(v=spf1[^"]*)"/m.exec(zone)?.[1] ?? '';
    const tags = new Set([`bench:${spf.includes('websitewelcome') ? 'hostgator' : spf.includes('relay.mailchannels.net') ? 'relay' : 'other'}`]);
    return { panel: 'bench', domain: d, tags, key: rsaKey(createPrivateKey(readFileSync(join(g.panelDir, 'dkim', `${d}.pem`), 'utf8'))) };
  });
  return { panelDir: g.panelDir, domains };
}

// ---- running both sides ----

export interface Finding {
  rule: string;
  check: string;
  severity: string;
  message: string;
  subject?: string;
}

/**
 * The judges' processes still running. When one judge fails, its test's set-up fails at once while the others go on
 * asking a DNS server the test then closes (each query waiting out its timeout): stopJudges(), in the test's after(),
 * ends them.
 */
const running = new Set<ChildProcess>();

/** Counts `child` among the judges stopJudges() ends (until it exits). */
export function trackJudge(child: ChildProcess): void {
  running.add(child);
  child.on('exit', () => running.delete(child));
}

/** Ends the judges' processes still running (see `running`). */
export function stopJudges(): void {
  for (const child of running) child.kill();
  running.clear();
}

/** Runs audit-verdicts.py (pyspf, dkimpy) over `input` ({port, spf: [...], dkim: [...]}) and gives its JSON answer. */
export function runOracle(python: string, input: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [ORACLE], { stdio: ['pipe', 'pipe', 'pipe'] });
    trackJudge(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`audit-verdicts.py exited ${code}:\n${err}`))));
    child.stdin.end(JSON.stringify(input));
  });
}

/** The addresses pyspf is asked about for a domain: the server's (or the relay's probes). */
export const spfProbes = (g: Generated): string[] => (g.panel === 'direct' ? [SERVER_IP, SERVER_IP6] : RELAY_PROBES);
/** And the strangers' (the direct server has an IPv6 address: so do strangers). */
export const strangers = (g: Generated): string[] => (g.panel === 'direct' ? [STRANGER_IP, STRANGER_IP6] : [STRANGER_IP]);

export interface SpfAnswer {
  result: string;
  explanation: string;
}
export interface DkimAnswer {
  status: string;
  records: string[];
  each: { ok: boolean; error: string | null }[];
}
export interface OracleSays {
  probes: SpfAnswer[];
  strangers: SpfAnswer[];
  dkim: DkimAnswer;
}

/**
 * Every domain's judges' answers, in `parts` python processes side by side (each asks the same loopback server; the
 * answers do not depend on how the domains are split).
 */
export async function judge(python: string, port: number, domains: readonly Generated[], parts: number): Promise<Map<string, OracleSays>> {
  const slices = Array.from({ length: parts }, (_, k) => domains.filter((_, i) => i % parts === k));
  const out = new Map<string, OracleSays>();
  await Promise.all(
    slices.map(async (slice) => {
      const spf = slice.flatMap((g) => [...spfProbes(g), ...strangers(g)].map((ip) => ({ ip, sender: `postmaster@${g.domain}`, helo: HELO })));
      const res = await runOracle(python, { port, spf, dkim: slice.map((g) => ({ domain: g.domain, selector: SELECTOR, ...g.key.dkimpy })) });
      let k = 0;
      slice.forEach((g, i) => {
        const n = spfProbes(g).length;
        const m = strangers(g).length;
        const answers = res.spf.slice(k, k + n + m) as SpfAnswer[];
        k += n + m;
        out.set(g.domain, { probes: answers.slice(0, n), strangers: answers.slice(n), dkim: res.dkim[i] });
      });
    }),
  );
  return out;
}

// ---- the verdicts ----

/** The rules whose findings say receivers answer permerror (src/core/checks/spf.ts PERMERROR_RULES). */
export const PERMERROR_RULES = new Set(['spf.multiple', 'spf.syntax', 'spf.too-many-lookups', 'spf.void-lookups']);

export interface MhSpf {
  /** "none": no SPF record receivers recognise; "broken": a permerror-class finding; else "ok". */
  record: 'none' | 'broken' | 'ok';
  /** Per probe (direct: per server address; relay: one verdict for the relay, repeated): authorised or not. */
  authorised: boolean[];
  /** The findings said, for messages. */
  rules: string[];
}

/** mailhealth's SPF verdicts from its findings. */
export function mhSpf(g: Generated, fs: readonly Finding[]): MhSpf {
  const spf = fs.filter((f) => f.check === 'spf');
  // A TXT record meant as SPF whose version tag receivers do not recognise: receivers see no SPF record.
  const none = spf.some((f) => f.rule === 'spf.missing' || (f.rule === 'spf.syntax' && /is meant as the SPF record/.test(f.message)));
  const broken = spf.some((f) => PERMERROR_RULES.has(f.rule) && f.severity === 'fail' && !/is meant as the SPF record/.test(f.message));
  // No record receivers recognise authorises nobody (spf.missing says so, without spf.server-not-authorized).
  const denied = (ip: string) => none || spf.some((f) => f.rule === 'spf.server-not-authorized' && (g.panel !== 'direct' || f.subject === ip));
  return {
    record: none ? 'none' : broken ? 'broken' : 'ok',
    authorised: spfProbes(g).map((ip) => !denied(ip)),
    rules: spf.filter((f) => f.severity !== 'info').map((f) => `${f.severity} ${f.rule}${f.subject ? ` [${f.subject}]` : ''}${f.rule === 'spf.server-not-authorized' || PERMERROR_RULES.has(f.rule) ? ` «${f.message}»` : ''}`),
  };
}

/** mailhealth's DKIM verdict at the server's selector: dkim.ok and no failing finding there. */
export function mhDkimWorks(fs: readonly Finding[]): boolean {
  const here = fs.filter((f) => f.check === 'dkim' && f.subject === SELECTOR);
  return here.some((f) => f.rule === 'dkim.ok') && !here.some((f) => f.severity === 'fail');
}

// ---- mailhealth against two SPF libraries (spf-second-judge.test.ts, spf-libspf2-judge.test.ts) ----

export type SpfAspect = 'spf-record' | 'spf-auth';

/** The permerror result (a library's answer that says the record is broken, unless a test says more). */
const permerror = (a: SpfAnswer) => a.result === 'permerror';

/** A library's record verdict: none for every probe, else broken when any address gets a result `broken` says is one, else ok. */
function libRecord(g: Generated, as: readonly SpfAnswer[], broken: (a: SpfAnswer) => boolean = permerror): string {
  const probes = as.slice(0, spfProbes(g).length);
  return probes.every((a) => a.result === 'none') ? 'none' : as.some(broken) ? 'broken' : 'ok';
}

/** A library's authorisation verdicts: per server address, or the relay's (every probe passes). */
function libAuth(g: Generated, as: readonly SpfAnswer[]): string[] {
  const probes = as.slice(0, spfProbes(g).length).map((a) => a.result);
  const auth = (ok: boolean) => (ok ? 'authorised' : 'not authorised');
  if (g.panel === 'direct') return spfProbes(g).map((ip, i) => `${ip}: ${auth(probes[i] === 'pass')} (${probes[i]})`);
  return [`relay: ${auth(probes.every((r) => r === 'pass'))} (${probes.join(', ')})`];
}

/** The verdict without its bracketed detail. */
export const base = (s: string) => s.replace(/ \(.*\)$/, '');

/** One compared verdict: what each side says (with its check_host result in brackets, for a library). */
export interface Compared {
  aspect: SpfAspect;
  /** [mailhealth, the first library, the second]. */
  says: [string, string, string];
  /** The three say the same, but for the brackets. */
  agree: boolean;
}

/**
 * One domain's SPF verdicts — the record's, then the authorisation's (per server address, or the relay's) — from
 * mailhealth's findings `fs` and two libraries' answers (the probes' then the strangers'); `broken` reads a library's
 * answer as a broken record (permerror).
 */
export function compareSpf(g: Generated, fs: readonly Finding[], first: readonly SpfAnswer[], second: readonly SpfAnswer[], broken: (a: SpfAnswer) => boolean = permerror): Compared[] {
  const m = mhSpf(g, fs);
  const row = (aspect: SpfAspect, mailhealth: string, a: string, b: string): Compared => ({ aspect, says: [mailhealth, a, b], agree: base(mailhealth) === base(a) && base(a) === base(b) });
  const out = [row('spf-record', m.record, libRecord(g, first, broken), libRecord(g, second, broken))];
  const fa = libAuth(g, first);
  const sa = libAuth(g, second);
  const auth = (ok: boolean) => (ok ? 'authorised' : 'not authorised');
  if (g.panel === 'direct') spfProbes(g).forEach((ip, i) => out.push(row('spf-auth', `${ip}: ${auth(m.authorised[i])}`, fa[i], sa[i])));
  else out.push(row('spf-auth', `relay: ${auth(m.authorised[0])}`, fa[0], sa[0]));
  return out;
}

// ---- the world, served; the audit ----

/** The generated world: its domains, their zone files, what the DNS server is to serve, and the panels. */
export interface VerdictWorld {
  /** bench's domains, then direct's and relayed's (each panel's hand-made ones after its generated ones). */
  domains: Generated[];
  /** Each domain's zone file (for messages). */
  zoneOf: Map<string, string>;
  /** Every name the loopback DNS server serves: the panels' zones, bench's provider zones and the World. */
  map: ServedZoneMap;
  /** Each panel's root (a files panel with its panel.json, zones/ and dkim/). */
  panels: Record<PanelName, string>;
}

/** Generates the three panels under `root` (fresh keys; fixed seeds), `extra` hand-made domains after HAND_MADE. */
export function buildVerdictWorld(root: string, extra: readonly HandMade[] = []): VerdictWorld {
  const keys = makeKeys();
  const map: ServedZoneMap = {};
  const bench = benchPanel(join(root, 'bench'), map);
  const w = new World();
  commonWorld(w);
  const panels: Record<PanelName, string> = { bench: bench.panelDir, direct: join(root, 'direct'), relayed: join(root, 'relayed') };
  const domains = [
    ...bench.domains,
    ...generatePanel('direct', panels.direct, DIRECT_DOMAINS, 7208, keys, w, extra),
    ...generatePanel('relayed', panels.relayed, RELAYED_DOMAINS, 6376, keys, w, extra),
  ];
  for (const [name, data] of Object.entries(w.map)) map[name] = data;
  const zoneOf = new Map<string, string>();
  for (const panel of Object.keys(panels) as PanelName[]) {
    const zones = join(panels[panel], 'zones');
    for (const f of readdirSync(zones).filter((x) => x.endsWith('.db'))) {
      const text = readFileSync(join(zones, f), 'utf8');
      zoneOf.set(f.slice(0, -3), text);
      addZoneFile(map, text, f.slice(0, -3));
    }
  }
  return { domains, zoneOf, map, panels };
}

/** mailhealth's findings for every domain of the world: each panel audited through the CLI, asking `dns` only. */
export async function auditPanels(world: VerdictWorld, dns: DnsServer, root: string): Promise<Map<string, Finding[]>> {
  const audited = new Map<string, Finding[]>();
  await Promise.all(
    (Object.keys(world.panels) as PanelName[]).map(async (panel) => {
      const base = ['--panel', 'files', '--panel-root', world.panels[panel], '--resolver', dns.address, '--authoritative-port', String(dns.port), '--db', join(root, `${panel}.sqlite`)];
      const r = await cli([...base, 'audit', '--all', '--json', '--no-history'], { timeout: 120_000 });
      assert.ok(r.code === 0 || r.code === 1, `${panel}: audit exit ${r.code}: ${r.stderr}`);
      for (const d of JSON.parse(r.stdout).domains as { domain: string; findings: Finding[] }[]) audited.set(d.domain, d.findings);
    }),
  );
  return audited;
}
