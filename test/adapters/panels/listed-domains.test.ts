// Every adapter lists a domain name through the one domain validator (core/domain.ts checkDomain, via listedDomain):
// a name from the panel's listing that is no domain name — control characters (a terminal escape), a path, over 253
// characters — is left out; an IDN is listed under its A-label (review: the files panel listed such a name
// lower-cased, cPanel, WHM and Plesk as the panel gave it).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { FilesPanel } from '../../../src/adapters/panels/files/index.js';
import { listedDomain } from '../../../src/adapters/panels/listed.js';
import type { Identity } from '../../../src/core/model.js';
import type { RunningServer } from '../../helpers/emulators/cpanel.js';
import { baseRecords, DOMAIN, makeRig, serverFixture, startEmulator, type Rig } from '../../helpers/emulators/rig.js';
import { writePanel } from '../../helpers/scenario.js';

const HOSTILE = ['a\x1b[2J.example', '../x', `${'a'.repeat(60)}.`.repeat(5) + 'example', 'evil.example\nroot.example', 'x.example/../../etc'];
const IDN = { given: 'Bücher.Example', listed: 'xn--bcher-kva.example' };
const ADMIN: Identity = { user: 'root', role: 'admin' };

const rigs: Rig[] = [];
const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every listed name passes the validator unchanged: nothing hostile reaches a caller. */
function assertClean(names: string[]): void {
  for (const n of names) assert.equal(listedDomain(n), n, JSON.stringify(n));
}

describe('listed domain names: one validator at the adapter boundary', () => {
  it('listedDomain: the canonical form, or null', () => {
    for (const h of HOSTILE) assert.equal(listedDomain(h), null, JSON.stringify(h));
    assert.equal(listedDomain(IDN.given), IDN.listed);
    assert.equal(listedDomain('Alice.Example.'), 'alice.example');
    assert.equal(listedDomain(42 as unknown as string), null);
  });

  it('files panel', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mh-listed-'));
    dirs.push(root);
    writePanel(root, { domains: { [DOMAIN]: {} }, accounts: [{ user: 'root', role: 'admin' }, { user: 'alice', role: 'customer', domains: [DOMAIN, ...HOSTILE, IDN.given] }] });
    const names = (await new FilesPanel(root).listDomains(ADMIN)).map((d) => d.domain);
    assert.deepEqual(names, [DOMAIN, IDN.listed]);
    assertClean(names);
  });

  for (const kind of ['cpanel', 'whm'] as const) {
    it(kind, async () => {
      // The listing as the emulator serves it from the start (the adapters keep a listing for a while).
      const f = serverFixture(baseRecords());
      const acct = f.accounts.find((a) => a.main === DOMAIN)!;
      acct.addon.push(HOSTILE[0], HOSTILE[2], IDN.listed);
      acct.parked.push(HOSTILE[1], HOSTILE[3]);
      acct.sub.push(HOSTILE[4], `*.${DOMAIN}`);
      const root = mkdtempSync(join(tmpdir(), 'mh-listed-'));
      dirs.push(root);
      const emu = await startEmulator(kind, f, join(root, 'srv'));
      servers.push(emu.server);
      const names = (await emu.panel.listDomains(kind === 'cpanel' ? { user: 'alice', role: 'customer' } : ADMIN)).map((d) => d.domain);
      assert.ok(names.includes(DOMAIN));
      assert.ok(names.includes(IDN.listed));
      for (const h of [...HOSTILE, `*.${DOMAIN}`]) assert.ok(!names.includes(h) && !names.includes(h.toLowerCase()), JSON.stringify(h));
      assertClean(names);
    });
  }

  it('plesk: domains and aliases', async () => {
    const r = await makeRig('plesk', baseRecords());
    rigs.push(r);
    const pl = r.pl!;
    const home = pl.domains.find((d) => d.name === DOMAIN)!;
    let id = 900;
    for (const h of HOSTILE) pl.domains.push({ id: id, name: h, ascii_name: h, client_id: home.client_id, base_domain_id: id++, hosting_type: 'virtual' });
    pl.domains.push({ id, name: IDN.given.toLowerCase(), ascii_name: IDN.listed, client_id: home.client_id, base_domain_id: id++, hosting_type: 'virtual' });
    for (const h of HOSTILE) pl.aliases.push({ id: id++, domain_id: home.id, name: h, ascii_name: h, web: true, dns: true, mail: true, seo_redirect: false });
    const refs = await r.panel.listDomains(ADMIN);
    const names = refs.map((d) => d.domain);
    assert.ok(names.includes(DOMAIN));
    assert.ok(names.includes(IDN.listed));
    for (const h of HOSTILE) assert.ok(!names.includes(h) && !names.includes(h.toLowerCase()), JSON.stringify(h));
    assertClean(names);
  });
});
