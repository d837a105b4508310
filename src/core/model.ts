// The core model: what a zone, a server's mail settings, a finding and a change look like.
// Pure types and small pure helpers only — no I/O lives in src/core.
import { compareText } from './text.js';

export type Severity = 'fail' | 'warn' | 'info' | 'unknown' | 'pass';
export type CheckName = 'spf' | 'dkim' | 'dmarc' | 'lockdown' | 'mx' | 'dns' | 'ptr';
export const CHECKS: readonly CheckName[] = ['spf', 'dkim', 'dmarc', 'lockdown', 'mx', 'dns', 'ptr'];
export type FixKind = 'spf' | 'dkim' | 'lockdown' | 'dmarc';
export const FIX_KINDS: readonly FixKind[] = ['spf', 'dkim', 'lockdown', 'dmarc'];

/** Worst first. `unknown` sits between warn and pass: DNS trouble is never a failure. */
export const SEVERITY_ORDER: Record<Severity, number> = { fail: 0, warn: 1, unknown: 2, info: 3, pass: 4 };

export type ClassKind = 'this-server' | 'keep' | 'stale' | 'unknown';
export interface Classification {
  class: ClassKind;
  /** Why: the evidence that decided it, in words. */
  reason: string;
  /** Knowledge-base entry that matched, if any. */
  provider?: string;
  source?: string;
}

export interface Evidence {
  /** Records as the panel stores them (the panel's copy of the zone). */
  panel?: string[];
  /** The live answer from DNS, or a description of the DNS error. */
  live?: string[];
  [key: string]: unknown;
}

export interface Finding {
  rule: string;
  check: CheckName;
  severity: Severity;
  message: string;
  subject?: string;
  classification?: Classification;
  evidence: Evidence;
  fix?: FixKind;
}

export type DomainStatus = 'fail' | 'warn' | 'pass' | 'unknown';

export interface DomainAudit {
  domain: string;
  status: DomainStatus;
  auditedAt: string;
  findings: Finding[];
}

/** A record in a panel's zone. Names are absolute, lower case, without the trailing dot. */
export interface ZoneRecord {
  name: string;
  ttl: number;
  type: string;
  /** Presentation value. For TXT: the character-strings joined with no separator. MX: "10 mx.example.com". */
  value: string;
  /** TXT only: the character-strings as stored. */
  txt?: string[];
  /** Opaque adapter handle (line index, record id) — never interpreted by core. On an added record (undo of a
   *  removal) an adapter may read it as a hint of where the record used to be. */
  ref?: string;
  /** Opaque: the record as the panel stored it (files panel: its zone-file lines), so an undo can put back the exact
   *  text. Carried along by core, never interpreted. */
  source?: string;
}

export interface Zone {
  domain: string;
  serial: number | null;
  records: ZoneRecord[];
  /** Concurrency token: the cPanel serial, or a hash of the records where a panel has none. */
  version: string;
  /** Set when the panel will refuse any write to this zone as it is (e.g. a zone file line it cannot read): why. */
  writeBlocked?: string;
}

export interface RelaySettings {
  provider: string; // e.g. "mailchannels"
  host: string; // e.g. "relay.mailchannels.net"
  authId?: string; // MailChannels account id
}

export interface DkimSettings {
  selector: string;
  /** Whether the server signs outgoing mail for the domain. */
  signing: boolean;
  /** PEM private key the server signs with (if readable). */
  privateKeyPem?: string;
  /** base64 SubjectPublicKeyInfo of the server's key (derived from the private key, or told by the panel). */
  publicKey?: string;
  /**
   * Signing is off, and the panel's startDkimSigning turns it on for this domain with the key it has (`publicKey`),
   * changing no record — what the DKIM fix does once that key is published as it should be:
   * - 'recheck': signing is off only because the panel has not seen its own key published yet (cPanel's DKIM validity
   *   cache): the panel checks the published key again, and signs once its check finds it;
   * - 'switch': the domain's signing setting is off and the panel turns it on (Plesk's `sign_outgoing_mail`, the
   *   files panel's override).
   * Absent while signing is off: the panel cannot turn it on here (see cannotStartSigning).
   */
  startSigning?: 'recheck' | 'switch';
  /**
   * Signing is off and the panel cannot turn it on for this domain (e.g. a Plesk domain alias, which signs as its
   * domain does): where the user turns it on, in words for the user. The DKIM finding then says so instead of offering
   * a fix.
   */
  cannotStartSigning?: string;
  /**
   * The panel cannot create a key for this domain (e.g. a Plesk domain alias), though it may for others: why, in words
   * for the user. The DKIM fix is then blocked at preview instead of failing at apply.
   */
  cannotGenerate?: string;
}

export interface MailSettings {
  domain: string;
  hostname: string;
  /** Outbound IPs (v4 and v6) the server sends this domain's mail from. */
  ips: string[];
  helo: string;
  nameservers: string[];
  dkim: DkimSettings;
  routing: 'local' | 'remote';
  relay: RelaySettings | null;
  /**
   * Set when the panel cannot read the server's smarthost setting here (e.g. a remote cPanel/WHM API: the relay lives
   * in a root-only file): why. `relay` null then means "not known", not "no relay".
   */
  relayUnknown?: string;
  /**
   * Set when the panel cannot tell whose nameservers serve the domain (its own check of public DNS failed, and the
   * server's nameservers are not known here): why. `nameservers` empty then means "not known", not "not this server".
   */
  nameserversUnknown?: string;
}

export type Role = 'customer' | 'reseller' | 'admin';
export interface Identity {
  user: string;
  role: Role;
  /**
   * Domains a front door narrowed this identity's scope to (Plesk: the domains pm_Session says the client may access).
   * It only ever narrows what the panel gives the identity (see src/web/cgi.ts narrowByIdentity); absent: no narrowing.
   */
  allowed?: readonly string[];
}

export interface DomainRef {
  domain: string;
  /** The account (customer) owning the domain. */
  owner: string;
  /** The reseller owning that account, if any. */
  reseller?: string;
  /** A domain alias (Plesk): the domain it is an alias of, whose owner it has. */
  aliasOf?: string;
}

/** One change to a panel zone. `before`/`after` are the full records (null for add/remove). */
export interface Change {
  action: 'add' | 'edit' | 'remove';
  name: string;
  type: string;
  ttl: number;
  before: ZoneRecord | null;
  after: ZoneRecord | null;
  /** Set on the change that published a DKIM key the panel generated (and turned signing on for) during the fix. */
  keyGenerated?: true;
  /**
   * How many records the zone held, just before the write, identical to `before` / to `after` (see recordIdentity in
   * core/plans/apply.ts): with identical records (two copies of one SPF record) presence alone cannot tell the state
   * before a write from the state after it. Set by apply and undo; history written before it lacks them.
   */
  copiesBefore?: number;
  copiesAfter?: number;
}

export function worstSeverity(findings: readonly Finding[]): Severity {
  let worst: Severity = 'pass';
  for (const f of findings) if (SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[worst]) worst = f.severity;
  return worst;
}

/** fail > warn > unknown > pass. info counts as pass. */
export function domainStatus(findings: readonly Finding[]): DomainStatus {
  const w = worstSeverity(findings);
  if (w === 'fail' || w === 'warn' || w === 'unknown') return w;
  return 'pass';
}

/** The order findings are reported in: worst severity first, then by check, then by rule. */
export function compareFindings(a: Finding, b: Finding): number {
  return SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || compareText(a.check, b.check) || compareText(a.rule, b.rule);
}

export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(compareFindings);
}
