// Test helper: the demo files panel copied to a temp dir, served over loopback DNS; a fake clock; a store.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResolver, type WireResolver } from '../../src/adapters/dns/resolver.js';
import { startDnsServer, type DnsServer } from '../../src/adapters/dns/server.js';
import { FilesPanel } from '../../src/adapters/panels/files/index.js';
import { openStore, type Store } from '../../src/adapters/store/store.js';
import { buildWorld, DEMO_PANEL_DIR } from '../../src/demo/world.js';
import type { RateLimiter } from '../../src/cron/ratelimit.js';

export interface TestWorld {
  dir: string;
  panel: FilesPanel;
  dns: DnsServer;
  store: Store;
  clock: { t: number; now: () => number; advance(ms: number): void };
  /** A fresh resolver per night (its cache is per run). */
  resolver(): WireResolver;
  /** Edit a zone file of the panel and reload what DNS serves. */
  editZone(domain: string, edit: (text: string) => string): void;
  close(): Promise<void>;
}

export const NIGHT1 = Date.parse('2026-01-01T03:00:00.000Z');
export const DAY = 86_400_000;

export async function startWorld(): Promise<TestWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-report-'));
  cpSync(DEMO_PANEL_DIR, join(dir, 'panel'), { recursive: true });
  const panelDir = join(dir, 'panel');
  const dns = await startDnsServer({ data: buildWorld(panelDir) });
  const clock = { t: NIGHT1, now: () => clock.t, advance: (ms: number) => void (clock.t += ms) };
  const store = openStore(join(dir, 'mailhealth.sqlite'), { now: clock.now });
  const resolvers: WireResolver[] = [];
  return {
    dir,
    panel: new FilesPanel(panelDir),
    dns,
    store,
    clock,
    resolver() {
      const r = createResolver({ servers: [dns.address], authoritativePort: dns.port, timeoutMs: 1000, tries: 2 });
      resolvers.push(r);
      return r;
    },
    editZone(domain, edit) {
      const p = join(panelDir, 'zones', `${domain}.db`);
      writeFileSync(p, edit(readFileSync(p, 'utf8')));
      dns.setData(buildWorld(panelDir));
    },
    async close() {
      for (const r of resolvers) r.close();
      store.close();
      await dns.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A limiter that never waits; throws after `n` takes when `failAfter` is set. */
export function countingLimiter(failAfter?: number): RateLimiter & { taken: number } {
  const l = {
    taken: 0,
    async take() {
      if (failAfter !== undefined && l.taken >= failAfter) throw new Error('killed mid-run (simulated)');
      l.taken++;
    },
  };
  return l;
}

/**
 * "Kill" the run after `n` domains: a panel wrapper counts domains as their audit starts; once the (n+1)th starts,
 * the limiter throws (as a process dying mid-run would stop everything).
 */
export function killAfterDomains<P extends { readZone(d: string): Promise<unknown> }>(panel: P, n: number): { panel: P; limiter: RateLimiter } {
  let started = 0;
  const wrapped = Object.create(panel) as P;
  wrapped.readZone = (d: string) => {
    started++;
    return panel.readZone(d);
  };
  const limiter: RateLimiter = {
    async take() {
      if (started > n) throw new Error(`killed mid-run after ${n} domains (simulated)`);
    },
  };
  return { panel: wrapped, limiter };
}
