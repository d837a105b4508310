// The no-mail declaration: a domain that says it neither receives nor sends mail — its only MX is the null MX ("0 .",
// RFC 7505: it accepts no mail) and its one SPF record authorises no server ("v=spf1 -all": it sends none). That is
// how a parked domain is locked against spoofing (RFC 7505 §4; mail-auth.md §5 pairs it with p=reject). Nothing is
// to be authorised or signed for such a domain: the SPF fix (adding this server or its relay) and the DKIM fix
// (publishing a key) would open it to mail its owner said it never sends, so both are blocked, saying how to undo
// the declaration first if the domain does send mail from this server.
//
// Precisely (both from live DNS, what receivers read):
// - the MX answer is exactly one record, and its exchange is "." (the null MX; mx.ts reports it as mx.null, and a null
//   MX beside other MX records as a fault — that is not the declaration);
// - the domain publishes exactly one SPF record, it parses without errors, and no term of it can give a server pass:
//   no mechanism with the "+" qualifier (written or implied, `all` included) and no redirect= (its target may
//   authorise servers). "v=spf1 -all", "v=spf1 ~all" and "v=spf1 -include:oldhost.example -all" qualify; a null MX
//   beside "v=spf1 mx -all" or "v=spf1 include:… -all" does not — that domain sends mail (it is judged as any other).
import type { CheckContext } from './checks/context.js';
import { parseSpfShared, selectSpf } from './spf/parse.js';

export type NoMail =
  /** The domain declares it sends and receives no mail. `spf`: its SPF record, as published. */
  | { state: 'no-mail'; spf: string }
  /** It does not (or not clearly): judged as any domain. */
  | { state: 'mail' }
  /** The SPF record authorises nobody, but DNS did not say whether the MX is the null MX (or the TXT lookup failed). */
  | { state: 'unknown'; why: string };

/** Whether an MX answer's exchanges are the null MX alone (RFC 7505 §3). */
export function onlyNullMx(exchanges: readonly string[]): boolean {
  return exchanges.length === 1 && (exchanges[0] === '' || exchanges[0] === '.');
}

/**
 * Whether an SPF record authorises no server: it parses without errors, and has no redirect= and no mechanism with the
 * "+" qualifier (only "+" gives pass, RFC 7208 §4.6.2). Pure.
 */
export function authorisesNobody(spf: string): boolean {
  const p = parseSpfShared(spf);
  if (p.version === null || p.errors.length) return false;
  for (const t of p.terms) {
    if (t.kind === 'invalid' || t.error) return false;
    if (t.kind === 'modifier' && t.modifier === 'redirect') return false;
    if (t.kind === 'mechanism' && t.qualifier === '+') return false;
  }
  return true;
}

/**
 * The declaration for a domain whose one SPF record is `spf` (as receivers read it): asks the live MX only when the
 * record authorises nobody (so the usual domain costs no lookup).
 */
export async function noMailWith(ctx: Pick<CheckContext, 'domain' | 'resolver'>, spf: string): Promise<NoMail> {
  if (!authorisesNobody(spf)) return { state: 'mail' };
  const mx = await ctx.resolver.resolve(ctx.domain, 'MX');
  if (mx.status === 'unknown') return { state: 'unknown', why: `its SPF record "${spf}" authorises no server, but the MX lookup got no answer (DNS ${mx.error ?? 'error'})` };
  const exchanges = mx.status === 'ok' ? mx.records.map((r) => r.exchange) : [];
  return onlyNullMx(exchanges) ? { state: 'no-mail', spf } : { state: 'mail' };
}

/** The declaration as live DNS gives it: the apex TXT (its one SPF record), then the MX (noMailWith). */
export async function noMailDeclared(ctx: Pick<CheckContext, 'domain' | 'resolver'>): Promise<NoMail> {
  const txt = await ctx.resolver.resolve(ctx.domain, 'TXT');
  if (txt.status === 'unknown') return { state: 'unknown', why: `its SPF record could not be read (DNS ${txt.error ?? 'error'})` };
  const sel = selectSpf(txt.status === 'ok' ? txt.records : []);
  return sel.status === 'found' ? noMailWith(ctx, sel.record) : { state: 'mail' };
}

/** What the declaration is, in words (for findings and blocked plans). */
export function noMailWhat(domain: string, nm: Extract<NoMail, { state: 'no-mail' }>): string {
  return `${domain} declares it sends and receives no mail: its only MX is the null MX ("0 .", RFC 7505) and its SPF record "${nm.spf}" authorises no server`;
}

/** Why a fix is blocked for a domain that declares no mail, and what to do if it does send mail from this server. */
export function noMailBlock(domain: string, nm: Extract<NoMail, { state: 'no-mail' }>, fix: 'spf' | 'dkim'): string {
  const what = noMailWhat(domain, nm);
  return fix === 'spf'
    ? `${what}. The SPF fix does not authorise a server for it: that would let mail pass as a domain that says it sends none. If this server does send mail for ${domain}, replace the null MX with the domain's real MX records in the panel first, then run the SPF fix again.`
    : `${what}. The DKIM fix publishes no key for it: a domain that sends no mail needs none. If this server does send mail for ${domain}, replace the null MX with the domain's real MX records in the panel and run the SPF fix first, then the DKIM fix.`;
}

/** Why a fix waits when DNS did not say whether the domain declares no mail. */
export function noMailUnknown(domain: string, nm: Extract<NoMail, { state: 'unknown' }>, fix: 'spf' | 'dkim'): string {
  return `Whether ${domain} declares it sends no mail could not be told: ${nm.why}. The ${fix === 'spf' ? 'SPF' : 'DKIM'} fix waits until DNS answers.`;
}
