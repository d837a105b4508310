// A domain removed from the panel while a bulk audit runs (the run takes its domain list at the start): its panel
// reads say not-found, and auditing it anyway would record a new failing audit of a domain that is no longer on the
// server (no zone, no DKIM key, no nameservers: "fails" with fix advice). Such a domain is skipped instead — but only
// when both say so: a read answered not-found AND the identity's scope (panel.listDomains, the one scope question)
// no longer lists it. A not-found read of a domain still listed (a panel that lost its zone file) is audited as
// before: that is a problem on the server, and the audit says so (dns.panel-zone-unreadable).
//
// A run may also ask the scope again for every domain it reads (ScopeRecheck: the web's bulk jobs do): a domain the
// panel still has but no longer gives this identity — a customer moved to another reseller, a reseller removed while
// the job waited — is skipped as out of scope, neither audited nor recorded under this identity's run.
import { PanelError } from '../../core/panel.js';

/** The run identity's scope, asked fresh each call (e.g. `() => panel.listDomains(identity)`). */
export type ScopeListing = () => Promise<readonly { domain: string }[]>;

/** What a bulk run calls a domain it skipped: its text surfaces say this. */
export const GONE_TEXT = 'no longer on the server';
/** A domain skipped because the identity's scope no longer holds it (ScopeRecheck), though the panel still has it. */
export const OUT_OF_SCOPE_TEXT = 'no longer in your scope';

/** Why a bulk run skipped a domain: removed from the panel ('gone'), or no longer the identity's ('out-of-scope'). */
export type SkipReason = 'gone' | 'out-of-scope';

export function skipText(why: SkipReason): typeof GONE_TEXT | typeof OUT_OF_SCOPE_TEXT {
  return why === 'gone' ? GONE_TEXT : OUT_OF_SCOPE_TEXT;
}

/**
 * How long one reading of the scope answers for later domains of a run. Asking the panel before each of thousands of
 * domains would be a panel round trip per domain on Plesk (its domain list is a call per client) and a `listaccts` per
 * domain on WHM: within this many milliseconds of a reading, a domain is judged by it (a scope change made in that
 * window reaches the domains read after the next reading).
 */
export const SCOPE_RECHECK_MS = 5_000;

/**
 * Ask the scope again for every domain (not only for one whose reads said not-found): after its reads, against a
 * listing answered at most `everyMs` before (else one taken then, shared by the domains that wait for it). `now`: the
 * clock those ages are measured with, in ms — best one that only goes forward (performance.now()). A wall clock works
 * too: a listing whose age comes out negative (the clock was set back since it was answered) is not used, a fresh one
 * is taken — never the old one for as long as the step (a domain moved out of the scope meanwhile would be audited
 * under this identity's run).
 */
export interface ScopeRecheck {
  everyMs: number;
  now: () => number;
}

/** An age in [0, within): below zero the clock went back since, and how old it is cannot be told. */
function isRecent(age: number, within: number): boolean {
  return age >= 0 && age < within;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof PanelError && e.code === 'not-found';
}

/**
 * One listing of the scope: its number in the run, when it was answered (ScopeRecheck's clock; set once settled), its
 * names (null: failed).
 */
interface Listing {
  index: number;
  at: number;
  names: Promise<Set<string> | null>;
  settled: boolean;
}

/**
 * Answers "is this domain still in scope?" for domains whose reads said not-found, with as few listings as it can:
 * a listing made after the read started decides; so does a listing made during the run that no longer holds the domain
 * (it was in the scope the run started from). Otherwise a fresh listing is taken (shared by the checks that wait for
 * it). A listing that fails answers "still listed": nothing is skipped on a guess.
 *
 * With a ScopeRecheck, `after` also answers it for a domain whose reads found it (at most one listing per `everyMs`).
 */
export class ScopeWatch {
  private listings = 0;
  private latest: Listing | null = null;

  constructor(
    private readonly list: ScopeListing,
    private readonly recheck?: ScopeRecheck,
  ) {}

  /** Call just before a domain's panel reads; pass the value to stillListed or after. */
  mark(): number {
    return this.listings;
  }

  /**
   * After a domain's reads (`notFound`: one said the panel does not have it): why it is skipped, or null to audit it.
   * Not found and no longer listed: 'gone' (stillListed). Found — or not found but still listed — and a ScopeRecheck
   * given: 'out-of-scope' when a listing at most everyMs old no longer holds it. A listing that fails skips nothing.
   */
  async after(domain: string, since: number, notFound: boolean): Promise<SkipReason | null> {
    if (notFound && !(await this.stillListed(domain, since))) return 'gone';
    if (!this.recheck) return null;
    const names = await this.fresh(this.recheck).names;
    return names && !names.has(domain) ? 'out-of-scope' : null;
  }

  async stillListed(domain: string, since: number): Promise<boolean> {
    const seen = this.latest;
    if (seen) {
      const names = await seen.names;
      if (names && !names.has(domain)) return false;
      if (seen.index >= since) return true;
    }
    if (!this.latest || this.latest.index < since) this.take();
    const names = await this.latest!.names;
    return names === null || names.has(domain);
  }

  /**
   * The latest listing if answered less than everyMs ago or still being answered (a panel slower than everyMs is not
   * asked again and again meanwhile), else a new one. A failed one is reused as well: it skips nothing, and asking
   * again for every domain while the panel fails would be the round trip per domain this avoids. Its age counts from
   * its answer, not from the question: a listing that takes longer than everyMs (Plesk: a call per client) would
   * otherwise be stale when it arrives, and the panel listed back to back for the whole run.
   */
  private fresh(recheck: ScopeRecheck): Listing {
    const seen = this.latest;
    if (seen && (!seen.settled || isRecent(recheck.now() - seen.at, recheck.everyMs))) return seen;
    return this.take();
  }

  private take(): Listing {
    const index = this.listings++;
    const entry: Listing = {
      index,
      at: this.recheck?.now() ?? 0,
      settled: false,
      names: this.list()
        .then(
          (refs) => new Set(refs.map((r) => r.domain)),
          () => null,
        )
        .finally(() => {
          entry.at = this.recheck?.now() ?? 0;
          entry.settled = true;
        }),
    };
    this.latest = entry;
    return entry;
  }
}
