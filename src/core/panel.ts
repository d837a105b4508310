// The Panel contract: what core asks of a hosting panel. Adapters live in src/adapters/panels/<kind>/.
// Small on purpose (DNSControl's three-method provider shape): scope, read, write — plus capabilities declared up front.
import type { Change, DomainRef, Identity, MailSettings, Zone } from './model.js';

export interface PanelCapabilities {
  /** The panel's zone carries a serial that the write API checks (cPanel). Else: re-read and compare. */
  serialCheckedWrites: boolean;
  /** The panel can create a DKIM key for a domain and turn signing on. */
  generateDkim: boolean;
  /**
   * A write goes record by record (Plesk), so a process stopped in the middle leaves the zone partly written. Absent or
   * false: a zone is written in one step (a file renamed into place, one cPanel mass edit) — a zone holding neither
   * the state before a write nor the one after was edited by someone else.
   */
  recordByRecordWrites?: boolean;
  /**
   * The record types applyChanges writes (upper case). Absent: every type. Plesk: TXT and CNAME. A plan changing any
   * other type is blocked up front (core/plans/plan.ts unwritableChanges), before a record is written or a DKIM key
   * generated.
   */
  writableTypes?: readonly string[];
}

/** Errors an adapter raises; surfaces turn them into clear messages. */
export class PanelError extends Error {
  constructor(
    public readonly code:
      | 'stale' // the zone changed since it was read (cPanel "Stale" serial, or re-read mismatch)
      | 'busy' // another writer holds the zone (the files panel's per-zone lock): nothing was written, try again
      | 'invalid-zone' // the panel rejected the zone (cPanel InvalidZoneFile)
      | 'feature-missing' // e.g. cPanel account without the zoneedit feature
      | 'auth' // 401/403
      | 'not-found' // unknown domain/account
      | 'unreachable'
      | 'no-answer' // the request went out but no answer came (timeout, connection dropped): whether it acted is not known
      | 'record-exists' // plesk exit code 2
      | 'unsupported'
      | 'other',
    message: string,
  ) {
    super(message);
    this.name = 'PanelError';
  }
}

/**
 * A panel write that failed after taking some steps, from an adapter that writes record by record and undoes its
 * own steps when one fails (Plesk). `leftWritten`: what of this write is still in the zone — the steps the adapter
 * could not undo, each as a change of its own ('add': a record it added and could not take out; 'remove': a record
 * it deleted and could not put back). Empty: every step taken was undone, the zone holds nothing of this write.
 * `code` is the failure's own. Apply then puts back exactly these and nothing else: a record of the plan missing for
 * another reason was removed by someone else, and stays removed.
 */
export class PartialWriteError extends PanelError {
  constructor(
    code: PanelError['code'],
    message: string,
    readonly leftWritten: readonly Change[],
  ) {
    super(code, message);
  }
}

export interface ApplyResult {
  /** The zone's concurrency token after the write. */
  version: string;
}

export interface Panel {
  readonly kind: string;
  readonly capabilities: PanelCapabilities;
  /** Every account the panel knows (for logins and scope). */
  listAccounts(): Promise<{ user: string; role: Identity['role']; owner?: string }[]>;
  /** The domains this identity may see and change (customer: own; reseller: its customers'; admin: all). */
  listDomains(identity: Identity): Promise<DomainRef[]>;
  /** The panel's copy of the zone. Throws PanelError('not-found') for a domain it does not host. */
  readZone(domain: string): Promise<Zone>;
  readMailSettings(domain: string): Promise<MailSettings>;
  /**
   * Apply changes to the zone if its version is still `expectedVersion`; throws PanelError('stale') otherwise.
   * Only the given records move; every other record stays as it was.
   */
  applyChanges(domain: string, changes: Change[], expectedVersion: string): Promise<ApplyResult>;
  /** Create a DKIM key (2048-bit) and turn signing on; returns the new settings. Only if capabilities.generateDkim. */
  generateDkim?(domain: string): Promise<MailSettings>;
  /**
   * Start signing the domain's mail with the DKIM key the panel already has, whose record is published — offered per
   * domain by `dkim.startSigning` in the mail settings: cPanel/WHM check the published key again
   * (validate_current_dkims sets the validity cache Exim signs by), Plesk turns the domain's signing on
   * (`domain_pref -sign_outgoing_mail true`), the files panel its override. Changes no DNS record (a record the panel
   * publishes by itself on the way is taken back out). Returns the settings after: `dkim.signing` says whether the
   * panel signs now.
   */
  startDkimSigning?(domain: string): Promise<MailSettings>;
}

/** The one scope check every surface uses. */
export async function canAccess(panel: Panel, identity: Identity, domain: string): Promise<DomainRef | null> {
  const list = await panel.listDomains(identity);
  return list.find((d) => d.domain === domain) ?? null;
}
