// Domain names a panel lists, through the project's one domain validator (core/domain.ts checkDomain) at the adapter
// boundary: a panel's listing is outside input like any other (a name with control characters would reach a terminal,
// one with "/" a file path, one over 253 characters no resolver), so every adapter lists a name in the canonical form
// checkDomain gives (lower case, A-label) or not at all.
import { checkDomain } from '../../core/domain.js';

/** `name` as a listed domain: checkDomain's canonical form, or null when it is not a domain name (left out). */
export function listedDomain(name: unknown): string | null {
  if (typeof name !== 'string') return null;
  const c = checkDomain(name);
  return c.ok ? c.domain : null;
}
