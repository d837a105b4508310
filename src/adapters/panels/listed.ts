// Domain names a panel lists, through the project's one domain validator (core/domain.ts checkDomain) at the adapter
// boundary: a panel's listing is outside input like any other (a name with control characters would reach a terminal,
// one with "/" a file path, one over 253 characters no resolver), so every adapter lists a name in the canonical form
// checkDomain gives (lower case, A-label) or not at all.
import { canonName, checkDomain } from '../../core/domain.js';

/** `name` as a listed domain: checkDomain's canonical form, or null when it is not a domain name (left out). */
export function listedDomain(name: unknown): string | null {
  if (typeof name !== 'string') return null;
  const c = checkDomain(name);
  return c.ok ? c.domain : null;
}

/**
 * A name as an adapter compares it with the domains it lists: listedDomain's form, or — for a name that is no domain,
 * kept for the message that it is not one of the account's — canonName's. A panel item that names its domain in
 * Unicode (`bücher.example`) then matches the A-label the domain is listed by (QA-IDN-3 and its review: the listing
 * and every per-domain answer compared alike).
 */
export function panelName(name: string): string {
  return listedDomain(name) ?? canonName(name);
}
