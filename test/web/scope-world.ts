// The demo world for the bulk-scope tests: a clock the test moves, and a log of rita's domain listings (dentist.example
// in or OUT, or FAILED while `failList` is set) and of the panel's writes.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Identity } from '../../src/core/model.js';
import type { Panel } from '../../src/core/panel.js';
import { hookPanel, type PanelHooks } from '../helpers/hook-panel.js';
import { demoWorld, type TestWorld } from './helpers.js';

export interface ScopeWorld {
  w: TestWorld;
  clock: number;
  log: string[];
  /** While set, rita's listing fails (a panel timeout). */
  failList: boolean;
}

/** listDomains hooked to log (or fail) rita's listings into `s.log`. */
export function ritaListing(s: ScopeWorld): PanelHooks['listDomains'] {
  return async (own, id: Identity) => {
    if (id.user === 'rita' && s.failList) {
      s.log.push('listDomains(rita): FAILED');
      throw new Error('panel timeout');
    }
    const r = await own(id);
    if (id.user === 'rita') s.log.push(`listDomains(rita): dentist ${r.some((d) => d.domain === 'dentist.example') ? 'in' : 'OUT'}`);
    return r;
  };
}

/** A new world; `hooks(s)` adds the test's own hooks (rita's listings are always logged). */
export async function scopeWorld(hooks: (s: ScopeWorld) => PanelHooks = () => ({})): Promise<ScopeWorld> {
  const s: ScopeWorld = { w: null as unknown as TestWorld, clock: Date.parse('2030-01-01T00:00:00Z'), log: [], failList: false };
  const wrap = (p: Panel): Panel => hookPanel(p, { listDomains: ritaListing(s), ...hooks(s) });
  s.w = await demoWorld({ wrapPanel: wrap, app: { now: () => new Date(s.clock) } });
  return s;
}

/**
 * A world whose panel also logs its writes (`onCall(name)` after each returns), and in which dentist.example's key is
 * gone from the panel: its DKIM fix has the panel generate one.
 */
export async function keyWorld(onCall: (name: string, s: ScopeWorld) => void = () => {}): Promise<ScopeWorld> {
  const logged =
    (s: ScopeWorld, name: string) =>
    async <A extends unknown[], R>(own: (...a: A) => Promise<R>, ...a: A): Promise<R> => {
      s.log.push(`${name}(${String(a[0])})`);
      const out = await own(...a);
      onCall(name, s);
      return out;
    };
  const s = await scopeWorld((s) => ({ generateDkim: logged(s, 'generateDkim'), applyChanges: logged(s, 'applyChanges'), startDkimSigning: logged(s, 'startDkimSigning') }));
  rmSync(join(s.w.demo!.panelDir, 'dkim', 'dentist.example.pem'));
  return s;
}
