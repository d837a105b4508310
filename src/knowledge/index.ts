// Knowledge as data: provider fingerprints (providers.json) with a source per entry. Lookups only — no policy here.
import providersData from './providers.json' with { type: 'json' };

export type ProviderKind = 'hosting' | 'mail-service' | 'report-processor';
export interface Provider {
  id: string;
  name: string;
  kind: ProviderKind;
  spf: string[];
  hosts: string[];
  dkimSelectors?: string[];
  confidence: 'high' | 'medium' | 'low';
  source: string;
  note?: string;
}

export interface Knowledge {
  providers: Provider[];
  /** Provider whose SPF include (or host suffix) matches a host name. SPF-include entries win over host suffixes. */
  matchHost(host: string): Provider | null;
  /** Mail services that publish keys at this selector. */
  selectorProviders(selector: string): Provider[];
  /** Display name of a provider id (e.g. "mailchannels" → "MailChannels"); the id itself when unknown. */
  displayName(id: string): string;
}

function suffixMatch(host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const p = pattern.toLowerCase();
  return h === p || h.endsWith('.' + p);
}

export function makeKnowledge(providers: Provider[]): Knowledge {
  // Bulk audits ask about the same hosts over and over; the providers list is fixed once the knowledge is made.
  const hostMemo = new Map<string, Provider | null>();
  return {
    providers,
    matchHost(host) {
      const hit = hostMemo.get(host);
      if (hit !== undefined) return hit;
      if (hostMemo.size >= 8192) hostMemo.clear();
      const p = matchHostUncached(host);
      hostMemo.set(host, p);
      return p;
    },
    selectorProviders(selector) {
      const s = selector.toLowerCase();
      return providers.filter((p) => (p.dkimSelectors ?? []).some((x) => x === s || (x.endsWith('-') && s.startsWith(x))));
    },
    displayName(id) {
      return providers.find((p) => p.id === id)?.name ?? id;
    },
  };

  function matchHostUncached(host: string): Provider | null {
    let best: { p: Provider; len: number } | null = null;
    for (const p of providers) {
      for (const pat of [...p.spf, ...p.hosts]) {
        if (suffixMatch(host, pat) && (!best || pat.length > best.len)) best = { p, len: pat.length };
      }
    }
    return best?.p ?? null;
  }
}

export const defaultKnowledge: Knowledge = makeKnowledge((providersData as { providers: Provider[] }).providers);
