// loadConfig checks config.json once, key by key (QA: `"insecure": "false"` — a string, truthy — turned certificate
// checking OFF; `"panelRoot": 5` reached the files panel as a number; misspelled keys were silently ignored). A key of
// the wrong type is a ConfigError naming the key and the file (never a secret's value); an unknown key is a warning
// with the nearest known key, left out; every config the installers, the README and the tests write loads as before.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, createPanel, loadConfig, nearestKey, validateConfig } from '../../../src/adapters/panels/factory.js';
import { PanelError } from '../../../src/core/panel.js';

const dir = mkdtempSync(join(tmpdir(), 'mh-factory-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A config file with this JSON text; returns its path. */
function file(text: string): string {
  const path = join(dir, `config-${++n}.json`);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

/** loadConfig of this object, with the warnings it gave. */
function load(cfg: unknown): { config: ReturnType<typeof loadConfig>; warnings: string[]; path: string } {
  const path = file(JSON.stringify(cfg));
  const warnings: string[] = [];
  return { config: loadConfig(path, (m) => warnings.push(m)), warnings, path };
}

/** The ConfigError loadConfig throws for this object (asserted), as its message and the file's path. */
function refused(cfg: unknown): { message: string; path: string } {
  const path = file(JSON.stringify(cfg));
  let err: unknown;
  try {
    loadConfig(path, () => {});
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, `expected a ConfigError for ${JSON.stringify(cfg)}, got ${String(err)}`);
  assert.ok(err instanceof PanelError && err.code === 'other', 'a PanelError("other"), as a config file error always was');
  assert.ok(err.message.startsWith(`config file ${path}: `), err.message);
  return { message: err.message, path };
}

describe('config.json: booleans are JSON booleans', () => {
  it('refuses "insecure": "false" and "true" (strings), saying what to write instead', () => {
    for (const word of ['false', 'true', 'FALSE', ' false ']) {
      const { message } = refused({ panel: 'cpanel', panelUrl: 'https://127.0.0.1:2083', insecure: word });
      const plain = word.trim().toLowerCase();
      assert.match(message, new RegExp(`"insecure" is the string ${JSON.stringify(word)}, not a JSON boolean: write "insecure": ${plain} \\(no quotes\\), or leave the key out`));
    }
  });

  it('refuses numbers and other words for "insecure" (1 was truthy too)', () => {
    assert.match(refused({ insecure: 1 }).message, /"insecure" must be true or false, without quotes \(true: accept any panel certificate\), but got the number 1/);
    assert.match(refused({ insecure: 0 }).message, /but got the number 0/);
    assert.match(refused({ insecure: 'yes' }).message, /but got the string "yes"/);
    assert.match(refused({ insecure: {} }).message, /but got an object/);
  });

  it('takes true and false as they are', () => {
    assert.deepEqual(load({ insecure: true }).config, { insecure: true });
    assert.deepEqual(load({ insecure: false }).config, { insecure: false });
  });
});

describe('config.json: strings, the panel kind, bins', () => {
  it('refuses a path or URL that is not a string, naming the key (not a raw Node error)', () => {
    assert.match(refused({ panel: 'files', panelRoot: 5 }).message, /"panelRoot" must be a string \(the files panel's directory, the one with panel\.json\), but got the number 5$/);
    assert.match(refused({ panelUrl: ['https://x'] }).message, /"panelUrl" must be a string .* but got an array/);
    assert.match(refused({ panelUser: true }).message, /"panelUser" must be a string .* but got the boolean true/);
    assert.match(refused({ ca: 3 }).message, /"ca" must be a string/);
    assert.match(refused({ root: {} }).message, /"root" must be a string/);
  });

  it('refuses an empty path, URL or user (read as absent it fell back silently), naming the key', () => {
    assert.match(refused({ panel: 'whm', panelUrl: '' }).message, /"panelUrl" is empty: give the URL of the panel's API, https:\/\/…, or leave the key out/);
    assert.match(refused({ panelRoot: ' ' }).message, /"panelRoot" is empty/);
    assert.match(refused({ panelUser: '' }).message, /"panelUser" is empty/);
  });

  it('refuses a panel kind that is not one of the four, naming the key, not --panel', () => {
    const list = /"panel" must be "files", "cpanel", "whm" or "plesk"/;
    assert.match(refused({ panel: ['files'] }).message, list);
    assert.match(refused({ panel: ['files'] }).message, /\(got an array\)$/);
    assert.match(refused({ panel: 'directadmin' }).message, /\(got the string "directadmin"\)$/);
    assert.match(refused({ panel: 'WHM' }).message, /\(got the string "WHM"\): write "panel": "whm"$/);
    assert.match(refused({ panel: '' }).message, list);
    assert.doesNotMatch(refused({ panel: 5 }).message, /--panel/);
  });

  it('checks bins: an object of paths; an unknown tool is a warning', () => {
    assert.match(refused({ bins: '/usr/sbin/plesk' }).message, /"bins" must be an object/);
    assert.match(refused({ bins: { plesk: 5 } }).message, /"bins\.plesk" must be a string/);
    const r = load({ bins: { plesk: '/usr/sbin/plesk', uapy: '/usr/bin/uapi' } });
    assert.deepEqual(r.config, { bins: { plesk: '/usr/sbin/plesk' } });
    assert.deepEqual(r.warnings, [`config file ${r.path}: unknown key "bins.uapy" ignored — did you mean "bins.uapi"?`]);
  });

  it('says every bad key at once', () => {
    const { message } = refused({ panel: 'nope', panelRoot: 5, insecure: 'false' });
    assert.match(message, /"panel" must be .*; "panelRoot" must be a string .*; "insecure" is the string "false"/);
  });
});

describe('config.json: secrets are never shown', () => {
  it('says "the value of token" / "the value of adminToken", not the value', () => {
    const t = refused({ token: 123456789 });
    assert.match(t.message, /"token" must be a string \(the panel's API token\), but the value of token is a number$/);
    assert.doesNotMatch(t.message, /123456789/);
    const a = refused({ adminToken: ['SECRET-TOKEN-123'] });
    assert.match(a.message, /"adminToken" must be a string \(serve's Bearer token for the JSON API\), but the value of adminToken is an array$/);
    assert.doesNotMatch(a.message, /SECRET/);
    assert.doesNotMatch(refused({ token: { v: 'SECRET-TOKEN-123' } }).message, /SECRET/);
  });

  it('an empty token or adminToken is none (not an error): the environment or "no API token" then', () => {
    assert.deepEqual(load({ panel: 'plesk', token: '', adminToken: '' }).config, { panel: 'plesk' });
  });

  it('a config file with a token of the wrong type: createPanel says so (ConfigError), it does not send it', () => {
    const saved = process.env.MAILHEALTH_PANEL_TOKEN;
    delete process.env.MAILHEALTH_PANEL_TOKEN;
    try {
      const configPath = file(JSON.stringify({ panel: 'cpanel', token: 12345 }));
      assert.throws(
        () => createPanel({ panel: 'cpanel', panelUrl: 'https://127.0.0.1:9', panelUser: 'alice', configPath }),
        (e: unknown) => e instanceof ConfigError && /"token" must be a string/.test(e.message) && !/12345/.test(e.message),
      );
    } finally {
      if (saved !== undefined) process.env.MAILHEALTH_PANEL_TOKEN = saved;
    }
  });
});

describe('config.json: unknown keys are warnings, not errors', () => {
  it('warns with the nearest known key, never the value, and leaves the key out', () => {
    const r = load({ panel: 'whm', panelURL: 'https://whm.example.net:2087', tokne: 'SECRET-TOKEN-123', 'panel-ca': '/etc/ca.pem', insecur: true, edited: true });
    assert.deepEqual(r.config, { panel: 'whm' });
    const prefix = `config file ${r.path}: unknown key `;
    assert.deepEqual(r.warnings, [
      `${prefix}"panelURL" ignored — did you mean "panelUrl"?`,
      `${prefix}"tokne" ignored — did you mean "token"?`,
      `${prefix}"panel-ca" ignored — did you mean "ca"?`,
      `${prefix}"insecur" ignored — did you mean "insecure"?`,
      `${prefix}"edited" ignored (this version knows panel, panelRoot, panelUrl, panelUser, token, ca, insecure, adminToken, root, bins)`,
    ]);
    assert.ok(r.warnings.every((w) => !w.includes('SECRET')));
  });

  it('a key name is quoted and escaped, and cut short', () => {
    const r = load({ ['evil\u001b[31m\u202e' + 'x'.repeat(80)]: 1 });
    assert.equal(r.warnings.length, 1);
    assert.doesNotMatch(r.warnings[0], /[\u001b\u202e]/);
    assert.match(r.warnings[0], /unknown key "evil\\u001b\[31m\\u202ex{30}…" ignored/);
  });

  it('nearestKey: case, dashes and underscores do not matter; flag names map to their key; far names get none', () => {
    assert.equal(nearestKey('PANEL_ROOT'), 'panelRoot');
    assert.equal(nearestKey('panel-url'), 'panelUrl');
    assert.equal(nearestKey('panelInsecure'), 'insecure');
    assert.equal(nearestKey('adminTokne'), 'adminToken');
    assert.equal(nearestKey('resolver'), undefined);
    assert.equal(nearestKey('concurrency'), undefined);
  });

  it('null is a key left out (as it always was read)', () => {
    assert.deepEqual(load({ panel: 'whm', ca: null, insecure: null, token: null }).config, { panel: 'whm' });
  });
});

describe('config.json: every existing valid config loads as before', () => {
  const configs: [string, Record<string, unknown>][] = [
    ['install/standalone.sh default', { panel: 'files', panelRoot: '/etc/mailhealth/panel' }],
    ['install/cpanel.sh default', { panel: 'whm' }],
    ['install/plesk.sh default', { panel: 'plesk' }],
    ['install/plesk.sh with its REST key', { panel: 'plesk', token: 'c5b239d1-8eb6-8cee-76b7-aa16be37fee8' }],
    ['README example (WHM on another host)', { panel: 'whm', panelUrl: 'https://whm.example.net:2087', panelUser: 'root', token: '…' }],
    ['README keys, all of them', { panel: 'cpanel', panelRoot: '/srv/panel', panelUrl: 'https://cp.example.net:2083', panelUser: 'bob', token: 't', ca: '/etc/mailhealth/ca.pem', insecure: false, adminToken: 'a' }],
    ['test/cli/stop-exits (root)', { panel: 'whm', panelUrl: 'https://127.0.0.1:2087', token: 'tok-root', root: '/tmp/x/root' }],
    ['test/cli/validate-first (adminToken)', { panel: 'files', panelRoot: '/tmp/x/panel', adminToken: 'secret-token-123' }],
    ['test/web/cgi (Plesk)', { panel: 'plesk', panelUrl: 'https://127.0.0.1:8443', token: 'k' }],
    ['test/install/standalone-start (a leftover panelRoot)', { panel: 'whm', panelRoot: '/etc/mailhealth/panel', panelUrl: 'https://whm.example.net:2087', panelUser: 'root', token: 'T' }],
    ['an empty config', {}],
  ];
  for (const [name, cfg] of configs) {
    it(name, () => {
      const r = load(cfg);
      assert.deepEqual(r.config, cfg);
      assert.deepEqual(r.warnings, []);
    });
  }

  it('test/install/installers (a kept admin config with bins and an unknown "resolver"): loads, "resolver" warned', () => {
    const r = load({ token: 'k', panel: 'plesk', panelUrl: 'https://127.0.0.1:8443', resolver: '9.9.9.9', bins: { plesk: '/usr/sbin/plesk' } });
    assert.deepEqual(r.config, { token: 'k', panel: 'plesk', panelUrl: 'https://127.0.0.1:8443', bins: { plesk: '/usr/sbin/plesk' } });
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /unknown key "resolver" ignored/);
  });

  it('a missing file is still an empty config; JSON that is not an object still "not valid JSON"', () => {
    assert.deepEqual(loadConfig(join(dir, 'none.json')), {});
    assert.throws(() => loadConfig(file('[1, 2]')), /is not valid JSON: not a JSON object/);
    assert.throws(() => loadConfig(file('{"panel": ')), (e: unknown) => e instanceof ConfigError && /is not valid JSON/.test(e.message));
  });

  it('validateConfig is the same check without a file', () => {
    assert.deepEqual(validateConfig({ panel: 'whm' }, '/etc/mailhealth/config.json'), { config: { panel: 'whm' }, warnings: [] });
    assert.throws(() => validateConfig({ insecure: 'false' }, '/etc/mailhealth/config.json'), /^ConfigError: config file \/etc\/mailhealth\/config\.json: "insecure"/);
  });
});
