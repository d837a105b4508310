// Whose nameservers serve a cPanel zone: has_local_authority's answer (UAPI and WHM, shared/reference/cpanel.md §5)
// read as cPanel computes it, plus the server's own nameservers where the adapter can read them (/etc/wwwacct.conf).
// Shared by the cPanel (UAPI) and WHM adapters.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonName } from '../../../core/domain.js';

/** One has_local_authority item: `{domain, zone, local_authority: 0|1, nameservers: [...], error}` (§5). */
export interface AuthorityItem {
  domain?: unknown;
  zone?: unknown;
  local_authority?: unknown;
  nameservers?: unknown;
  error?: unknown;
}

function names(v: unknown): string[] {
  return (Array.isArray(v) ? v : []).map((n) => canonName(String(n ?? ''))).filter(Boolean);
}

/** The item for `name` (the zone asked about), else the only one. */
export function authorityItemFor(items: readonly AuthorityItem[], name: string): AuthorityItem | null {
  const n = canonName(name);
  return items.find((x) => canonName(String(x.domain ?? '')) === n) ?? (items.length === 1 ? items[0] : null);
}

/**
 * The nameservers that serve this server's copy of a zone, for core to compare with the live NS (core's `authority()`:
 * authoritative when a live NS is one of them; none → the fixes become records to publish elsewhere). `serverNs`: the
 * server's own nameservers when the adapter can read them (/etc/wwwacct.conf on the server), else [].
 *
 * has_local_authority is cPanel's cheap check (its source, Cpanel/DnsUtils/Authority.pm, which cpanel.md §5 cites):
 * it compares the local SOA serial with the one public DNS serves and lists the zone's public nameservers. So:
 * - `local_authority` 1: public DNS serves this very zone: its public nameservers are this server's — also names no
 *   server-wide list knows, such as a reseller's branded nameservers (they are taken over /etc/wwwacct.conf).
 *   INFERRED caveat: a zone copied here unchanged from the previous host (same serial) would read 1 as well; nothing
 *   the API gives tells that apart.
 * - `local_authority` 0 with an `error`: cPanel's own DNS lookup failed — DNS trouble, not an answer. With `serverNs`
 *   core asks DNS itself (its own lookup failing makes it `unknown`); without, nothing here can say whose zone it is,
 *   and [] is the safe reading (publish-elsewhere: nothing is written). Reporting it as "unknown" needs a core field
 *   (see the adapter notes); until then that case reads as not authoritative.
 * - `local_authority` 0 without an error: the public serial differs from the local one. That is a zone served
 *   elsewhere (a copy left here after the domain moved), and also this server's own zone right after any write (by
 *   mailhealth, the Zone Editor, cPanel's SPF updates) until the secondaries and resolver caches catch up — cPanel
 *   compares with what its resolver sees. Even when the public nameservers are exactly the zone's own apex NS records
 *   (the delegation points at the NS this zone lists), that does not tell the two apart: an imported zone (copied from
 *   the old host, listing the old host's NS, while the registrar still points there) looks the same. Only the server's
 *   own nameservers do: with `serverNs` core compares the live NS with them (this server's zone → authoritative, the
 *   old host's → not); without (a remote API: the user-level UAPI and remote WHM expose no call for them), [] — the
 *   safe reading: right after a write a domain reads as not authoritative (fixes become records to publish) until
 *   public DNS serves the new serial.
 * - no item (the call failed or was refused): `serverNs`, else [].
 */
export function nameserversFromAuthority(item: AuthorityItem | null, serverNs: readonly string[]): string[] {
  const error = item?.error;
  const failed = error !== undefined && error !== null && String(error) !== '';
  if (item && !failed && Number(item.local_authority) === 1) {
    const ns = names(item.nameservers);
    if (ns.length) return [...new Set(ns)];
  }
  return [...serverNs];
}

/**
 * Why whose nameservers serve the zone cannot be told (MailSettings.nameserversUnknown): cPanel's own check of public
 * DNS failed (`error`) and the server's own nameservers are not known here. Undefined otherwise.
 */
export function authorityUnknown(item: AuthorityItem | null, serverNs: readonly string[]): string | undefined {
  if (serverNs.length) return undefined;
  if (!item) return 'cPanel gave no answer to has_local_authority (the call failed or was refused)';
  const error = item.error;
  if (error === undefined || error === null || String(error) === '') return undefined;
  return `cPanel could not check whether public DNS serves this zone (${String(error)})`;
}

/**
 * NS, NS2, NS3, NS4 from /etc/wwwacct.conf (cPanel's Basic WebHost Manager Setup: the nameservers new zones get); []
 * when unreadable. INFERRED (cPanel's source, not cpanel.md): the file is readable by cPanel users —
 * Cpanel/Config/LoadWwwAcctConf.pm reads it as a non-root process, the secrets live in the root-only
 * wwwacct.conf.shadow —, so the cPanel page running as the customer can read it too.
 */
export function readWwwacctNameservers(root: string): string[] {
  let text: string;
  try {
    text = readFileSync(join(root, 'etc/wwwacct.conf'), 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^NS[234]?\s+(\S+)\s*$/.exec(line.trim());
    if (m) out.push(canonName(m[1]));
  }
  return out;
}
