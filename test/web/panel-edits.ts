// Edits of the demo files panel's panel.json while a test's app runs: an account moved or removed, as an admin does in
// the panel (the bulk-job scope tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorld } from './helpers.js';

export type PanelJson = { accounts: { user: string; role: string; owner?: string; domains?: string[] }[] };

export function editPanel(w: TestWorld, edit: (cfg: PanelJson) => void): void {
  const file = join(w.demo!.panelDir, 'panel.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as PanelJson;
  edit(cfg);
  writeFileSync(file, JSON.stringify(cfg));
}

/** bob (dentist.example, plumber.example) moves from reseller rita to a new reseller rex. */
export const moveBobToRex = (cfg: PanelJson): void => {
  cfg.accounts.push({ user: 'rex', role: 'reseller' });
  cfg.accounts.find((a) => a.user === 'bob')!.owner = 'rex';
};

/** rita (reseller) removed from the panel; her customers left without a reseller. */
export const removeRita = (cfg: PanelJson): void => {
  cfg.accounts = cfg.accounts.filter((a) => a.user !== 'rita').map((a) => (a.owner === 'rita' ? { ...a, owner: undefined } : a));
};
