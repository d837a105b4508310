// A domain removed from the panel while a bulk audit runs (the run takes its domain list at the start): its panel
// reads say not-found, and auditing it anyway would record a new failing audit of a domain that is no longer on the
// server (no zone, no DKIM key, no nameservers: "fails" with fix advice). Such a domain is skipped instead — but only
// when both say so: a read answered not-found AND the identity's scope (panel.listDomains, the one scope question)
// no longer lists it. A not-found read of a domain still listed (a panel that lost its zone file) is audited as
// before: that is a problem on the server, and the audit says so (dns.panel-zone-unreadable).
import { PanelError } from '../../core/panel.js';

/** The run identity's scope, asked fresh each call (e.g. `() => panel.listDomains(identity)`). */
export type ScopeListing = () => Promise<readonly { domain: string }[]>;

/** What a bulk run calls a domain it skipped: its text surfaces say this. */
export const GONE_TEXT = 'no longer on the server';

export function isNotFound(e: unknown): boolean {
  return e instanceof PanelError && e.code === 'not-found';
}

/**
 * Answers "is this domain still in scope?" for domains whose reads said not-found, with as few listings as it can:
 * a listing made after the read started decides; so does a listing made during the run that no longer holds the domain
 * (it was in the scope the run started from). Otherwise a fresh listing is taken (shared by the checks that wait for
 * it). A listing that fails answers "still listed": nothing is skipped on a guess.
 */
export class ScopeWatch {
  private listings = 0;
  private latest: { index: number; names: Promise<Set<string> | null> } | null = null;

  constructor(private readonly list: ScopeListing) {}

  /** Call just before a domain's panel reads; pass the value to stillListed. */
  mark(): number {
    return this.listings;
  }

  async stillListed(domain: string, since: number): Promise<boolean> {
    const seen = this.latest;
    if (seen) {
      const names = await seen.names;
      if (names && !names.has(domain)) return false;
      if (seen.index >= since) return true;
    }
    if (!this.latest || this.latest.index < since) {
      const index = this.listings++;
      this.latest = {
        index,
        names: this.list().then(
          (refs) => new Set(refs.map((r) => r.domain)),
          () => null,
        ),
      };
    }
    const names = await this.latest.names;
    return names === null || names.has(domain);
  }
}
