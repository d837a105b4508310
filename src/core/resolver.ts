// The Resolver contract core code uses for live DNS. Adapters implement it (src/adapters/dns).
// Error mapping lives at the adapter boundary: NXDOMAIN/NODATA are answers; timeout/SERVFAIL/REFUSED are `unknown`.

export interface MxData {
  priority: number;
  exchange: string;
}

export interface RecordData {
  A: string;
  AAAA: string;
  /** One TXT record = its character-strings, as received (join with no separator). */
  TXT: string[];
  MX: MxData;
  NS: string;
  CNAME: string;
  PTR: string;
}
export type RRType = keyof RecordData;

export type AnswerStatus = 'ok' | 'nxdomain' | 'nodata' | 'unknown';

export interface Answer<T extends RRType = RRType> {
  name: string;
  type: T;
  status: AnswerStatus;
  records: RecordData[T][];
  /** For `unknown`: timeout | servfail | refused | error text. */
  error?: string;
  /** The aliases followed to get here: CNAME targets from `name`, in order (absent when `name` is not an alias). */
  cnames?: string[];
}

export interface Resolver {
  resolve<T extends RRType>(name: string, type: T): Promise<Answer<T>>;
  /** Answers carry `cnames` (the aliases followed), so checks need not ask for CNAME separately. */
  readonly reportsCnames?: boolean;
  /**
   * Ask the authoritative servers of a zone directly (no cache), for verification after a write.
   * `servers` are host names or IPs of the nameservers. Optional: resolvers without it report "not checked".
   * When none of the servers has an address (A or AAAA), the answer is `unknown` with the error NO_SERVER_ADDRESS.
   */
  resolveAt?<T extends RRType>(servers: string[], name: string, type: T): Promise<Answer<T>>;
  /**
   * This resolver as one domain's audit sees it (core/audit.ts buildContext makes one per audit and per plan): an
   * `unknown` answer to a question the audit asked is given to it again rather than asked again, so a previous host's
   * dead DNS costs each question one wait, not one per check that asks it. Optional: without it the resolver itself.
   */
  forAudit?(): Resolver;
}

const ignore = () => undefined;

/**
 * A and AAAA of a name: both questions go out together (independent: the AAAA no longer waits out the A's timeouts) and
 * are awaited in turn (Promise.all of the two would leave garbage per name, for every domain). If the A question
 * rejects, the AAAA one's outcome is still handled.
 */
export async function resolveAddresses(resolver: Resolver, name: string): Promise<{ a: Answer<'A'>; aaaa: Answer<'AAAA'> }> {
  const pa = resolver.resolve(name, 'A');
  const paaaa = resolver.resolve(name, 'AAAA');
  let a: Answer<'A'>;
  try {
    a = await pa;
  } catch (e) {
    paaaa.catch(ignore);
    throw e;
  }
  return { a, aaaa: await paaaa };
}

/** resolveAt's error when none of the servers it was given has an address to ask. */
export const NO_SERVER_ADDRESS = 'no address for the authoritative servers';

export function describeAnswer(a: Answer): string[] {
  switch (a.status) {
    case 'ok':
      return a.records.map((r) => renderRdata(a.type, r as RecordData[RRType]));
    case 'nxdomain':
      return [`${a.name} ${a.type}: NXDOMAIN (no such name)`];
    case 'nodata':
      return [`${a.name} ${a.type}: no ${a.type} record (NODATA)`];
    case 'unknown':
      return [`${a.name} ${a.type}: DNS error (${a.error ?? 'unknown'}) — could not check`];
  }
}

/** Text needing escapes in JSON: quotes, backslashes, control characters, surrogates (lone ones are escaped). */
const JSON_ESCAPES = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of a string, without its cost for text that needs no escaping (almost all of it). */
export function quoteText(s: string): string {
  return JSON_ESCAPES.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** A TXT record's character-strings, each quoted, separated by spaces. */
export function quoteTxt(r: readonly string[]): string {
  if (r.length === 1) return quoteText(r[0]);
  let out = '';
  for (let i = 0; i < r.length; i++) out += (i ? ' ' : '') + quoteText(r[i]);
  return out;
}

export function renderRdata(type: RRType, r: RecordData[RRType]): string {
  if (type === 'TXT') return quoteTxt(r as string[]);
  if (type === 'MX') {
    const m = r as MxData;
    return `${m.priority} ${m.exchange}`;
  }
  return String(r);
}

/** Join a TXT record's character-strings (RFC 7208 §3.3: no separator). */
export function joinTxt(r: string[]): string {
  return r.join('');
}

/**
 * The CNAME targets behind `name`: from an answer already received when the resolver reports them, else by asking
 * for the CNAME (one query saved per alias check with a wire resolver).
 */
export function aliasesOf(resolver: Resolver, name: string, answered: Answer | null): string[] | Promise<string[]> {
  // Straight from the answer when it says (no promise to make and wait for: this runs for every domain).
  if (resolver.reportsCnames && answered && answered.status !== 'unknown') return answered.cnames ?? [];
  return resolver.resolve(name, 'CNAME').then((c) => (c.status === 'ok' ? c.records : []));
}
