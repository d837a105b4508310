// Knowledge as data: provider fingerprints (providers.json) with a source per entry. Lookups only — no policy here.
import providersData from './providers.json' with { type: 'json' };

/**
 * hosting: a previous host's leftovers are stale candidates. mail-service / report-processor: kept.
 * shared-infrastructure: filtering or relay networks many hosts share; a match names the network, not a host, so it is
 * never evidence of a previous host (classified unknown).
 */
export type ProviderKind = 'hosting' | 'mail-service' | 'report-processor' | 'shared-infrastructure';
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

export function makeKnowledge(providers: Provider[]): Knowledge {
  // Host patterns (SPF includes and host suffixes, lower case) → the provider that wins them: the first provider to
  // list a pattern. A host matches a pattern when it is the pattern or ends in "." + pattern, and the longest pattern
  // wins, so walking the host's suffixes from the longest down finds the winner in a few map lookups.
  // The providers list is fixed once the knowledge is made.
  const byPattern = new Map<string, Provider>();
  for (const p of providers) {
    for (const pat of p.spf) if (!byPattern.has(pat.toLowerCase())) byPattern.set(pat.toLowerCase(), p);
    for (const pat of p.hosts) if (!byPattern.has(pat.toLowerCase())) byPattern.set(pat.toLowerCase(), p);
  }
  return {
    providers,
    matchHost(host) {
      let h = host.toLowerCase();
      if (h.endsWith('.')) h = h.slice(0, -1);
      const whole = byPattern.get(h);
      if (whole) return whole;
      for (let i = h.indexOf('.'); i >= 0; i = h.indexOf('.', i + 1)) {
        const p = byPattern.get(h.slice(i + 1));
        if (p) return p;
      }
      return null;
    },
    selectorProviders(selector) {
      const s = selector.toLowerCase();
      return providers.filter((p) => (p.dkimSelectors ?? []).some((x) => x === s || (x.endsWith('-') && s.startsWith(x))));
    },
    displayName(id) {
      return providers.find((p) => p.id === id)?.name ?? id;
    },
  };
}

export const defaultKnowledge: Knowledge = makeKnowledge((providersData as { providers: Provider[] }).providers);
