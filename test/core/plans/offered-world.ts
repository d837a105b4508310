// The generated domains of the "a fix changes a zone only where a finding offers it" property test
// (offered-invariant.test.ts): SPF, DKIM, DMARC and Domain Lockdown records drawn from realistic pieces — clean ones, a
// previous host's leftovers, mail-service includes, odd spellings, unknown tags, reordered tags, extra whitespace,
// duplicates, records over 255 octets — for a server that delivers its own mail and one that relays through
// MailChannels, written as files-panel zones (test/helpers/scenario.ts) and served by its loopback DNS server. Seeded
// (test/helpers/prng.ts): every run generates the same domains; a failure names the seed's domain and its zone.
// Also: the record pieces that vary the verification world's DMARC and lockdown records (test/helpers/verdict-world.ts
// generates SPF and DKIM records there but gives every domain `v=DMARC1; p=none` and no _mailchannels record).
import type { ServedZoneMap } from '../../../src/adapters/dns/server.js';
import { corpusPath, readCorpus } from '../../helpers/corpora.js';
import type { Rng } from '../../helpers/prng.js';
import { dkimRdata, otherRsaKey, rsaKey, type DomainSpec } from '../../helpers/scenario.js';

export const SERVER_IP = '203.0.113.10';
export const AUTH_ID = 'newhostmc';

/** A TXT record's zone-file rdata from its strings (quoted, `"` and `\` escaped). */
export function txtRdata(strings: readonly string[]): string {
  return `( ${strings.map((s) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(' ')} )`;
}

/** A record's text as strings: one (also one over 255 octets: the panel's zone can hold it), or cut every `at` octets. */
function cut(text: string, how: 'one' | 'split' | 'mid'): string[] {
  if (how === 'one') return [text];
  const at = how === 'split' ? 250 : 1 + (text.length >> 1);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += at) out.push(text.slice(i, i + at));
  return out;
}

const pickCut = (r: Rng, text: string): 'one' | 'split' | 'mid' => (text.length > 250 ? r.pick(['one', 'split', 'split'] as const) : r.chance(0.12) ? 'mid' : 'one');

// ---- SPF ----

/** Terms a record may hold: this server's, a mail service's, a previous host's, odd ones. */
const SPF_OWN = ['a', 'mx', '+a', '+mx', `ip4:${SERVER_IP}`, 'ip4:203.0.113.0/24', 'a:mail.{DOMAIN}', 'mx:{DOMAIN}'];
const SPF_SERVICE = ['include:_spf.google.com', 'include:relay.mailchannels.net', '?include:_spf.google.com', '~include:relay.mailchannels.net'];
const SPF_OLD = ['include:websitewelcome.com', 'ip4:192.185.1.10', 'a:gator4000.hostgator.com', 'include:spf.oldprovider.test', '-include:websitewelcome.com'];
const SPF_ODD = [
  'ptr',
  'moo=bar',
  'ip4:198.51.100.0/24',
  'ip4:203.0.113.300',
  'a:gone.nowhere.example',
  'mx:gone2.nowhere.example',
  'include:gone.nowhere.example',
  'exists:%{i}.nowhere.example',
  'exp=explain.{DOMAIN}',
  'ip6:2001:db8:10::/48',
  'a/24',
  'ip4:0.0.0.0/1',
  'include:{DOMAIN}',
  'Include:_spf.google.com',
  'MX',
  '-ip4:203.0.113.10',
  '~ip4:203.0.113.0/24',
  // A name whose DNS answers SERVFAIL (SERVFAIL_NAME): DNS trouble, never a reason to change the zone.
  'include:broken.servfail.example',
  'a:broken.servfail.example',
];

/** A name the world answers SERVFAIL for (the test's served data marks it so). */
export const SERVFAIL_NAME = 'broken.servfail.example';
const SPF_ALL = ['-all', '~all', '~all', '?all', '+all', '', 'redirect=_spf.google.com', '-all redirect=_spf.google.com', '-all a', '~all -all'];

function spfText(r: Rng, relayed: boolean): string {
  const terms: string[] = [];
  const n = r.int(5);
  for (let k = 0; k < n; k++) {
    const pool = r.pick([SPF_OWN, SPF_OWN, SPF_SERVICE, SPF_OLD, SPF_ODD]);
    terms.push(r.pick(pool));
  }
  if (relayed && r.chance(0.6)) terms.splice(r.int(terms.length + 1), 0, 'include:relay.mailchannels.net');
  if (!relayed && r.chance(0.5)) terms.splice(r.int(terms.length + 1), 0, r.pick(['a', 'mx', `ip4:${SERVER_IP}`]));
  // A term written twice.
  if (terms.length && r.chance(0.1)) terms.push(r.pick(terms));
  // Over 255 octets: a run of ip4 ranges (a host's own list of its networks).
  if (r.chance(0.07)) for (let k = 0; k < 22; k++) terms.splice(r.int(terms.length + 1), 0, `ip4:198.18.${k}.0/24`);
  const all = r.pick(SPF_ALL);
  if (all) terms.push(all);
  // A redirect= written before other terms (RFC 7208 §6: a modifier may stand anywhere).
  if (!all.includes('redirect=') && r.chance(0.04)) terms.splice(r.int(terms.length + 1), 0, 'redirect=_spf.google.com');
  const version = r.chance(0.06) ? r.pick(['V=SPF1', 'v=SPF1']) : 'v=spf1';
  const sep = r.chance(0.08) ? '  ' : ' ';
  return [version, ...terms].join(sep) + (r.chance(0.05) ? ' ' : '');
}

/** Strings that lose the space at one cut (two terms run together, RFC 7208 §3.3), or the version's. */
function runTogether(text: string, r: Rng): string[] {
  const spaces = [...text.matchAll(/ /g)].map((m) => m.index!);
  if (!spaces.length) return [text];
  const at = r.chance(0.3) ? spaces[0] : r.pick(spaces);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** The apex SPF lines: none, one (maybe cut), two, or one beside a verification token. */
function spfLines(r: Rng, relayed: boolean): string[] {
  const shape = r.pick(['one', 'one', 'one', 'one', 'one', 'one', 'two', 'none', 'token'] as const);
  if (shape === 'none') return [];
  const text = spfText(r, relayed);
  const lines = [`@\tIN\tTXT\t${txtRdata(r.chance(0.04) ? runTogether(text, r) : cut(text, pickCut(r, text)))}`];
  if (shape === 'two') lines.push(`@\tIN\tTXT\t${txtRdata([r.chance(0.3) ? text : spfText(r, relayed)])}`);
  if (shape === 'token') lines.push(`@\tIN\tTXT\t"google-site-verification=abc123"`);
  return lines;
}

// ---- DKIM (at the server's selector, `default`) ----

const DKIM_VARIANTS = [
  'server',
  'server',
  'server',
  'spaces',
  'reordered',
  'v-late',
  'unknown-tag',
  'notes',
  'no-k',
  'trailing-semicolon',
  'testing',
  'h-sha256',
  'h-sha1',
  's-email',
  'other',
  'old-beside',
  'two-copies',
  'missing',
  'one-long-string',
  'revoked',
  'cname-server',
  'cname-other',
  'token-beside',
  'weak',
  'k-mismatch',
  'g-tag',
  'bare-rsa',
  'h-both',
  'cname-dangling',
  'cname-servfail',
] as const;
type DkimVariant = (typeof DKIM_VARIANTS)[number];

function dkimPart(r: Rng, d: string, world: string[]): { lines: string[]; variant: DkimVariant; pem?: string } {
  const v = r.pick(DKIM_VARIANTS);
  const mine = rsaKey().publicB64;
  const theirs = otherRsaKey().publicB64;
  const owner = 'default._domainkey';
  const line = (text: string, how: 'split' | 'one' = 'split') => `${owner}\tIN\tTXT\t${txtRdata(cut(text, how))}`;
  switch (v) {
    case 'server':
      return { lines: [`${owner}\tIN\tTXT\t${dkimRdata(mine)}`], variant: v };
    case 'spaces':
      return { lines: [line(`v=DKIM1;  k=rsa ;  p=${mine}`)], variant: v };
    case 'reordered':
      return { lines: [line(`v=DKIM1; p=${mine}; k=rsa`)], variant: v };
    case 'v-late':
      return { lines: [line(`k=rsa; v=DKIM1; p=${mine}`)], variant: v };
    case 'unknown-tag':
      return { lines: [line(`v=DKIM1; k=rsa; foo=bar; p=${mine}`)], variant: v };
    case 'notes':
      return { lines: [line(`v=DKIM1; k=rsa; n=set up by the host; p=${mine}`)], variant: v };
    case 'no-k':
      return { lines: [line(`v=DKIM1; p=${mine}`)], variant: v };
    case 'trailing-semicolon':
      return { lines: [line(`v=DKIM1; k=rsa; p=${mine};`)], variant: v };
    case 'testing':
      return { lines: [`${owner}\tIN\tTXT\t${dkimRdata(mine, 't=y')}`], variant: v };
    case 'h-sha256':
      return { lines: [`${owner}\tIN\tTXT\t${dkimRdata(mine, 'h=sha256')}`], variant: v };
    case 'h-sha1':
      return { lines: [`${owner}\tIN\tTXT\t${dkimRdata(mine, 'h=sha1')}`], variant: v };
    case 's-email':
      return { lines: [`${owner}\tIN\tTXT\t${dkimRdata(mine, 's=email')}`], variant: v };
    case 'other':
      return { lines: [`${owner}\tIN\tTXT\t${dkimRdata(theirs)}`], variant: v };
    case 'old-beside':
      return { lines: [`${owner}\tIN\tTXT\t${dkimRdata(theirs)}`, `${owner}\tIN\tTXT\t${dkimRdata(mine)}`], variant: v };
    case 'two-copies':
      return { lines: [`${owner}\tIN\tTXT\t${dkimRdata(mine)}`, `${owner}\tIN\tTXT\t${dkimRdata(mine)}`], variant: v };
    case 'missing':
      return { lines: [], variant: v };
    case 'one-long-string':
      return { lines: [line(`v=DKIM1; k=rsa; p=${mine}`, 'one')], variant: v };
    case 'revoked':
      return { lines: [line('v=DKIM1; k=rsa; p=')], variant: v };
    case 'cname-server':
      world.push(`${d}.keys.dkimhost.example.\tTXT\t${dkimRdata(mine)}`);
      return { lines: [`${owner}\tIN\tCNAME\t${d}.keys.dkimhost.example.`], variant: v };
    case 'cname-other':
      world.push(`${d}.keys.dkimhost.example.\tTXT\t${dkimRdata(theirs)}`);
      return { lines: [`${owner}\tIN\tCNAME\t${d}.keys.dkimhost.example.`], variant: v };
    case 'token-beside':
      return { lines: [`${owner}\tIN\tTXT\t${dkimRdata(mine)}`, `${owner}\tIN\tTXT\t"verification=xyz"`], variant: v };
    case 'weak': {
      // The server signs with a 1024-bit key (RFC 8301's minimum), published as it is.
      const k = rsaKey(1024);
      return { lines: [`${owner}\tIN\tTXT\t${dkimRdata(k.publicB64)}`], variant: v, pem: k.privatePem };
    }
    case 'k-mismatch':
      return { lines: [line(`v=DKIM1; k=ed25519; p=${mine}`)], variant: v };
    case 'g-tag':
      return { lines: [line(`v=DKIM1; k=rsa; g=*; p=${mine}`)], variant: v };
    case 'bare-rsa': {
      // p= as a bare RSAPublicKey (the SubjectPublicKeyInfo without its 24-octet header): RFC 6376 allows it.
      const bare = Buffer.from(mine, 'base64').subarray(24).toString('base64');
      return { lines: [line(`v=DKIM1; k=rsa; p=${bare}`)], variant: v };
    }
    case 'h-both':
      return { lines: [`${owner}\tIN\tTXT\t${dkimRdata(mine, 'h=sha1:sha256')}`], variant: v };
    case 'cname-dangling':
      return { lines: [`${owner}\tIN\tCNAME\t${d}.nowhere.example.`], variant: v };
    case 'cname-servfail':
      return { lines: [`${owner}\tIN\tCNAME\tbroken.servfail.example.`], variant: v };
  }
}

// ---- DMARC ----

/** Report addresses: the domain's own, a previous host's, a report service's (authorised), another domain's (not). */
function reportUri(r: Rng, d: string, world: string[]): string {
  const kind = r.pick(['own', 'own', 'own', 'old', 'service', 'elsewhere', 'sized', 'no-scheme'] as const);
  switch (kind) {
    case 'own':
      return r.pick([`mailto:dmarc@${d}`, `mailto:postmaster@${d}`, `mailto:reports@${d}`]);
    case 'old':
      return r.pick(['mailto:dmarc@websitewelcome.com', 'mailto:dmarc-reports@bluehost.com']);
    case 'service':
      world.push(`${d}._report._dmarc.dmarc.postmarkapp.com.\tTXT\t"v=DMARC1"`);
      return `mailto:re+abc@dmarc.postmarkapp.com`;
    case 'elsewhere':
      return 'mailto:dmarc@customer-owned.example';
    case 'sized':
      return `mailto:dmarc@${d}!10m`;
    case 'no-scheme':
      return `dmarc@${d}`;
  }
}

/** checkdmarc's vectors (../shared/corpora), the records only — or nothing when the corpora are absent. */
export function dmarcCorpus(): string[] {
  if (!corpusPath('dmarc/checkdmarc-dmarc-vectors.json')) return [];
  return (JSON.parse(readCorpus('dmarc/checkdmarc-dmarc-vectors.json')) as { record: string }[]).map((v) => v.record);
}

/** MailChannels' documented examples (../shared/corpora), or nothing when absent. */
export function lockdownCorpus(): string[] {
  if (!corpusPath('mailchannels/lockdown-examples.json')) return [];
  return (JSON.parse(readCorpus('mailchannels/lockdown-examples.json')) as { cases: { txt: string }[] }).cases.map((c) => c.txt);
}

function dmarcText(r: Rng, d: string, world: string[], corpus: readonly string[]): string {
  if (corpus.length && r.chance(0.2)) return r.pick(corpus);
  const tags: [string, string][] = [];
  tags.push(['p', r.pick(['none', 'none', 'quarantine', 'reject', 'Reject'])]);
  if (r.chance(0.25)) tags.push(['sp', r.pick(['none', 'quarantine', 'reject'])]);
  if (r.chance(0.7)) {
    const n = 1 + (r.chance(0.2) ? 1 : 0);
    tags.push(['rua', Array.from({ length: n }, () => reportUri(r, d, world)).join(',')]);
  }
  if (r.chance(0.2)) tags.push(['ruf', reportUri(r, d, world)]);
  if (r.chance(0.15)) tags.push(['fo', r.pick(['1', '0', 'd:s'])]);
  if (r.chance(0.15)) tags.push([r.pick(['adkim', 'aspf']), r.pick(['r', 's'])]);
  if (r.chance(0.1)) tags.push(['pct', r.pick(['100', '50'])]);
  if (r.chance(0.06)) tags.push(['ri', r.pick(['86400', '3600'])]);
  if (r.chance(0.05)) tags.push(['rf', 'afrf']);
  if (r.chance(0.04)) tags.push(['np', 'reject']);
  if (r.chance(0.04)) tags.push(['t', 'y']);
  // Values OpenDMARC refuses, or that are not valid.
  if (r.chance(0.04)) tags.push(r.pick([['rf', 'xml'], ['ri', 'daily'], ['p', 'foo'], ['sp', 'invalid'], ['pct', '150'], ['fo', 'x'], ['adkim', 'x']] as [string, string][]));
  // Unknown tags receivers ignore.
  if (r.chance(0.12)) tags.splice(1 + r.int(tags.length), 0, [r.pick(['foo', 'x-note', 'rp']), r.pick(['bar', 'set-by-host', '1'])]);
  // Reordered: p after another tag (RFC 7489's grammar puts it second; receivers read it anywhere).
  if (r.chance(0.12) && tags.length > 1) tags.push(tags.shift()!);
  // A record without p=.
  if (r.chance(0.04)) tags.splice(tags.findIndex(([k]) => k === 'p'), 1);
  // A tag written twice.
  if (tags.length && r.chance(0.03)) tags.push(r.pick(tags));
  const version = r.chance(0.06) ? r.pick(['V=DMARC1', 'v = DMARC1', 'v=dmarc1']) : 'v=DMARC1';
  const sep = r.pick(['; ', '; ', '; ', ';', ' ; ', ';  ']);
  return [version, ...tags.map(([k, v]) => `${k}=${v}`)].join(sep) + (r.chance(0.15) ? ';' : '');
}

/** The _dmarc lines: none, one (maybe cut, maybe over 255 octets), two, one beside a token, or an alias. */
export function dmarcLines(r: Rng, d: string, world: string[], corpus: readonly string[]): string[] {
  const shape = r.pick(['one', 'one', 'one', 'one', 'one', 'one', 'one', 'none', 'two', 'token', 'long', 'meant-beside', 'meant', 'alias', 'copies'] as const);
  if (shape === 'none') return [];
  if (shape === 'alias') {
    // A DMARC service's alias: publishing there, or dangling.
    if (r.chance(0.7)) world.push(`${d}.dmarc.reports.example.\tTXT\t"v=DMARC1; p=none; rua=mailto:agg@dmarc.reports.example"`);
    return [`_dmarc\tIN\tCNAME\t${d}.dmarc.reports.example.`];
  }
  if (shape === 'meant') return [`_dmarc\tIN\tTXT\t${txtRdata([r.pick(['v=DMARC1 p=reject', 'p=quarantine; v=DMARC1', ' v=DMARC1; p=none', 'v=dmarc1; p=reject'])])}`];
  let text = dmarcText(r, d, world, corpus);
  if (shape === 'long') text = `v=DMARC1; p=${r.pick(['none', 'quarantine'])}; rua=${Array.from({ length: 9 }, (_, k) => `mailto:dmarc-reports-${k}@${d}`).join(',')}`;
  const lines = [`_dmarc\tIN\tTXT\t${txtRdata(cut(text, pickCut(r, text)))}`];
  if (shape === 'two') lines.push(`_dmarc\tIN\tTXT\t${txtRdata([dmarcText(r, d, world, corpus)])}`);
  if (shape === 'token') lines.push(`_dmarc\tIN\tTXT\t"google-site-verification=zzz"`);
  if (shape === 'meant-beside') lines.push(`_dmarc\tIN\tTXT\t"v=DMARC1 p=reject"`);
  if (shape === 'copies') lines.push(lines[0]);
  return lines;
}

// ---- Domain Lockdown ----

const LOCKDOWN_PIECES = [
  `v=mc1 auth=${AUTH_ID}`,
  `v=mc1 auth=${AUTH_ID}`,
  `v=mc1 auth=${AUTH_ID}`,
  'v=mc1 auth=dreamhost',
  `v=mc1 auth=${AUTH_ID} auth=dreamhost`,
  `v=mc1 auth=dreamhost auth=${AUTH_ID}`,
  `v=mc1  auth=${AUTH_ID}`,
  `v=mc1 auth=${AUTH_ID} `,
  `V=MC1 AUTH=${AUTH_ID}`,
  `v=mc1 auth=${AUTH_ID} auth=${AUTH_ID}`,
  `v=mc1 auth=${AUTH_ID.toUpperCase()}`,
  `v=mc1 auth=${AUTH_ID} auth=customer-own`,
  `v=mc1 auth=customer-own auth=${AUTH_ID}`,
  `v=mc1 senderid=${AUTH_ID}|x-authuser|joe@{DOMAIN}`,
  `v=mc1 auid=${AUTH_ID}`,
  `v=mc1 auth=${AUTH_ID} auid=${AUTH_ID}`,
  `v=mc1; auth=${AUTH_ID}`,
  `v=mc1 auth=${AUTH_ID},dreamhost`,
  `v=mc1 cfid=example.workers.dev auth=${AUTH_ID}`,
  `auth=${AUTH_ID} v=mc1`,
  `v=mc1 auth=${AUTH_ID} foo=bar`,
  `v=mc1 sidw=${AUTH_ID}|x-authuser|*@{DOMAIN}`,
  `v=mc1 senderid=${AUTH_ID}|x-authuser|a b`,
  `v=mc1 auth=hostgator`,
  'v=mc1',
];

export function lockdownLines(r: Rng, d: string, corpus: readonly string[], world: string[]): string[] {
  const shape = r.pick(['one', 'one', 'one', 'one', 'none', 'none', 'two', 'token', 'copies', 'alias'] as const);
  if (shape === 'none') return [];
  if (shape === 'alias') {
    if (r.chance(0.7)) world.push(`${d}.lockdown.example.\tTXT\t"${r.pick([`v=mc1 auth=${AUTH_ID}`, 'v=mc1 auth=dreamhost'])}"`);
    return [`_mailchannels\tIN\tCNAME\t${d}.lockdown.example.`];
  }
  const text = () => (corpus.length && r.chance(0.25) ? r.pick(corpus) : r.pick(LOCKDOWN_PIECES)).replaceAll('{DOMAIN}', d);
  const lines = [`_mailchannels\tIN\tTXT\t${txtRdata([text()])}`];
  if (shape === 'two') lines.push(`_mailchannels\tIN\tTXT\t${txtRdata([text()])}`);
  if (shape === 'token') lines.push(`_mailchannels\tIN\tTXT\t"verification=mc-abc"`);
  if (shape === 'copies') lines.push(lines[0]);
  return lines;
}

// ---- whole domains ----

/**
 * A zone text as a DNS server serves it: a string over 255 octets (which the panel's zone may hold, and which the DNS
 * wire cannot carry — BIND refuses such a zone, other servers split it) as strings of at most 255 octets. The loopback
 * server would otherwise send a malformed answer, which no real server does.
 */
export function servable(zone: string): string {
  return zone.replace(/"((?:[^"\\]|\\.)*)"/g, (whole, s: string) => {
    if (Buffer.byteLength(s) <= 255) return whole;
    const parts: string[] = [];
    for (let i = 0; i < s.length; i += 250) parts.push(`"${s.slice(i, i + 250)}"`);
    return parts.join(' ');
  });
}

export interface OfferedDomain {
  domain: string;
  spec: DomainSpec;
  /** What was drawn, for messages. */
  tags: string[];
}

/**
 * One generated domain of a files panel whose server delivers itself (`relayed` false) or relays through MailChannels:
 * its zone (this server's SOA/NS unless its DNS is served elsewhere), its MX, the four kinds of record; world lines
 * (absolute names) it needs are pushed onto `world`.
 */
export function generateDomain(r: Rng, d: string, relayed: boolean, world: string[], corpora: { dmarc: readonly string[]; lockdown: readonly string[] }): OfferedDomain {
  const tags: string[] = [];
  const elsewhere = r.chance(0.08);
  const dkim = dkimPart(r, d, world);
  tags.push(`dkim:${dkim.variant}`);
  const mx = r.pick([['10 mail'], ['10 mail'], ['10 mail'], ['10 aspmx.l.google.com.'], ['10 mail', '20 gator4000.hostgator.com.'], ['0 .'], ['10 broken.servfail.example.']]);
  const lines = [
    '$TTL 3600',
    `@\tIN\tSOA\t${elsewhere ? 'ns1.hostgator.com.' : 'ns1.newhost.example.'} hostmaster.newhost.example. ( 2024010101 3600 1800 1209600 300 )`,
    ...(elsewhere ? ['ns1.hostgator.com.', 'ns2.hostgator.com.'] : ['ns1.newhost.example.', 'ns2.newhost.example.']).map((n) => `@\tIN\tNS\t${n}`),
    `@\tIN\tA\t${SERVER_IP}`,
    `mail\tIN\tA\t${r.chance(0.85) ? SERVER_IP : '192.185.1.10'}`,
    ...mx.map((m) => `@\tIN\tMX\t${m}`),
    ...spfLines(r, relayed),
    ...dmarcLines(r, d, world, corpora.dmarc),
    ...dkim.lines,
    ...lockdownLines(r, d, corpora.lockdown, world),
  ];
  if (elsewhere) tags.push('dns:elsewhere');
  const zone = lines.join('\n') + '\n';
  // Where DNS is served elsewhere, the live records may differ from the panel's copy (the customer edited there).
  const edited = elsewhere && r.chance(0.5) ? zone.replace(/^_dmarc\t.*$/gm, '').replace(/^_mailchannels\t.*$/gm, '') : zone;
  const live = servable(edited);
  const overrides: DomainSpec['overrides'] = {};
  if (r.chance(0.08)) overrides.mailRouting = 'remote';
  if (r.chance(0.06)) overrides.dkim = false;
  const pem = r.chance(0.05) ? null : dkim.pem;
  if (pem === null) tags.push('no-key');
  if (overrides.mailRouting) tags.push('routing:remote');
  if (overrides.dkim === false) tags.push('signing:off');
  return { domain: d, spec: { zone, ...(live !== zone ? { live } : {}), ...(pem !== undefined ? { pem } : {}), ...(Object.keys(overrides).length ? { overrides } : {}) }, tags };
}

/** The verification world's zone with its DMARC record replaced and a _mailchannels record maybe added. */
export function varyVerdictZone(r: Rng, d: string, zone: string, world: ServedZoneMap, corpora: { dmarc: readonly string[]; lockdown: readonly string[] }): string {
  const extra: string[] = [];
  const dmarc = dmarcLines(r, d, extra, corpora.dmarc);
  const lockdown = lockdownLines(r, d, corpora.lockdown, extra);
  // World lines the pieces need (report authorisations, aliases' targets): absolute names, one TXT each.
  for (const l of extra) {
    const [name, , rdata] = l.split('\t');
    const key = name.replace(/\.$/, '').toLowerCase();
    ((world[key] ??= {}).TXT ??= []).push([rdata.replace(/^"|"$/g, '')]);
  }
  return zone.replace(/^_dmarc IN TXT "v=DMARC1; p=none"$/m, [...dmarc, ...lockdown].join('\n'));
}
