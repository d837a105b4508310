// What every check receives. Checks are pure functions of this context: their only I/O is ctx.resolver.
import type { Classification, Finding, MailSettings, Zone } from '../model.js';
import type { Resolver } from '../resolver.js';
import type { Knowledge } from '../../knowledge/index.js';
import type { RecordIndex } from '../zone.js';

export interface AuditOptions {
  /** DNS blocklists to query for ptr.listed (empty / undefined = off). */
  blocklists?: string[];
  /** Extra DKIM selectors to probe besides the server's and the known mail services'. */
  extraSelectors?: string[];
}

/** Decides, with evidence, whether a foreign name/IP/key/id is this server, a kept mail service, a previous host, or unknown. */
export interface Classifier {
  /** An SPF term as written (e.g. "include:websitewelcome.com", "ip4:192.0.2.1", "+a:old.host.example", "mx"). */
  spfTerm(term: string): Promise<Classification>;
  /** A host name seen in MX, include:, a:, report addresses. */
  host(host: string): Promise<Classification>;
  /** An IP address (v4/v6), possibly a CIDR. */
  ip(ipOrCidr: string): Promise<Classification>;
  /**
   * A DKIM public key (base64) at a selector: is it the server's key? `aliases`: the CNAME chain the selector's name
   * follows (a delegated selector is classified by its target's provider).
   */
  dkimKey(selector: string, publicKeyB64: string | null, aliases?: readonly string[]): Promise<Classification>;
  /**
   * A MailChannels auth=/senderid=/sidw= value. A promise only where DNS decides: with the panel routing the domain's
   * mail elsewhere, where that mail is delivered (the live MX); else the answer itself (no promise per id).
   */
  lockdownId(field: 'auth' | 'senderid' | 'sidw', value: string): Classification | Promise<Classification>;
  /** A DMARC report address (mailto: URI's address part). */
  reportAddress(address: string): Promise<Classification>;
}

export interface CheckContext {
  domain: string;
  /** The panel's copy of the zone; null when the panel could not read it (then evidence says so). */
  zone: Zone | null;
  /** The zone's records by name (null with the zone): `zoneIndex.at(name, type)` = `recordsAt(zone.records, name, type)`. */
  zoneIndex: RecordIndex | null;
  settings: MailSettings;
  resolver: Resolver;
  classifier: Classifier;
  knowledge: Knowledge;
  options: AuditOptions;
}

export type Check = (ctx: CheckContext) => Promise<Finding[]>;
