// The embedded demo: a files panel shipped in the repository (src/demo/panel) plus the "outside world" zones the
// audit needs (src/demo/world), all served by the loopback DNS server so the audit runs over the wire, offline.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDnsServer, type DnsServer, type ServedData, type ServedZoneMap } from '../adapters/dns/server.js';
import { parseZoneFile, presentValue } from '../adapters/panels/files/zonefile.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * The demo's shipped directory `name` (panel, world): beside this module under src/ (tsx) and in a release (the
 * package script copies the data files next to the compiled modules); in a checkout built with `npm run build` —
 * dist/src/demo, where tsc writes no data files — the sources' copy, src/demo/<name> (as app.ts finds views/).
 * Without this, `node bin/mailhealth.js demo` after `npm run build` stopped on ENOENT for dist/src/demo/panel.
 */
export function demoDataDir(here: string, name: 'panel' | 'world'): string {
  const beside = join(here, name);
  return [beside, join(here, '../../../src/demo', name)].find((d) => existsSync(d)) ?? beside;
}

export const DEMO_PANEL_DIR = demoDataDir(HERE, 'panel');
export const DEMO_WORLD_DIR = demoDataDir(HERE, 'world');

/** Add a zone file's records to a served map. */
export function addZoneFile(map: ServedZoneMap, text: string, origin: string): void {
  const parsed = parseZoneFile(text, origin);
  for (const r of parsed.records) {
    const d: ServedData = (map[r.name] ??= {});
    switch (r.type) {
      case 'A':
      case 'AAAA':
      case 'NS':
      case 'CNAME':
      case 'PTR':
        (d[r.type] ??= []).push(presentValue(r));
        break;
      case 'TXT':
        (d.TXT ??= []).push(r.txt ?? []);
        break;
      case 'MX': {
        const [p, h] = presentValue(r).split(/\s+/);
        (d.MX ??= []).push({ priority: Number(p), exchange: h === '.' ? '' : h });
        break;
      }
      case 'SOA': {
        const v = presentValue(r).split(/\s+/);
        (d.SOA ??= []).push({ mname: v[0], rname: v[1], serial: Number(v[2]) });
        break;
      }
      default:
        break;
    }
  }
}

/**
 * Everything the demo's DNS serves: the world zones, then each panel zone — unless the world holds a zone of the same
 * name (a domain still delegated to its previous host, whose stale copy is what the internet sees).
 */
export function buildWorld(panelDir: string, worldDir: string = DEMO_WORLD_DIR): ServedZoneMap {
  const map: ServedZoneMap = {};
  const worldZones = new Set<string>();
  for (const f of readdirSync(worldDir).filter((x) => x.endsWith('.db'))) {
    const origin = f.replace(/\.db$/, '');
    if (origin !== 'internet') worldZones.add(origin);
    addZoneFile(map, readFileSync(join(worldDir, f), 'utf8'), origin === 'internet' ? '' : origin);
  }
  const zonesDir = join(panelDir, 'zones');
  for (const f of existsSync(zonesDir) ? readdirSync(zonesDir).filter((x) => x.endsWith('.db')) : []) {
    const origin = f.replace(/\.db$/, '');
    if (worldZones.has(origin)) continue;
    addZoneFile(map, readFileSync(join(zonesDir, f), 'utf8'), origin);
  }
  return map;
}

export interface Demo {
  panelDir: string;
  dns: DnsServer;
  close(): Promise<void>;
}

/**
 * Start the demo: copy the shipped panel to a fresh working directory (fixes change it, the repository stays clean),
 * serve it with the world on loopback, and keep serving the panel's zones as they change. close() removes the copy.
 */
export async function startDemo(opts: { panelDir?: string; fresh?: boolean } = {}): Promise<Demo> {
  let panelDir = opts.panelDir ?? DEMO_PANEL_DIR;
  /** The working copy made here (removed by close), if any. */
  let copy: string | null = null;
  if (opts.fresh !== false) {
    copy = mkdtempSync(join(tmpdir(), 'mailhealth-demo-'));
    cpSync(panelDir, copy, { recursive: true });
    panelDir = copy;
  }
  const dns = await startDnsServer({ data: buildWorld(panelDir) });
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(join(panelDir, 'zones'), () => {
      try {
        dns.setData(buildWorld(panelDir));
      } catch {
        /* a half-written file: the next event reloads */
      }
    });
  } catch {
    watcher = null;
  }
  return {
    panelDir,
    dns,
    /** Stops the DNS server and removes the working copy (with the history database the demo keeps in it). */
    async close() {
      watcher?.close();
      await dns.close();
      if (copy) rmSync(copy, { recursive: true, force: true });
    },
  };
}
