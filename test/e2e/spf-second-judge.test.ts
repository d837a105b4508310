// A second, independent SPF judge: over the same generated domains and sender addresses as
// test/e2e/audit-verdicts-oracles.test.ts (test/helpers/verdict-world.ts builds the world, serves it on loopback and
// audits it through the CLI), Perl's Mail::SPF (Debian's libmail-spf-perl, Julian Mehnle's RFC 4408 implementation,
// with RFC 7208's void-lookup limit; test/fixtures/oracles/spf-judge.pl, limits set to RFC 7208 §4.6.4's 10 lookups and
// 2 void lookups) answers check_host(<ip>, <domain>, postmaster@<domain>) beside pyspf, and the three — mailhealth,
// pyspf, Mail::SPF — are compared on the same two verdicts the audit test compares:
// - `spf-record`: "none" (no SPF record receivers recognise), "broken" (mailhealth: a permerror-class fail finding;
//   a library: permerror for the server or a stranger), else "ok";
// - `spf-auth`, per server address (direct) or for the relay (all five probes pass): "authorised" or not.
// Where the three do not agree, the difference is listed (DIFFERENCES, each with its reason and what each side says:
// the test asserts that it differs exactly so, and that at least one domain shows it):
// - the audit test's deliberate differences with pyspf, with what Mail::SPF says about each — it sides with pyspf on
//   two SPF records, the relay's ranges without its include, run-together valid tokens, void lookups of exists:%{i}
//   and an unevaluated redirect= (mailhealth's verdicts stand: each entry says why, with the RFC 7208 section), and
//   with mailhealth on an unknown modifier written twice. (Its two DKIM differences are not SPF's: no Mail::SPF verdict.)
// - where mailhealth and pyspf agree and Mail::SPF does not: each a Mail::SPF departure from RFC 7208, checked against
//   the RFC and its test suite (../shared/corpora/spf/pyspf-rfc7208-tests.yml);
// - where mailhealth and Mail::SPF agree and pyspf does not (on SECOND_JUDGE's hand-made domains): pyspf's.
// The two libraries' check_host results must also be identical address by address, but on the domains a difference
// says they disagree on. Neither library may answer temperror or fail to answer, and mailhealth may have no `unknown`
// finding (everything is local).
//
// Skipped with a message when no perl with Mail::SPF (apt-get install libmail-spf-perl) or no python3 with pyspf,
// dkimpy and dnspython is found (test/helpers/oracles.ts; .ci/run installs them).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDnsServer, type DnsServer } from '../../src/adapters/dns/server.js';
import { findPerlSpf, findPython, runLinesJudge } from '../helpers/oracles.js';
import {
  auditPanels,
  base,
  buildVerdictWorld,
  compareSpf,
  HELO,
  judge,
  mhSpf,
  SERVER_IP,
  spfProbes,
  stopJudges,
  STRANGER_IP,
  STRANGER_IP6,
  strangers,
  trackJudge,
  type Finding,
  type Generated,
  type HandMade,
  type SpfAnswer,
  type SpfAspect,
} from '../helpers/verdict-world.js';

const JUDGE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'oracles', 'spf-judge.pl');

// ---- the judges: a perl with Mail::SPF and a python3 with pyspf, else skip ----

const perl = findPerlSpf();
const python = findPython();
const skip = [perl, python].flatMap((x) => ('skip' in x ? [x.skip] : [])).join('; ') || false;

// ---- hand-made domains of this test (after the shared HAND_MADE): the smallest showing each difference below ----

const S4 = 'ip4:203.0.113.10';
const S6 = 'ip6:2001:db8:10::25';
const SECOND_JUDGE: HandMade[] = [
  // Strings run together into mx//64redirect=…: Mail::SPF reads a domain-spec without the ":".
  { panel: 'direct', label: 'mx-colon-missing', spf: () => [[`v=spf1 ${S4} ${S6} mx//64`, 'redirect=_spf.google.com']] },
  // 10 lookups, the server's addresses, then a redirect= that only senders nothing matched reach.
  { panel: 'direct', label: 'redirect-after-match', spf: () => [[`v=spf1 ${Array.from({ length: 10 }, (_, k) => `a:f${k}.chain.example`).join(' ')} ${S4} ${S6} redirect=_spf.google.com`]] },
  // 11 MX names, this server's the last: RFC 7208 §4.6.4 permerror; Mail::SPF looks at the first 10.
  { panel: 'direct', label: 'mx-eleven', spf: () => [['v=spf1 mx -all']], hosts: (d) => ({ mx: [...Array.from({ length: 10 }, (_, k) => `f${k}.chain.example.`), `mail.${d}.`] }) },
  // The server's IPv4 address written as an IPv4-mapped IPv6 address.
  { panel: 'direct', label: 'ip6-mapped', spf: () => [[`v=spf1 ip6:::ffff:203.0.113.10 ${S6} -all`]] },
  // An unknown modifier whose value is no macro-string (%{z}: no such macro letter).
  { panel: 'direct', label: 'modifier-bad-macro', spf: () => [[`v=spf1 moo=%{z} ${S4} ${S6} -all`]] },
  // An unknown modifier with an unterminated macro.
  { panel: 'direct', label: 'modifier-unclosed-macro', spf: () => [[`v=spf1 moo=%{i ${S4} ${S6} -all`]] },
  // %{d0}: a zero DIGIT transformer.
  { panel: 'direct', label: 'macro-d0', spf: () => [[`v=spf1 exists:%{d0}.x.%{d} ${S4} ${S6} -all`]] },
  // redirect= in capitals, to the domain's own record that lists the server.
  { panel: 'direct', label: 'modifier-case', spf: (d) => [[`v=spf1 REDIRECT=_spf.${d}`]], ownSpf: [`v=spf1 ${S4} ${S6} -all`] },
  // The domain includes itself — after the terms that match the server.
  { panel: 'direct', label: 'include-loop-after-match', spf: (d) => [[`v=spf1 ${S4} ${S6} include:${d} -all`]] },
];

// ---- Mail::SPF ----

interface MailSpfAnswer extends SpfAnswer {
  version: string;
}

function runJudge(perlPath: string, port: number, items: readonly { ip: string; sender: string; helo: string }[]): Promise<MailSpfAnswer[]> {
  return runLinesJudge<MailSpfAnswer>(perlPath, JUDGE, items.map((x) => ({ ...x, port })), trackJudge);
}

/** Mail::SPF's answers for every domain — the server's addresses (or the relay's probes), then strangers' — in `parts` processes. */
async function mailSpf(perlPath: string, port: number, domains: readonly Generated[], parts: number): Promise<Map<string, MailSpfAnswer[]>> {
  const out = new Map<string, MailSpfAnswer[]>();
  const slices = Array.from({ length: parts }, (_, k) => domains.filter((_, i) => i % parts === k));
  await Promise.all(
    slices.map(async (slice) => {
      const items = slice.flatMap((g) => [...spfProbes(g), ...strangers(g)].map((ip) => ({ ip, sender: `postmaster@${g.domain}`, helo: HELO })));
      const answers = await runJudge(perlPath, port, items);
      let k = 0;
      for (const g of slice) {
        const n = spfProbes(g).length + strangers(g).length;
        out.set(g.domain, answers.slice(k, k + n));
        k += n;
      }
    }),
  );
  return out;
}

// ---- the verdicts ----

/** One domain, judged by the three. `py`, `ms`: pyspf's and Mail::SPF's answers, the probes' then the strangers'. */
interface Judged {
  g: Generated;
  fs: Finding[];
  py: SpfAnswer[];
  ms: MailSpfAnswer[];
  zone: string;
}

type Aspect = SpfAspect;
type Side = 'mailhealth' | 'pyspf' | 'mailspf';

/** One compared verdict: what each side says (with its check_host result in brackets, for a library). */
interface Row {
  j: Judged;
  aspect: Aspect;
  mailhealth: string;
  pyspf: string;
  mailspf: string;
  agree: boolean;
}

const ipsOf = (g: Generated) => [...spfProbes(g), ...strangers(g)];

function rows(j: Judged): Row[] {
  return compareSpf(j.g, j.fs, j.py, j.ms).map(({ aspect, says: [mailhealth, pyspf, mailspf], agree }) => ({ j, aspect, mailhealth, pyspf, mailspf, agree }));
}

const detail = (j: Judged) =>
  [
    `zone:\n${j.zone.trim()}`,
    `mailhealth: ${mhSpf(j.g, j.fs).rules.join(', ') || 'no spf warning'}`,
    ...ipsOf(j.g).map((ip, i) => `${ip}: pyspf ${j.py[i].result} (${j.py[i].explanation}); Mail::SPF ${j.ms[i].result} (${j.ms[i].explanation})`),
    `tags: ${[...j.g.tags].join(' ')}`,
  ].join('\n');

// ---- the differences ----

interface Difference {
  id: string;
  /** Why the sides differ — and, where a library departs from RFC 7208, where. */
  reason: string;
  /** Whether pyspf and Mail::SPF give the same check_host results on the domains it covers (else they may differ there). */
  libraries: 'agree' | 'differ';
  /** The domains it covers. */
  applies: (j: Judged) => boolean;
  /** What each side says on those domains' rows that do not agree, per aspect: [mailhealth, pyspf, Mail::SPF]. */
  says: Partial<Record<Aspect, [mailhealth: string | RegExp, pyspf: string | RegExp, mailspf: string | RegExp]>>;
}

/** The domain is one of the generated ones tagged `tag`, or the hand-made `label`. */
const shows = (j: Judged, tag: string | null, label: string) => (tag !== null && j.g.tags.has(tag)) || j.g.tags.has(`hand:${label}`);
const permerrors = (as: readonly SpfAnswer[]) => as.filter((a) => a.result === 'permerror');
/** A stranger's address (no generated term lists it). */
const isStranger = (ip: string) => ip === STRANGER_IP || ip === STRANGER_IP6;

const AUTHORISED = /: authorised$/;
const NOT_AUTHORISED = /: not authorised$/;
const LIB_PASS = /: authorised \(pass\)$/;
const LIB_PERMERROR = /: not authorised \(permerror\)$/;

const DIFFERENCES: Difference[] = [
  // ---- the audit test's deliberate differences with pyspf: Mail::SPF sides with pyspf ----
  {
    id: 'two SPF records: mailhealth judges the server authorised when one of them authorises it; both libraries answer permerror',
    // RFC 7208 §4.5: more than one record → permerror, which both libraries answer — and mailhealth says so too:
    // spf.multiple (fail) "receivers treat that as a permanent error … SPF fails for every message", so the record
    // verdict is "broken" on all three sides. Only the authorisation verdict differs, by README "Rule ids" (spf.multiple):
    // "this server counts as authorised when one of them authorises it (the fix merges them)" — the finding to act on
    // is spf.multiple, whose fix gives receivers the merged record; a second finding saying the server is not
    // authorised would point at adding the server to records it is already in.
    reason: 'README, spf.multiple: the server is judged on the records as the fix merges them; spf.multiple says every message gets permerror (RFC 7208 §4.5), as both libraries answer',
    libraries: 'agree',
    applies: (j) => shows(j, 'spf:two', 'two-records'),
    says: { 'spf-auth': [AUTHORISED, LIB_PERMERROR, LIB_PERMERROR] },
  },
  {
    id: "relay: the relay's addresses as an ip4 range, without its include, do not authorise it; both libraries pass today's addresses",
    // Not an RFC 7208 question: check_host passes the copied range today, in both libraries. README "SPF qualifiers":
    // only an include reached with "+" authorises the relay — MailChannels publishes its sending addresses in
    // relay.mailchannels.net's record and tells customers to include it (mail-auth.md §4, "SPF for the relay"), and a
    // copy of today's range does not follow when they change. (The finding said "receivers fail SPF for its mail";
    // it now says receivers pass today's addresses: test/core/checks/spf-relay-ranges-copied.test.ts.)
    reason: "README, \"SPF qualifiers\": only the relay's include authorises it (MailChannels' instructions, mail-auth.md §4); check_host passes the copy today",
    libraries: 'agree',
    applies: (j) => shows(j, 'relay:ranges-only', 'relay-ranges-only'),
    says: { 'spf-auth': ['relay: not authorised', /^relay: authorised /, /^relay: authorised /] },
  },
  {
    id: 'terms run together into a token that is valid SPF: mailhealth spf.syntax; both libraries read the other term',
    // RFC 7208 §3.3: the strings are joined with nothing between them; a:f1.chain.examplea:f2.chain.example is a valid
    // domain-spec (§7.1: a macro-literal may hold ":"), so both libraries evaluate that term (a void lookup, no match)
    // and answer no permerror. mailhealth's spf.syntax says exactly that ("does not exist, so it matches nobody and
    // costs a void lookup") and offers the fix that separates the terms (README "Rule ids", spf.syntax): its rule is a
    // fail of the permerror class, which is what this test's "broken" reads; its message does not claim permerror.
    reason: 'README, spf.syntax: one per run of terms written together, valid token or not; the message says what receivers read (RFC 7208 §3.3, §7.1)',
    libraries: 'agree',
    applies: (j) => shows(j, 'spf:run-together', 'run-together-valid') && permerrors(j.py).length === 0 && permerrors(j.ms).length === 0,
    says: { 'spf-record': ['broken', 'ok', 'ok'] },
  },
  {
    id: 'void lookups that depend on the sender (exists:%{i}…) are not counted by the record check; both libraries count them per sender',
    // RFC 7208 §4.6.4 counts void lookups during one evaluation, for one sender: exists:%{i}.ex.chain.example is void
    // for every address it does not list, so strangers get permerror from both libraries, and the server (listed)
    // passes. mailhealth's check_host for the server's addresses counts them as receivers do (so the authorisation
    // verdicts agree); its record check counts only sender-independent lookups (README "SPF terms with macros";
    // mail-auth.md §1.2: a term with macros cannot be resolved statically) — a stranger's result is not this server's.
    reason: 'README "SPF terms with macros": the record check counts no void lookup a macro decides; RFC 7208 §4.6.4 counts them per sender, as both libraries do for strangers',
    libraries: 'agree',
    applies: (j) =>
      shows(j, 'term:exists', 'exists-voids') &&
      permerrors(j.py).every((a) => /Void lookup limit/.test(a.explanation)) &&
      permerrors(j.ms).every((a) => /void DNS look-ups limit/i.test(a.explanation)) &&
      ipsOf(j.g).some((ip, i) => isStranger(ip) && j.py[i].result === 'permerror') &&
      ipsOf(j.g).every((ip, i) => ip !== SERVER_IP || j.py[i].result !== 'permerror'),
    says: { 'spf-record': ['ok', 'broken', 'broken'] },
  },
  {
    id: 'a redirect= receivers never evaluate (beside all, or after a mechanism matched) costs mailhealth no lookup; both libraries count it toward the 10',
    // RFC 7208 §6.1: "Any redirect modifier MUST be ignored if there is an all mechanism anywhere in the record", and
    // the redirect applies only when no mechanism matched; §4.6.4 limits the terms that cause DNS queries "during SPF
    // evaluation". The RFC 7208 test suite's redirect-after-mechanisms1 (spec 4.6.3: `v=spf1 redirect=t5.example.com
    // ~all`, a redirect to itself) says so: it "would violate processing limits, except that it is never used because
    // of the all mechanism" — softfail. mailhealth costs such a redirect nothing (README "redirect= beside an all
    // term"; src/core/spf/tree.ts: ignored terms cost 0) and its check_host stops at the first match. Both libraries
    // count it all the same: pyspf while it reads the record (spf.py query.check0), Mail::SPF when it processes its
    // global modifiers — after a mechanism matched, before it looks whether to redirect (Mail::SPF::Mod::Redirect
    // process calls count_dns_interactive_term first). So 10 lookup mechanisms and a redirect= are permerror for every
    // sender there; mailhealth reports spf.too-many-lookups only where the redirect is evaluated for some sender.
    reason: 'RFC 7208 §6.1/§4.6.4 (test suite redirect-after-mechanisms1): an unevaluated redirect= does no lookup; pyspf and Mail::SPF count it',
    libraries: 'agree',
    applies: (j) =>
      (shows(j, 'end:both', 'redirect-beside-all') || shows(j, null, 'redirect-after-match')) &&
      permerrors(j.py).every((a) => /Too many DNS lookups/.test(a.explanation)) &&
      permerrors(j.ms).every((a) => /DNS-interactive terms limit \(10\) exceeded/.test(a.explanation)),
    says: { 'spf-record': ['ok', 'broken', 'broken'], 'spf-auth': [AUTHORISED, LIB_PERMERROR, LIB_PERMERROR] },
  },
  // ---- ... Mail::SPF sides with mailhealth ----
  {
    id: 'an unknown modifier twice: mailhealth and Mail::SPF ignore it (RFC 7208 §6), pyspf answers permerror',
    // RFC 7208 §6: only redirect= and exp= "MUST NOT appear in a record more than once"; "Unrecognized modifiers MUST
    // be ignored". Mail::SPF keeps only its known global modifiers unique (Mail::SPF::Record parse_term).
    reason: 'RFC 7208 §6: only redirect= and exp= are limited to one; pyspf limits every modifier',
    libraries: 'differ',
    applies: (j) => permerrors(j.py).some((a) => /\bmoo= MUST appear at most once/.test(a.explanation)),
    says: { 'spf-record': ['ok', 'broken', 'ok'], 'spf-auth': [AUTHORISED, LIB_PERMERROR, LIB_PASS] },
  },
  // ---- mailhealth and pyspf agree, Mail::SPF departs from RFC 7208 ----
  {
    id: 'Mail::SPF reads a domain-spec without its ":" (mx//64redirect=… as mx with the name //64redirect=…)',
    // RFC 7208 §5.4: mx = "mx" [ ":" domain-spec ] [ dual-cidr-length ] — after "mx" comes ":" or a CIDR length, and
    // "//64redirect=…" is neither: a syntax error, permerror (§4.6). Mail::SPF's parse_name takes an optional ":",
    // then parse_domain_spec takes any macro-string ending in a toplabel ("/" is a macro-literal), so it looks up MX
    // records of "//64redirect=rd….chain.example" (a void lookup) and reads no redirect at all.
    reason: 'RFC 7208 §5.4 ABNF, §4.6: a term that is not valid SPF is permerror; Mail::SPF takes text after mx or a as its domain without ":"',
    libraries: 'differ',
    applies: (j) => permerrors(j.py).some((a) => /Unknown mechanism found: [-+~?]?(?:a|mx)\/\S*[a-z]\S*\.[a-z]/i.test(a.explanation)) && permerrors(j.ms).length === 0,
    says: { 'spf-record': ['broken', 'broken', 'ok'], 'spf-auth': [NOT_AUTHORISED, LIB_PERMERROR, /: (authorised \(pass\)|not authorised \((fail|softfail|neutral)\))$/] },
  },
  {
    id: 'Mail::SPF stops looking up MX names at the first that matches, so the void lookups of the later ones never count',
    // RFC 7208 §5.4: "check_host() first performs an MX lookup on the <target-name>. Then it performs an address
    // lookup on each MX name returned. The <ip> is compared to each returned IP address." mailhealth (README "mx in
    // check_host") and pyspf look every MX name up, so an MX name without an AAAA record after the one that matches
    // is a third void lookup for the server's IPv6 address: permerror. Mail::SPF's mx (Mail::SPF::Mech::MX match)
    // returns at the first name whose address matches. mailhealth's spf.void-lookups says what to fix for both readings.
    reason: 'RFC 7208 §5.4: an address lookup on each MX name, then the comparison; Mail::SPF returns at the first match',
    libraries: 'differ',
    applies: (j) => ipsOf(j.g).some((_, i) => j.py[i].result === 'permerror' && /Void lookup limit/.test(j.py[i].explanation) && j.ms[i].result === 'pass' && /mechanism '\+?mx[^']*' matched/.test(j.ms[i].explanation)),
    says: { 'spf-auth': [NOT_AUTHORISED, LIB_PERMERROR, LIB_PASS] },
  },
  {
    id: 'Mail::SPF looks at the first 10 of more than 10 MX names instead of answering permerror',
    // RFC 7208 §4.6.4: "the evaluation of each "MX" record MUST NOT result in querying more than 10 address records
    // … If this limit is exceeded, the "mx" mechanism MUST produce a "permerror" result" — the RFC 7208 test suite's
    // mx-limit (spec 4.6.4/2: "For RFC7208 the ambiguity was resolved in favor of producing a permerror result").
    // Mail::SPF keeps RFC 4408's reading: it truncates the MX list to max_name_lookups_per_mx_mech (10).
    reason: 'RFC 7208 §4.6.4 (test suite mx-limit): more than 10 MX names is permerror; Mail::SPF truncates the list, as RFC 4408 allowed',
    libraries: 'differ',
    applies: (j) => permerrors(j.py).some((a) => /More than 10 MX records returned/.test(a.explanation)) && permerrors(j.ms).length === 0,
    says: { 'spf-record': ['broken', 'broken', 'ok'], 'spf-auth': [NOT_AUTHORISED, LIB_PERMERROR, /: (authorised \(pass\)|not authorised \((fail|softfail|neutral)\))$/] },
  },
  {
    id: 'Mail::SPF matches an IPv4 sender against ip6 terms (as its IPv4-mapped IPv6 address)',
    // RFC 7208 §5: an IPv4 <ip> (also one seen as an IPv4-mapped IPv6 address) is an IPv4 address and only ip4 terms
    // and A records match it — the RFC 7208 test suite's cidr6-0-ip4 (spec 5/9/2: "IP4 connections do not match ip6"
    // — "RFC7208 clearly states IPv4 mapped addresses only match ip4: mechanisms"). Mail::SPF::Mech::IP6 compares the
    // request's ip_address_v6, which for an IPv4 sender is ::ffff:<it>, so ip6:::ffff:203.0.113.10 passes 203.0.113.10.
    reason: 'RFC 7208 §5 (test suite cidr6-0-ip4): an IPv4 sender matches only ip4 terms; Mail::SPF compares its IPv4-mapped form with ip6 terms',
    libraries: 'differ',
    applies: (j) => ipsOf(j.g).some((ip, i) => !ip.includes(':') && j.ms[i].result === 'pass' && /mechanism '[+]?ip6:::FFFF:/i.test(j.ms[i].explanation)),
    says: { 'spf-auth': [NOT_AUTHORISED, /: not authorised \((fail|softfail|neutral)\)$/, LIB_PASS] },
  },
  {
    id: "Mail::SPF does not check the macro letters of an unknown modifier (moo=%{z})",
    // RFC 7208 §6 / ABNF: unknown-modifier = name "=" macro-string, and §7.1's macro-letter has no "z", so %{z} is a
    // syntax error: permerror (§4.6: "If there are any syntax errors anywhere in the record, check_host() returns
    // immediately with the result "permerror""; test suite redirect-syntax-error's comment: modifier syntax errors
    // "except for macro syntax" become unknown-modifier). Mail::SPF matches an unknown modifier's value against its
    // macro-string pattern (Mail::SPF::Mod parse_params), which takes any letter as a macro letter, and never expands
    // it: %{z} passes (an unterminated %{i does not — the entry below is pyspf's).
    reason: 'RFC 7208 §6, §7.1, §4.6: a bad macro in an unknown modifier is a syntax error; Mail::SPF takes any letter there',
    libraries: 'differ',
    applies: (j) => permerrors(j.py).some((a) => /Unknown Macro Encountered/.test(a.explanation)) && permerrors(j.ms).length === 0,
    says: { 'spf-record': ['broken', 'broken', 'ok'], 'spf-auth': [NOT_AUTHORISED, LIB_PERMERROR, LIB_PASS] },
  },
  // ---- mailhealth and Mail::SPF agree, pyspf departs from RFC 7208 (SECOND_JUDGE's domains) ----
  {
    id: 'pyspf takes REDIRECT= (a modifier name in capitals) for an unknown modifier',
    // RFC 7208 §4.6.1: "mechanism and modifier names are case-insensitive" (RFC 5234 strings). pyspf compares the
    // modifier's name with "redirect" as written (spf.py query.check0), ignores REDIRECT= as unknown and answers
    // neutral (no mechanism, no redirect).
    reason: 'RFC 7208 §4.6.1: modifier names are case-insensitive; pyspf ignores REDIRECT=',
    libraries: 'differ',
    applies: (j) => shows(j, null, 'modifier-case'),
    says: { 'spf-auth': [AUTHORISED, /: not authorised \(neutral\)$/, LIB_PASS] },
  },
  {
    id: 'pyspf refuses an include of the domain itself before evaluating (permerror even for senders a term before it passes)',
    // RFC 7208 §4.6.2: mechanisms are evaluated in order and the first match decides — the server's ip4/ip6 terms come
    // first, so it passes and the include is never evaluated; a loop is ended by the lookup limit (§4.6.4, test suite
    // include-loop) only for the senders that reach it. pyspf checks every term while it reads the record (spf.py
    // validate_mechanism, called from query.check0) and answers permerror "include has trivial recursion" for every
    // sender. mailhealth's spf.syntax (include loop, fail) says the record is wrong — all three read it broken.
    reason: 'RFC 7208 §4.6.2/§4.6.4: a loop fails only the senders that reach it; pyspf refuses it for every sender',
    libraries: 'differ',
    applies: (j) => permerrors(j.py).some((a) => /include has trivial recursion/.test(a.explanation)) && j.ms.some((a) => a.result === 'pass'),
    says: { 'spf-auth': [AUTHORISED, LIB_PERMERROR, LIB_PASS] },
  },
  {
    id: 'pyspf accepts macros RFC 7208 §7.1 forbids: %{d0}, and an unterminated %{ in an unknown modifier',
    // RFC 7208 §7.1: "If a DIGIT is specified, the value MUST be nonzero"; a "%" must begin a macro-expand or be "%%",
    // "%_", "%-" (test suite invalid-macro-char, spec 7.1/9) — and an unknown modifier's value is a macro-string (§6).
    // Syntax errors anywhere make the record permerror (§4.6), as mailhealth and Mail::SPF answer. pyspf accepts
    // both and evaluates the record (here: the server's ip4/ip6 terms pass it).
    reason: 'RFC 7208 §7.1, §6, §4.6: a zero DIGIT transformer and an unterminated macro are syntax errors; pyspf accepts them',
    libraries: 'differ',
    applies: (j) => shows(j, null, 'macro-d0') || shows(j, null, 'modifier-unclosed-macro'),
    says: { 'spf-record': ['broken', 'ok', 'broken'], 'spf-auth': [NOT_AUTHORISED, LIB_PASS, LIB_PERMERROR] },
  },
];

/** The difference that covers a row (of an aspect it speaks of). */
const covering = (r: Row): Difference | undefined => DIFFERENCES.find((d) => d.says[r.aspect] && d.applies(r.j));
const matches = (want: string | RegExp, got: string) => (typeof want === 'string' ? want === got : want.test(got));
const SIDES: Side[] = ['mailhealth', 'pyspf', 'mailspf'];
const line = (r: Row) => `${r.j.g.domain} ${r.aspect}: mailhealth ${r.mailhealth}; pyspf ${r.pyspf}; Mail::SPF ${r.mailspf}`;

// ---- the test ----

describe("mailhealth's SPF verdicts against two independent judges: pyspf and Mail::SPF (Perl)", { skip }, () => {
  let root: string | undefined;
  let dns: DnsServer | undefined;
  const judged: Judged[] = [];
  const all: Row[] = [];
  let domainCount = 0;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'mh-spf-judge-'));
    const world = buildVerdictWorld(root, SECOND_JUDGE);
    domainCount = world.domains.length;
    dns = await startDnsServer({ data: world.map });
    const [py, ms, audited] = await Promise.all([
      judge((python as { python: string }).python, dns.port, world.domains, 2),
      mailSpf((perl as { perl: string }).perl, dns.port, world.domains, 2),
      auditPanels(world, dns, root),
    ]);
    for (const g of world.domains) {
      const fs = audited.get(g.domain);
      const p = py.get(g.domain);
      const m = ms.get(g.domain);
      if (!fs || !p || !m) continue;
      const j: Judged = { g, fs, py: [...p.probes, ...p.strangers], ms: m, zone: world.zoneOf.get(g.domain) ?? '' };
      judged.push(j);
      all.push(...rows(j));
    }
  });
  after(async () => {
    // The numbers for the record: per verdict, how many rows the three agree on; how many each difference explains;
    // and how often the two libraries' check_host results are the same.
    const by = (a: Aspect) => `${a}: ${all.filter((r) => r.aspect === a && r.agree).length}/${all.filter((r) => r.aspect === a).length} agree`;
    const pairs = judged.flatMap((j) => j.py.map((p, i) => p.result === j.ms[i].result));
    const listed = DIFFERENCES.map((d) => `${d.id}: ${all.filter((r) => covering(r) === d && !r.agree).length}`);
    if (all.length) {
      console.log(
        `[spf-second-judge] Mail::SPF ${judged[0]?.ms[0]?.version}; ${judged.length} domains; ${by('spf-record')}; ${by('spf-auth')}; check_host pyspf = Mail::SPF for ${pairs.filter(Boolean).length}/${pairs.length} addresses; differing as listed — ${listed.join('; ')}`,
      );
    }
    stopJudges();
    await dns?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('every domain was audited and judged by both libraries, with no DNS trouble on any side', () => {
    assert.equal(judged.length, domainCount, 'every domain audited and judged');
    for (const j of judged) {
      assert.deepEqual(j.fs.filter((f) => f.severity === 'unknown').map((f) => `${f.rule}: ${f.message}`), [], `${j.g.domain}: mailhealth had no unknown finding`);
    }
    const trouble = judged.flatMap((j) =>
      ipsOf(j.g).flatMap((ip, i) => [
        ...(j.py[i].result === 'temperror' ? [`${j.g.domain} ${ip}: pyspf temperror (${j.py[i].explanation})`] : []),
        ...(['temperror', 'error'].includes(j.ms[i].result) ? [`${j.g.domain} ${ip}: Mail::SPF ${j.ms[i].result} (${j.ms[i].explanation})`] : []),
      ]),
    );
    assert.deepEqual(trouble, []);
  });

  test('the generated mix gives Mail::SPF every result, and every verdict on each side (the comparison can fail)', () => {
    const results = new Set(judged.flatMap((j) => j.ms.map((a) => a.result)));
    for (const x of ['pass', 'fail', 'softfail', 'neutral', 'permerror', 'none']) assert.ok(results.has(x), `some address gets ${x} from Mail::SPF: ${[...results].join(', ')}`);
    for (const aspect of ['spf-record', 'spf-auth'] as const) {
      for (const side of SIDES) {
        const said = new Set(all.filter((r) => r.aspect === aspect).map((r) => base(r[side]).replace(/^[^:]*: /, '')));
        assert.ok(said.size >= 2, `${aspect}: ${side} says ${[...said].join(', ')}`);
      }
    }
  });

  for (const aspect of ['spf-record', 'spf-auth'] as const) {
    test(`${aspect}: mailhealth, pyspf and Mail::SPF agree on every domain, but for the listed differences`, () => {
      const mine = all.filter((r) => r.aspect === aspect && !covering(r));
      const off = mine.filter((r) => !r.agree);
      assert.deepEqual(
        off.map((r) => `${line(r)}\n${detail(r.j)}`),
        [],
        `${mine.length - off.length}/${mine.length} agree`,
      );
    });
  }

  test("pyspf and Mail::SPF give the same check_host result for every address, but on the domains a listed difference says they differ on", () => {
    const off = judged.flatMap((j) => {
      const excused = DIFFERENCES.some((d) => d.libraries === 'differ' && d.applies(j));
      if (excused) return [];
      return ipsOf(j.g).flatMap((ip, i) => (j.py[i].result === j.ms[i].result ? [] : [`${j.g.domain} ${ip}: pyspf ${j.py[i].result} (${j.py[i].explanation}), Mail::SPF ${j.ms[i].result} (${j.ms[i].explanation})`]));
    });
    assert.deepEqual(off, []);
  });

  /** The rows `d` covers that disagree other than as it says. */
  const otherwise = (d: Difference) =>
    all.filter((r) => {
      if (covering(r) !== d || r.agree) return false;
      const want = d.says[r.aspect]!;
      return !SIDES.every((side, k) => matches(want[k], r[side]));
    });

  for (const d of DIFFERENCES) {
    test(`difference: ${d.id} — each such verdict differs exactly as documented`, () => {
      assert.deepEqual(otherwise(d).map((r) => `${line(r)}\n${detail(r.j)}`), []);
      assert.ok(all.some((r) => covering(r) === d && !r.agree), `${d.id}: no domain shows it (SECOND_JUDGE or HAND_MADE should)`);
    });
  }
});
