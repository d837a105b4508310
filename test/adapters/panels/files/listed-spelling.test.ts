// QA-IDN-1: panel.json lists a domain as the customer spelled it (`bücher.example`, `Shop.Example`, `trailing.example.`)
// and its files are named so (`zones/<domain>.db` in the README). The domain is listed by its canonical name; its zone,
// DKIM key and overrides are found under the canonical name first, then under the listed spelling; writes go to the
// file that was read. Two files for one domain under two spellings are an error naming both, and nothing is written.
// A listed name that is not a domain is never a file name (the one validator, checkDomain).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FilesPanel } from '../../../../src/adapters/panels/files/index.js';
import type { Change } from '../../../../src/core/model.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import { otherRsaKey, rsaKey, writePanel, zoneText } from '../../../helpers/scenario.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mailhealth-files-spelling-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const alice = { user: 'alice', role: 'customer' } as const;
const dmarcAdd = (d: string): Change => ({ action: 'add', name: `_mailchannels.${d}`, type: 'TXT', ttl: 300, before: null, after: { name: `_mailchannels.${d}`, ttl: 300, type: 'TXT', value: 'v=mc1 auth=newhostmc', txt: ['v=mc1 auth=newhostmc'] } });
const files = (dir: string) => readdirSync(join(root, dir)).sort();

/** panel.json listing `listed` for alice, its files written under `fileName` (default: as listed). */
function world(listed: string, fileName = listed, overrides?: Record<string, unknown>): FilesPanel {
  writePanel(root, { domains: { [fileName]: { zone: zoneText(), ...(overrides ? { overrides } : {}) } }, accounts: [{ user: 'alice', role: 'customer', domains: [listed] }] });
  const p = new FilesPanel(root);
  p.now = () => new Date(Date.UTC(2026, 10, 1));
  return p;
}

describe('files panel: files named as panel.json lists the domain', () => {
  for (const [listed, canonical, file] of [
    ['bücher.example', 'xn--bcher-kva.example', 'bücher.example'],
    ['Shop.Example', 'shop.example', 'Shop.Example'],
    ['trailing.example.', 'trailing.example', 'trailing.example.'],
    ['Trailing.Example.', 'trailing.example', 'Trailing.Example'],
  ] as const) {
    it(`${listed} with zones/${file}.db: listed as ${canonical}, its zone read and written in that file`, async () => {
      const panel = world(listed, file);
      const [ref] = await panel.listDomains(alice);
      assert.equal(ref.domain, canonical);
      const zone = await panel.readZone(ref.domain);
      assert.equal(zone.domain, canonical);
      assert.ok(zone.records.some((r) => r.type === 'SOA'));
      // Any spelling of the name reaches the same file.
      assert.equal((await panel.readZone(listed)).version, zone.version);

      await panel.applyChanges(ref.domain, [dmarcAdd(canonical)], zone.version);
      assert.match(readFileSync(join(root, 'zones', `${file}.db`), 'utf8'), /^_mailchannels\.[^\n]*v=mc1 auth=newhostmc/m);
      assert.deepEqual(files('zones'), [`${file}.db`], 'no second zone file under the canonical name');
    });
  }

  it('the DKIM key and overrides named as listed are read: the key is the server’s, not "none: generate one"', async () => {
    const panel = world('Bücher.Example', 'Bücher.Example', { mailRouting: 'remote', dkim: false });
    const s = await panel.readMailSettings('xn--bcher-kva.example');
    assert.equal(s.dkim.publicKey, rsaKey().publicB64);
    assert.equal(s.routing, 'remote');
    assert.equal(s.dkim.signing, false);
    assert.equal(s.dkim.startSigning, 'switch');

    // Signing is switched on in the overrides file that was read, the other overrides kept.
    await panel.startDkimSigning('xn--bcher-kva.example');
    assert.deepEqual(JSON.parse(readFileSync(join(root, 'domains', 'Bücher.Example.json'), 'utf8')), { mailRouting: 'remote', dkim: true });
    assert.deepEqual(files('domains'), ['Bücher.Example.json']);
  });

  it('a new key replaces the key file in use, under its listed name; none is added under the canonical name', async () => {
    const panel = world('bücher.example');
    const s = await panel.generateDkim('xn--bcher-kva.example');
    assert.notEqual(s.dkim.publicKey, rsaKey().publicB64);
    assert.deepEqual(files('dkim'), ['bücher.example.pem']);
    assert.notEqual(readFileSync(join(root, 'dkim', 'bücher.example.pem'), 'utf8'), rsaKey().privatePem);
    assert.deepEqual(JSON.parse(readFileSync(join(root, 'domains', 'xn--bcher-kva.example.json'), 'utf8')), { dkim: true }, 'no overrides file yet: a new one by the canonical name');
  });

  it('the canonical name is looked up first, and a domain without files is written under it', async () => {
    const panel = world('bücher.example', 'xn--bcher-kva.example');
    assert.equal((await panel.readZone('xn--bcher-kva.example')).domain, 'xn--bcher-kva.example');
    assert.equal((await panel.readMailSettings('bücher.example')).dkim.publicKey, rsaKey().publicB64);
    rmSync(join(root, 'zones', 'xn--bcher-kva.example.db'));
    await rejectsWith(panel.readZone('bücher.example'), 'not-found', /^no zone for xn--bcher-kva\.example in the files panel$/);
  });

  it('one file under two names (a link) is one file, not two', async () => {
    const panel = world('Shop.Example');
    symlinkSync('Shop.Example.db', join(root, 'zones', 'shop.example.db'));
    const zone = await panel.readZone('shop.example');
    await panel.applyChanges('shop.example', [dmarcAdd('shop.example')], zone.version);
    assert.match(readFileSync(join(root, 'zones', 'Shop.Example.db'), 'utf8'), /v=mc1 auth=newhostmc/);
  });
});

describe('files panel: two files for one domain under two spellings', () => {
  it('zone: an error naming both; the audit reads neither and a write changes neither', async () => {
    const panel = world('bücher.example');
    const canonicalText = zoneText().replace('2024010101', '2024020202');
    writeFileSync(join(root, 'zones', 'xn--bcher-kva.example.db'), canonicalText);
    const listedText = readFileSync(join(root, 'zones', 'bücher.example.db'), 'utf8');
    const re = /^files panel: xn--bcher-kva\.example has 2 zone files under different spellings of its name \(zones\/xn--bcher-kva\.example\.db, zones\/bücher\.example\.db\).*reads and writes neither/;
    await rejectsWith(panel.readZone('xn--bcher-kva.example'), 'other', re);
    const { fileVersion } = await import('../../../../src/adapters/panels/files/index.js');
    for (const version of [fileVersion(canonicalText), fileVersion(listedText)]) {
      await rejectsWith(panel.applyChanges('xn--bcher-kva.example', [dmarcAdd('xn--bcher-kva.example')], version), 'other', re);
    }
    assert.equal(readFileSync(join(root, 'zones', 'xn--bcher-kva.example.db'), 'utf8'), canonicalText);
    assert.equal(readFileSync(join(root, 'zones', 'bücher.example.db'), 'utf8'), listedText);
    assert.deepEqual(files('zones'), ['bücher.example.db', 'xn--bcher-kva.example.db']);
  });

  it('DKIM key: the settings are unreadable (not "no key"), and no key is generated or switched on', async () => {
    const panel = world('Shop.Example');
    writeFileSync(join(root, 'dkim', 'shop.example.pem'), otherRsaKey().privatePem);
    const re = /^files panel: shop\.example has 2 DKIM key files under different spellings of its name \(dkim\/shop\.example\.pem, dkim\/Shop\.Example\.pem\)/;
    await rejectsWith(panel.readMailSettings('shop.example'), 'other', re);
    await rejectsWith(panel.generateDkim('shop.example'), 'other', re);
    await rejectsWith(panel.startDkimSigning('shop.example'), 'other', re);
    assert.equal(readFileSync(join(root, 'dkim', 'shop.example.pem'), 'utf8'), otherRsaKey().privatePem);
    assert.equal(readFileSync(join(root, 'dkim', 'Shop.Example.pem'), 'utf8'), rsaKey().privatePem);
    assert.deepEqual(files('domains'), []);
  });

  it('overrides: an error naming both, and a new key is refused before anything is written', async () => {
    const panel = world('Shop.Example', 'Shop.Example', { mailRouting: 'remote' });
    writeFileSync(join(root, 'domains', 'shop.example.json'), '{"mailRouting": "local"}');
    const re = /has 2 override files under different spellings of its name \(domains\/shop\.example\.json, domains\/Shop\.Example\.json\)/;
    await rejectsWith(panel.readMailSettings('shop.example'), 'other', re);
    await rejectsWith(panel.generateDkim('shop.example'), 'other', re);
    assert.equal(readFileSync(join(root, 'dkim', 'Shop.Example.pem'), 'utf8'), rsaKey().privatePem);
    assert.deepEqual(files('dkim'), ['Shop.Example.pem']);
  });
});

describe('files panel: a listed name that is no domain is never a file name', () => {
  for (const listed of ['../outside.example', 'zones/../outside.example', '..', 'a..outside.example']) {
    it(JSON.stringify(listed), async () => {
      writePanel(root, { domains: { 'bakery.example': {} }, accounts: [{ user: 'alice', role: 'customer', domains: ['bakery.example', listed] }] });
      writeFileSync(join(root, 'outside.example.db'), zoneText());
      const panel = new FilesPanel(root);
      assert.deepEqual((await panel.listDomains(alice)).map((d) => d.domain), ['bakery.example']);
      await rejectsWith(panel.readZone(listed), 'not-found', /^invalid domain: /);
      assert.ok((await panel.readZone('bakery.example')).records.length > 0, 'the other domains are read as before');
    });
  }
});
