// The plugin manifests: cPanel install.json + feature file + page, the WHM AppConfig file, the Plesk extension
// (well-formed meta.xml with the required fields, PHP that `php -l` accepts, the sbin helper), and the zip writer
// the Plesk package is made with.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { WHM_RESELLER_ACLS } from '../../src/web/cgi.js';

const M = fileURLToPath(new URL('../../plugin-manifests/', import.meta.url));
const read = (p: string) => readFileSync(join(M, p), 'utf8');
const isPng = (p: string) => readFileSync(join(M, p)).subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/** A tiny XML well-formedness check: one root, balanced tags, no stray "<" or "&". Returns element texts by path. */
function parseXml(xml: string): Map<string, string[]> {
  const body = xml.replace(/^\uFEFF?<\?xml[^?]*\?>\s*/, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: string[] = [];
  const out = new Map<string, string[]>();
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  let roots = 0;
  let text = '';
  while ((m = re.exec(body))) {
    if (m[6]) throw new Error(`stray "<" at ${m.index}`);
    if (m[5] !== undefined) {
      if (!stack.length && m[5].trim()) throw new Error('text outside the root element');
      if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(m[5])) throw new Error('unescaped "&"');
      text += m[5];
      continue;
    }
    const [, close, name, , selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      const path = [...stack, name].join('/');
      out.set(path, [...(out.get(path) ?? []), text.trim()]);
      text = '';
    } else {
      if (!stack.length && ++roots > 1) throw new Error('more than one root element');
      if (!selfClose) stack.push(name);
      text = '';
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('><')}>`);
  return out;
}

describe('cPanel plugin', () => {
  const entries = JSON.parse(read('cpanel/install.json')) as Record<string, unknown>[];

  test('install.json: a link entry with the fields install_plugin requires', () => {
    assert.ok(Array.isArray(entries) && entries.length >= 1);
    const link = entries.find((e) => e.type === 'link')!;
    assert.ok(link, 'a link entry');
    assert.match(String(link.id), /^[0-9a-z_-]+$/);
    assert.equal(typeof link.name, 'string');
    assert.ok(Number.isInteger(link.order));
    assert.ok(['email', 'files', 'databases', 'domains', 'metrics', 'security', 'software', 'advanced', 'preferences'].includes(String(link.group_id)));
    assert.equal(link.uri, 'mailhealth/index.live.cgi');
    assert.equal(link.feature, 'mailhealth');
    const icon = String(link.icon);
    assert.match(icon, /\.(png|svg)$/, 'PNG or SVG icon');
    assert.ok(existsSync(join(M, 'cpanel', icon)), 'icon path inside the plugin directory');
    if (icon.endsWith('.svg')) assert.match(read(`cpanel/${icon}`), /^<svg[\s>]/);
    for (const e of entries) for (const k of Object.keys(e)) assert.ok(['type', 'id', 'name', 'order', 'group_id', 'icon', 'uri', 'target', 'feature', 'if', 'implements', 'a_contents', 'base64_png_image', 'search_text', 'featuremanager'].includes(k), `unknown key ${k}`);
  });

  test('the page is an executable .live.cgi that starts the cPanel front door', () => {
    const page = 'cpanel/mailhealth/index.live.cgi';
    assert.ok(statSync(join(M, page)).mode & 0o111, 'executable');
    assert.match(read(page), /^#!\/bin\/sh\n/);
    assert.match(read(page), /cgi --front-door cpanel\b/);
    assert.doesNotMatch(read(page), /\r/);
  });

  test('Feature Manager feature file: feature:Description', () => {
    assert.match(read('cpanel/mailhealth.feature').trim(), /^mailhealth:[^:\n]+$/);
    assert.ok(isPng('cpanel/mailhealth.png'));
  });
});

describe('WHM AppConfig', () => {
  const conf = Object.fromEntries(
    read('whm/mailhealth.conf')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

  test('required keys and rules (register_appconfig)', () => {
    assert.equal(conf.service, 'whostmgr');
    assert.equal(conf.name, 'mailhealth');
    assert.doesNotMatch(conf.name, /^internal/);
    assert.match(conf.url, /^\/cgi\/.+/);
    assert.notEqual(conf.url, '/cgi/');
    assert.equal(conf.user, 'root');
    // AppConfig's acls means "at least one of these" (cPanel's AppConfig guide): one ACL, the page's edit-dns — the
    // privilege a reseller is likelier to lack — so a reseller with list-accts alone is not offered a page that refuses.
    assert.equal(conf.acls, 'edit-dns');
    assert.ok(WHM_RESELLER_ACLS.some((r) => r.acl === conf.acls), 'the menu asks for one of the privileges the page checks');
    assert.equal(conf.displayname, 'Mail Health');
    assert.equal(`/cgi/${conf.entryurl}`, conf.url, 'entryurl is relative to /cgi/');
    assert.ok(isPng(`whm/${conf.icon}`));
    for (const k of Object.keys(conf)) assert.ok(['name', 'service', 'user', 'url', 'acls', 'features', 'displayname', 'entryurl', 'icon', 'target', 'tagname'].includes(k), `unknown key ${k}`);
  });

  test('the WHM CGI starts the WHM front door', () => {
    assert.ok(statSync(join(M, 'whm/index.cgi')).mode & 0o111);
    assert.match(read('whm/index.cgi'), /cgi --front-door whm\b/);
  });
});

describe('Plesk extension', () => {
  test('meta.xml is well-formed with the required fields', () => {
    const x = parseXml(read('plesk/meta.xml'));
    const one = (k: string) => {
      const v = x.get(`module/${k}`);
      assert.ok(v && v.length >= 1 && v[0], `<${k}> present`);
      return v[0];
    };
    assert.match(one('id'), /^[a-z][a-z0-9-]*$/);
    assert.ok(one('name').length < 60);
    one('description');
    one('vendor');
    assert.match(one('version'), /^\d+\.\d+\.\d+$/);
    assert.match(one('release'), /^\d+$/);
    const min = one('plesk_min_version').split('.').map(Number);
    assert.ok(min[0] > 18 || (min[0] === 18 && (min[1] > 0 || min[2] >= 55)), 'callSbin $env/$stdin need 18.0.55');
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
    assert.equal(one('version'), pkg.version, 'meta.xml version follows package.json');
    assert.throws(() => parseXml('<a><b></a></b>'));
    assert.throws(() => parseXml('<a>x & y</a>'));
  });

  test('php -l accepts every PHP file', (t) => {
    const php = spawnSync('php', ['-v'], { encoding: 'utf8' });
    if (php.status !== 0) return t.skip('php is not installed: PHP files not linted');
    const list = files(join(M, 'plesk')).filter((f) => f.endsWith('.php'));
    assert.ok(list.length >= 3);
    for (const f of list) {
      const r = spawnSync('php', ['-l', f], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${relative(M, f)}: ${r.stdout}${r.stderr}`);
    }
  });

  test('the shim takes the identity from pm_Session and calls only its sbin helper', () => {
    const c = read('plesk/plib/controllers/IndexController.php');
    assert.match(c, /class IndexController extends pm_Controller_Action/);
    assert.match(c, /pm_Session::getClient\(\)/);
    assert.match(c, /hasAccessToDomain/);
    assert.match(c, /pm_ApiCli::callSbin\('mailhealth-v1', \['--user', \$client->getLogin\(\), '--role', \$role\]/);
    assert.doesNotMatch(c, /\$_(GET|POST|REQUEST)\[['"](user|role)/, 'never from request parameters');
    const nav = read('plesk/plib/hooks/CustomButtons.php');
    for (const place of ['PLACE_ADMIN_NAVIGATION', 'PLACE_RESELLER_NAVIGATION', 'PLACE_HOSTING_PANEL_NAVIGATION']) assert.match(nav, new RegExp(place));
    assert.match(read('plesk/htdocs/index.php'), /pm_Context::init\('mailhealth'\)/);
    for (const n of [32, 64, 128]) assert.ok(isPng(`plesk/_meta/icons/${n}x${n}.png`));
  });

  test('sbin helper: executable, LF only, validates its arguments', () => {
    const helper = join(M, 'plesk/sbin/mailhealth-v1');
    assert.ok(statSync(helper).mode & 0o111);
    assert.doesNotMatch(read('plesk/sbin/mailhealth-v1'), /\r/);
    assert.equal(spawnSync('sh', ['-n', helper]).status, 0);
    assert.equal(spawnSync(helper, ['--user', 'alice', '--role', 'customer', '--extra']).status, 64);
    assert.equal(spawnSync(helper, ['--user', '$(id)', '--role', 'customer']).status, 64);
  });

  test('sbin helper name is versioned, and the controller calls that file (Plesk may keep an older sbin copy, §7.4)', () => {
    const called = [...read('plesk/plib/controllers/IndexController.php').matchAll(/pm_ApiCli::callSbin\('([^']+)'/g)].map((m) => m[1]);
    assert.ok(called.length > 0);
    const shipped = readdirSync(join(M, 'plesk/sbin'));
    for (const name of called) {
      assert.match(name, /^mailhealth-v\d+$/, `callSbin('${name}') names an unversioned helper`);
      assert.ok(shipped.includes(name), `sbin/${name} is not shipped`);
    }
    assert.deepEqual(shipped.filter((f) => !called.includes(f)), [], 'no sbin file the controller does not call (an old copy left in the package)');
  });
});

describe('zip writer (scripts/zip.mjs)', () => {
  test('writes a valid zip with Unix modes', async (t) => {
    const { walk, writeZip } = (await import(new URL('../../scripts/zip.mjs', import.meta.url).href)) as {
      walk(dir: string): [string, string, number][];
      writeZip(out: string, entries: [string, string | Buffer, number][]): void;
    };
    const dir = mkdtempSync(join(tmpdir(), 'mailhealth-zip-'));
    try {
      const out = join(dir, 'x.zip');
      const entries = walk(join(M, 'plesk'));
      writeZip(out, [...entries, ['big.txt', Buffer.from('a'.repeat(100_000)), 0o644]]);
      const py = spawnSync('python3', ['-c', 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print("\\n".join("%s %o" % (i.filename, i.external_attr >> 16) for i in z.infolist()))', out], { encoding: 'utf8' });
      if (py.status === null || /No such file|not found/.test(py.stderr)) return t.skip('python3 missing');
      assert.equal(py.status, 0, py.stderr);
      assert.match(py.stdout, /^sbin\/mailhealth-v1 100755$/m);
      assert.match(py.stdout, /^meta\.xml 100644$/m);
      assert.match(py.stdout, /^big\.txt 100644$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
