// A few at a time: bulk fix previews and applies run this many domains at once, so a reseller's 200-domain fix is not
// 200 panel round trips end to end (inside the preview's request, or the apply's background job; each domain's own
// steps stay in order; its lock, hash check and history are per domain, so domains do not wait on each other).
import { registrableDomain } from '../core/domain.js';

/** Domains that may share a zone (one registrable domain and its subdomains): mapInGroups runs them one after another. */
export const zoneGroup = (domain: string): string => registrableDomain(domain);

/** `fn` over `items` with at most `limit` running at once; the results in the items' order. `fn` must not throw. */
export async function mapInPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return out;
}

/**
 * As mapInPool, but items with the same `group` run one after another (in their order), never at once: domains that
 * may share one zone — a subdomain kept in its parent's zone on cPanel or Plesk — would otherwise write it at the same
 * time, and the second write would be refused as "the zone changed". Results in the items' order.
 */
export async function mapInGroups<T, R>(items: readonly T[], limit: number, group: (item: T) => string, fn: (item: T) => Promise<R>): Promise<R[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const key = group(item);
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const out = new Array<R>(items.length);
  await mapInPool([...groups.values()], limit, async (indexes) => {
    for (const i of indexes) out[i] = await fn(items[i]);
  });
  return out;
}
