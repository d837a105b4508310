// Small shared pieces for checks: evidence from the panel copy and the live answer, finding constructors.
import type { CheckName, Evidence, Finding, FixKind, Severity, Classification } from '../model.js';
import { describeAnswer, joinTxt, quoteText, quoteTxt, type Answer } from '../resolver.js';
import type { CheckContext } from './context.js';
import { emptyList, mapList } from '../arrays.js';

export function panelEvidence(ctx: CheckContext, name: string, type: string): string[] {
  if (!ctx.zoneIndex) return ['(the panel could not provide its copy of the zone)'];
  const rs = ctx.zoneIndex.at(name, type);
  if (rs.length === 0) return [`${name} ${type}: none in the panel's zone`];
  return rs.map((r) => `${r.name} ${r.ttl} ${r.type} ${r.type === 'TXT' ? (r.txt ? quoteTxt(r.txt) : quoteText(r.value)) : r.value}`);
}

export function liveTxt(a: Answer<'TXT'>): string[] {
  return a.status === 'ok' ? mapList(a.records, joinTxt) : emptyList();
}

export function evidence(ctx: CheckContext, name: string, type: string, live: Answer | null, extra: Record<string, unknown> = {}): Evidence {
  return { panel: panelEvidence(ctx, name, type), live: live ? describeAnswer(live) : [], ...extra };
}

/**
 * `{ ...ev, ...more }`: the evidence with more keys. Written as Object.assign because V8 adds new keys to an object
 * literal that starts with a spread slowly (about half a microsecond a key), and checks do this for every domain.
 */
export function moreEvidence(ev: Evidence, more: Record<string, unknown>): Evidence {
  return Object.assign({}, ev, more);
}

export function makeFinding(
  check: CheckName,
  rule: string,
  severity: Severity,
  message: string,
  ev: Evidence,
  opts: { subject?: string; classification?: Classification; fix?: FixKind } = {},
): Finding {
  return { rule, check, severity, message, evidence: ev, ...opts };
}

/** The finding for a lookup that could not be answered: unknown, never fail, never a reason to change a zone. */
export function dnsErrorFinding(check: CheckName, what: string, a: Answer, ev: Evidence): Finding {
  return makeFinding(check, `${check}.dns-error`, 'unknown', `Could not check ${what}: DNS ${a.error ?? 'error'} for ${a.name} ${a.type}. Nothing is changed until DNS answers.`, ev);
}

/**
 * Drops the fix `fix` from every finding from `from` on that offers it, adding `note` to its message (a plan that will
 * not run for a reason the finding itself does not know: the domain declares no mail, DNS did not answer).
 */
export function withoutFix(out: Finding[], fix: NonNullable<Finding['fix']>, note: string, from = 0): void {
  for (let i = from; i < out.length; i++) {
    const f = out[i];
    if (f.fix !== fix) continue;
    const { fix: _dropped, ...rest } = f;
    out[i] = { ...rest, message: f.message + note };
  }
}

/**
 * The message of a `<check>.string-too-long` finding (the panel's zone stores a TXT record with a string over 255
 * bytes: RFC 1035 §3.3.14; BIND refuses such a zone): `what` names the record ("the DKIM record at x"), `longest` its
 * longest string in bytes, `fixName` the fix that rewrites it where it does ("DKIM"), else null — a hand edit.
 */
export function stringTooLongMessage(what: string, longest: number, fixName: string | null): string {
  return `The panel stores ${what} as one string of ${longest} bytes: a TXT string holds at most 255 bytes, so it must be split into several strings (BIND refuses to load a zone with a longer one). ${
    fixName ? `The ${fixName} fix rewrites it as strings of at most 255 bytes.` : "Edit the record in the panel's DNS editor so that it is stored as several strings of at most 255 bytes each."
  }`;
}
