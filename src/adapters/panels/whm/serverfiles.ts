// Mail settings read from a cPanel server's own files (root, or a test directory via `root`).
// Paths and formats: shared/reference/cpanel.md §6.3, §8.1–§8.5 (CONFIRMED there unless marked INFERRED).
import { checkDomain } from '../../../core/domain.js';
import { PanelError } from '../../../core/panel.js';
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonName } from '../../../core/domain.js';
import type { RelaySettings } from '../../../core/model.js';

export function readText(root: string, path: string): string | null {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return null;
  }
}

/** `/etc/mailips`, `/etc/mailhelo` format: `domain: value` lines, `*` = default. */
export function parseColonMap(text: string | null): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of (text ?? '').split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const i = t.indexOf(':');
    if (i <= 0) continue;
    m.set(t.slice(0, i).trim().toLowerCase(), t.slice(i + 1).trim());
  }
  return m;
}

/** `key=value` lines (`/etc/exim.conf.localopts`). */
export function parseKeyValue(text: string | null): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of (text ?? '').split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0 || line.trim().startsWith('#')) continue;
    m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

/** base64 SubjectPublicKeyInfo of a PEM private (or public) key; null when unreadable. */
export function publicKeyFromPem(pem: string | null): string | null {
  if (!pem) return null;
  try {
    return createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64');
  } catch {
    return null;
  }
}

/** Lines of `/etc/localdomains`-style files (one domain per line). */
export function domainList(text: string | null): Set<string> {
  return new Set((text ?? '').split('\n').map((l) => canonName(l.trim())).filter(Boolean));
}

/** The smarthost host of an Exim route list such as `* smtp.mailchannels.net::587` (§8.5). */
export function routeListHost(routelist: string | undefined): string | null {
  if (!routelist) return null;
  const parts = routelist.trim().split(/\s+/);
  const hostPart = parts.length > 1 ? parts[1] : parts[0];
  const host = hostPart.split(/[;:]/)[0];
  return host ? canonName(host) : null;
}

/**
 * Relay from `/etc/exim.conf.localopts`: a smarthost route list or `spf_include_hosts` naming mailchannels.net means
 * MailChannels. INFERRED: `authId` = `smarthost_username` (MailChannels SMTP logins are the account id in the setups
 * we know of); the SPF include host is the one from `spf_include_hosts` if it names MailChannels, else
 * `relay.mailchannels.net` (MailChannels' documented SPF include, mail-auth.md §4).
 */
export function relayFromLocalopts(text: string | null): RelaySettings | null {
  const opts = parseKeyValue(text);
  const host = routeListHost(opts.get('smarthost_routelist'));
  const includes = (opts.get('spf_include_hosts') ?? '').split(/[;,:\s]+/).map((h) => canonName(h)).filter(Boolean);
  const mcInclude = includes.find((h) => h === 'mailchannels.net' || h.endsWith('.mailchannels.net'));
  const isMc = (host && (host === 'mailchannels.net' || host.endsWith('.mailchannels.net'))) || !!mcInclude;
  if (isMc) {
    const r: RelaySettings = { provider: 'mailchannels', host: mcInclude ?? 'relay.mailchannels.net' };
    const user = opts.get('smarthost_username');
    if (user) r.authId = user;
    return r;
  }
  if (host) return { provider: host, host };
  return null;
}

export interface CpanelServerFiles {
  mailIp: string | null;
  helo: string | null;
  privateKeyPem: string | null;
  publicKey: string | null;
  /** `/var/cpanel/domain_keys/validity_cache/<domain>` exists: Exim signs (§8.4). */
  validityCache: boolean;
  relay: RelaySettings | null;
  routing: 'local' | 'remote' | null;
  hostname: string | null;
  mainIp: string | null;
}

/** Does `root` look like a cPanel server (tests: a temp dir holding etc/ and var/cpanel/)? */
export function hasCpanelFiles(root: string): boolean {
  return existsSync(join(root, 'etc/mailips')) || existsSync(join(root, 'var/cpanel'));
}

export function readCpanelServerFiles(root: string, domain: string): CpanelServerFiles {
  // The domain becomes part of file paths: only a valid host name may (no "..", no "/").
  const checked = checkDomain(domain);
  if (!checked.ok) throw new PanelError('not-found', `invalid domain: ${checked.reason}`);
  const d = checked.domain;
  const mailips = parseColonMap(readText(root, 'etc/mailips'));
  const mailhelo = parseColonMap(readText(root, 'etc/mailhelo'));
  const pem = readText(root, `var/cpanel/domain_keys/private/${d}`);
  const pub = readText(root, `var/cpanel/domain_keys/public/${d}`);
  const local = domainList(readText(root, 'etc/localdomains'));
  const remote = domainList(readText(root, 'etc/remotedomains'));
  // INFERRED: `/var/cpanel/mainip` holds the main IP and `/etc/hostname` the host name on cPanel servers.
  const mainIp = readText(root, 'var/cpanel/mainip')?.trim() || null;
  const hostname = readText(root, 'etc/hostname')?.trim() || null;
  return {
    mailIp: mailips.get(d) ?? mailips.get('*') ?? null,
    helo: mailhelo.get(d) ?? mailhelo.get('*') ?? null,
    privateKeyPem: pem,
    publicKey: publicKeyFromPem(pem) ?? publicKeyFromPem(pub),
    validityCache: existsSync(join(root, `var/cpanel/domain_keys/validity_cache/${d}`)),
    relay: relayFromLocalopts(readText(root, 'etc/exim.conf.localopts')),
    routing: local.has(d) ? 'local' : remote.has(d) ? 'remote' : null,
    hostname,
    mainIp,
  };
}
