// The files panel contract: scope per identity, zone and mail-settings reads, surgical atomic writes.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { FilesPanel, fileVersion } from '../../../../src/adapters/panels/files/index.js';
import { canAccess, PanelError } from '../../../../src/core/panel.js';
import type { Change, ZoneRecord } from '../../../../src/core/model.js';
import { MAILCHANNELS, rsaKey, writePanel } from '../../../helpers/scenario.js';
import { applyPlan, undoChange } from '../../../../src/core/plans/apply.js';
import { startPlay } from '../../../helpers/fixplay.js';

const ZONE = `; cPanel-style header: keep me
$TTL 3600
@\tIN\tSOA\tns1.newhost.example. hostmaster.newhost.example. (
\t\t2024010101 ; serial
\t\t3600 1800 1209600 300 )
\tIN\tNS\tns1.newhost.example.
\tIN\tNS\tns2.newhost.example.
@\tIN\tA\t203.0.113.10
mail\tIN\tA\t203.0.113.10
@\t600\tIN\tMX\t10 mail
@\tIN\tTXT\t"v=spf1 +a +mx include:websitewelcome.com ~all"
default._domainkey\tIN\tTXT\t( "v=DKIM1; k=rsa; p=AAAA"
\t\t"BBBB" )
_dmarc\tIN\tTXT\t"v=DMARC1; p=none"   ; trailing comment
www\tIN\tCNAME\t@
`;

let root: string;
let panel: FilesPanel;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mailhealth-files-'));
  writePanel(root, {
    server: { relay: MAILCHANNELS },
    accounts: [
      { user: 'root', role: 'admin' },
      { user: 'rita', role: 'reseller' },
      { user: 'alice', role: 'customer', domains: ['bakery.test', 'Florist.test'] },
      { user: 'bob', role: 'customer', owner: 'rita', domains: ['plumber.test'] },
      { user: 'carol', role: 'customer', owner: 'rita', domains: ['lawyer.test', 'bücher.example'] },
    ],
    domains: { 'bakery.test': { zone: ZONE, overrides: { mailRouting: 'remote', ips: ['203.0.113.11', '2001:db8::11'] } }, 'plumber.test': { pem: null } },
  });
  panel = new FilesPanel(root);
  panel.now = () => new Date(Date.UTC(2026, 10, 1));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const names = (l: { domain: string }[]) => l.map((d) => d.domain).sort();

test('listDomains per identity: customer own, reseller its customers’, admin all, unknown none', async () => {
  assert.deepEqual(names(await panel.listDomains({ user: 'alice', role: 'customer' })), ['bakery.test', 'florist.test']);
  assert.deepEqual(names(await panel.listDomains({ user: 'rita', role: 'reseller' })), ['lawyer.test', 'plumber.test', 'xn--bcher-kva.example']);
  assert.deepEqual(names(await panel.listDomains({ user: 'root', role: 'admin' })), ['bakery.test', 'florist.test', 'lawyer.test', 'plumber.test', 'xn--bcher-kva.example']);
  assert.deepEqual(await panel.listDomains({ user: 'mallory', role: 'admin' }), []);
  assert.deepEqual(await panel.listDomains({ user: 'alice', role: 'admin' }), [], 'a role the account does not have gives nothing');
  const bob = await panel.listDomains({ user: 'bob', role: 'customer' });
  assert.deepEqual(bob, [{ domain: 'plumber.test', owner: 'bob', reseller: 'rita' }]);
  assert.equal(await canAccess(panel, { user: 'bob', role: 'customer' }, 'bakery.test'), null);
  assert.deepEqual((await panel.listAccounts()).find((a) => a.user === 'bob'), { user: 'bob', role: 'customer', owner: 'rita' });
});

test('readZone: absolute names, TXT chunks, serial, version', async () => {
  const z = await panel.readZone('Bakery.TEST.');
  assert.equal(z.domain, 'bakery.test');
  assert.equal(z.serial, 2024010101);
  assert.equal(z.version, fileVersion(ZONE));
  const by = (n: string, t: string) => z.records.filter((r) => r.name === n && r.type === t);
  assert.deepEqual(by('bakery.test', 'NS').map((r) => r.value), ['ns1.newhost.example', 'ns2.newhost.example']);
  assert.deepEqual(by('bakery.test', 'MX')[0], { ...by('bakery.test', 'MX')[0], value: '10 mail.bakery.test', ttl: 600 });
  const dk = by('default._domainkey.bakery.test', 'TXT')[0];
  assert.deepEqual(dk.txt, ['v=DKIM1; k=rsa; p=AAAA', 'BBBB']);
  assert.equal(dk.value, 'v=DKIM1; k=rsa; p=AAAABBBB');
  assert.equal(by('www.bakery.test', 'CNAME')[0].value, 'bakery.test');
  assert.equal(by('_dmarc.bakery.test', 'TXT')[0].value, 'v=DMARC1; p=none');
  await assert.rejects(panel.readZone('nothere.test'), (e: unknown) => e instanceof PanelError && e.code === 'not-found');
});

test('readMailSettings: server settings, per-domain overrides, public key from the PEM', async () => {
  const s = await panel.readMailSettings('bakery.test');
  assert.equal(s.hostname, 'server1.newhost.example');
  assert.equal(s.helo, 'server1.newhost.example');
  assert.deepEqual(s.ips, ['203.0.113.11', '2001:db8::11']);
  assert.equal(s.routing, 'remote');
  assert.deepEqual(s.nameservers, ['ns1.newhost.example', 'ns2.newhost.example']);
  assert.deepEqual(s.relay, MAILCHANNELS);
  assert.equal(s.dkim.selector, 'default');
  assert.equal(s.dkim.signing, true);
  assert.equal(s.dkim.publicKey, rsaKey().publicB64);
  assert.equal(s.dkim.publicKey, createPublicKey(readFileSync(join(root, 'dkim', 'bakery.test.pem'), 'utf8')).export({ type: 'spki', format: 'der' }).toString('base64'));
  const p = await panel.readMailSettings('plumber.test');
  assert.deepEqual(p.ips, ['203.0.113.10']);
  assert.equal(p.routing, 'local');
  assert.equal(p.dkim.signing, false, 'no key: not signing');
  assert.equal(p.dkim.publicKey, undefined);
  writeFileSync(join(root, 'domains', 'plumber.test.json'), '{ not json');
  await assert.rejects(panel.readMailSettings('plumber.test'), (e: unknown) => e instanceof PanelError && /not valid JSON/.test(e.message));
});

function rec(z: { records: ZoneRecord[] }, name: string, type: string): ZoneRecord {
  const r = z.records.find((x) => x.name === name && x.type === type);
  assert.ok(r, `${name} ${type}`);
  return r;
}

test('applyChanges edit: only that record’s lines and the serial change; atomic; new version', async () => {
  const z = await panel.readZone('bakery.test');
  const before = rec(z, 'bakery.test', 'TXT');
  const after: ZoneRecord = { name: 'bakery.test', ttl: 3600, type: 'TXT', value: 'v=spf1 +a +mx ~all', txt: ['v=spf1 +a +mx ~all'] };
  const res = await panel.applyChanges('bakery.test', [{ action: 'edit', name: before.name, type: 'TXT', ttl: 3600, before, after }], z.version);
  const text = readFileSync(join(root, 'zones', 'bakery.test.db'), 'utf8');
  assert.equal(res.version, fileVersion(text));
  const expected = ZONE.replace('2024010101 ; serial', '2026110100 ; serial').replace('@\tIN\tTXT\t"v=spf1 +a +mx include:websitewelcome.com ~all"', 'bakery.test.\t3600\tIN\tTXT\t"v=spf1 +a +mx ~all"');
  assert.equal(text, expected, 'every other byte identical');
  assert.deepEqual(readdirSync(join(root, 'zones')).sort(), ['bakery.test.db', 'plumber.test.db'], 'no temp file left behind');
  assert.equal((await panel.readZone('bakery.test')).serial, 2026110100);
});

test("applyChanges keeps the zone file's mode, and (as root) its owner and group", async () => {
  const file = join(root, 'zones', 'bakery.test.db');
  chmodSync(file, 0o640);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(file, 0, 65534);
  const z = await panel.readZone('bakery.test');
  const before = rec(z, 'bakery.test', 'TXT');
  const after: ZoneRecord = { name: 'bakery.test', ttl: 3600, type: 'TXT', value: 'v=spf1 +a +mx ~all', txt: ['v=spf1 +a +mx ~all'] };
  const old = process.umask(0o077);
  try {
    await panel.applyChanges('bakery.test', [{ action: 'edit', name: before.name, type: 'TXT', ttl: 3600, before, after }], z.version);
  } finally {
    process.umask(old);
  }
  const st = statSync(file);
  assert.equal(st.mode & 0o7777, 0o640);
  if (asRoot) assert.equal(st.gid, 65534);
  assert.match(readFileSync(file, 'utf8'), /"v=spf1 \+a \+mx ~all"/);
});

test('applyChanges add and remove (multi-line record), serial bump', async () => {
  const z = await panel.readZone('bakery.test');
  const dk = rec(z, 'default._domainkey.bakery.test', 'TXT');
  const changes: Change[] = [
    { action: 'remove', name: dk.name, type: 'TXT', ttl: dk.ttl, before: dk, after: null },
    { action: 'add', name: '_mailchannels.bakery.test', type: 'TXT', ttl: 300, before: null, after: { name: '_mailchannels.bakery.test', ttl: 300, type: 'TXT', value: 'v=mc1 auth=newhostmc' } },
  ];
  await panel.applyChanges('bakery.test', changes, z.version);
  const text = readFileSync(join(root, 'zones', 'bakery.test.db'), 'utf8');
  const expected =
    ZONE.replace('2024010101 ; serial', '2026110100 ; serial').replace('default._domainkey\tIN\tTXT\t( "v=DKIM1; k=rsa; p=AAAA"\n\t\t"BBBB" )\n', '') +
    '_mailchannels.bakery.test.\t300\tIN\tTXT\t"v=mc1 auth=newhostmc"\n';
  assert.equal(text, expected);
  const z2 = await panel.readZone('bakery.test');
  assert.equal(z2.records.filter((r) => r.name === 'default._domainkey.bakery.test').length, 0);
  assert.equal(rec(z2, '_mailchannels.bakery.test', 'TXT').value, 'v=mc1 auth=newhostmc');
  // A second write the same day: old+1.
  const mx = rec(z2, 'bakery.test', 'MX');
  await panel.applyChanges('bakery.test', [{ action: 'edit', name: mx.name, type: 'MX', ttl: 600, before: mx, after: { ...mx, value: '5 mail.bakery.test', ref: undefined } }], z2.version);
  const z3 = await panel.readZone('bakery.test');
  assert.equal(z3.serial, 2026110101);
  assert.equal(rec(z3, 'bakery.test', 'MX').value, '5 mail.bakery.test');
});

test('applyChanges refuses a stale version and a changed `before`, writing nothing', async () => {
  const z = await panel.readZone('bakery.test');
  const before = rec(z, 'bakery.test', 'TXT');
  const edit = (b: ZoneRecord): Change => ({ action: 'edit', name: b.name, type: 'TXT', ttl: 3600, before: b, after: { ...b, value: 'v=spf1 -all', txt: ['v=spf1 -all'] } });
  // Someone edits the file after our read.
  const path = join(root, 'zones', 'bakery.test.db');
  writeFileSync(path, ZONE + 'extra\tIN\tA\t192.0.2.1\n');
  await assert.rejects(panel.applyChanges('bakery.test', [edit(before)], z.version), (e: unknown) => e instanceof PanelError && e.code === 'stale');
  assert.equal(readFileSync(path, 'utf8'), ZONE + 'extra\tIN\tA\t192.0.2.1\n');
  // Current version, but the caller's copy of the record is not what the file holds.
  const z2 = await panel.readZone('bakery.test');
  const wrong = { ...rec(z2, 'bakery.test', 'TXT'), value: 'v=spf1 something else', txt: ['v=spf1 something else'] };
  await assert.rejects(panel.applyChanges('bakery.test', [edit(wrong)], z2.version), (e: unknown) => e instanceof PanelError && e.code === 'stale');
  const moved = { ...rec(z2, 'bakery.test', 'TXT'), ref: rec(z2, 'bakery.test', 'MX').ref };
  await assert.rejects(panel.applyChanges('bakery.test', [edit(moved)], z2.version), (e: unknown) => e instanceof PanelError && e.code === 'stale');
  assert.equal(readFileSync(path, 'utf8'), ZONE + 'extra\tIN\tA\t192.0.2.1\n');
});

test('path traversal in a domain name is refused everywhere', async () => {
  writeFileSync(join(root, 'secret.db'), '@ IN A 192.0.2.1\n');
  for (const bad of ['../secret', '../../etc/passwd', 'zones/../secret', '..', 'a/b.test', 'a\\b.test', '%2e%2e/secret', 'bakery.test\0.db']) {
    await assert.rejects(panel.readZone(bad), (e: unknown) => e instanceof PanelError && e.code === 'not-found', bad);
    await assert.rejects(panel.readMailSettings(bad), (e: unknown) => e instanceof PanelError, bad);
    await assert.rejects(panel.applyChanges(bad, [], 'x'), (e: unknown) => e instanceof PanelError, bad);
  }
});

test('an IDN domain is read through its A-label file', async () => {
  writeFileSync(join(root, 'zones', 'xn--bcher-kva.example.db'), '$TTL 300\n@ IN SOA ns1.x. h.x. 1 2 3 4 5\n@ IN NS ns1.newhost.example.\n');
  const z = await panel.readZone('bücher.example');
  assert.equal(z.domain, 'xn--bcher-kva.example');
  assert.equal(z.records[0].name, 'xn--bcher-kva.example');
  assert.equal((await panel.readMailSettings('bücher.example')).domain, 'xn--bcher-kva.example');
});

test('generateDkim writes a 2048-bit key and turns signing on', async () => {
  const s = await panel.generateDkim('plumber.test');
  assert.equal(s.dkim.signing, true);
  assert.ok(s.dkim.publicKey && s.dkim.publicKey.length > 350);
  assert.deepEqual(JSON.parse(readFileSync(join(root, 'domains', 'plumber.test.json'), 'utf8')), { dkim: true });
});

test('startDkimSigning: signing off with a key → startSigning "switch"; it turns the override on (others kept), changes no zone; no key → unsupported', async () => {
  writeFileSync(join(root, 'domains', 'bakery.test.json'), JSON.stringify({ mailRouting: 'remote', dkim: false }));
  const off = await panel.readMailSettings('bakery.test');
  assert.equal(off.dkim.signing, false);
  assert.equal(off.dkim.startSigning, 'switch');
  const zone = readFileSync(join(root, 'zones', 'bakery.test.db'), 'utf8');
  const on = await panel.startDkimSigning('bakery.test');
  assert.equal(on.dkim.signing, true);
  assert.equal(on.dkim.startSigning, undefined);
  assert.deepEqual(JSON.parse(readFileSync(join(root, 'domains', 'bakery.test.json'), 'utf8')), { mailRouting: 'remote', dkim: true });
  assert.equal(readFileSync(join(root, 'zones', 'bakery.test.db'), 'utf8'), zone);
  assert.deepEqual(readdirSync(join(root, 'domains')).filter((f) => f.endsWith('.tmp')), []);
  // plumber.test has no key: nothing to sign with (and its settings never offer it).
  assert.equal((await panel.readMailSettings('plumber.test')).dkim.startSigning, undefined);
  await assert.rejects(panel.startDkimSigning('plumber.test'), (e: unknown) => e instanceof PanelError && e.code === 'unsupported' && /no DKIM key for plumber\.test/.test(e.message));
});

test('a missing panel.json is a not-found PanelError', () => {
  assert.throws(() => new FilesPanel(join(root, 'nope')), (e: unknown) => e instanceof PanelError && e.code === 'not-found');
});

test('every read sees the files as they are now: panel.json, the key and the zone changed since the last read', async () => {
  const before = await panel.readMailSettings('bakery.test');
  const z = await panel.readZone('bakery.test');
  // panel.json rewritten with the same size (mtime moves): the new hostname is seen.
  const cfgPath = join(root, 'panel.json');
  const cfg = readFileSync(cfgPath, 'utf8');
  assert.ok(cfg.includes('server1.newhost.example'));
  writeFileSync(cfgPath, cfg.replace('server1.newhost.example', 'server2.newhost.example'));
  // Another key in the same file.
  const other = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pem = other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(join(root, 'dkim', 'bakery.test.pem'), pem);
  const after = await panel.readMailSettings('bakery.test');
  assert.equal(after.hostname, 'server2.newhost.example');
  assert.equal(after.dkim.privateKeyPem, pem);
  assert.equal(after.dkim.publicKey, other.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
  assert.notEqual(after.dkim.publicKey, before.dkim.publicKey);
  // The first key again (back to an earlier file content): its own public key, not the last one.
  writeFileSync(join(root, 'dkim', 'bakery.test.pem'), before.dkim.privateKeyPem!);
  assert.equal((await panel.readMailSettings('bakery.test')).dkim.publicKey, before.dkim.publicKey);
  rmSync(join(root, 'dkim', 'bakery.test.pem'));
  const none = await panel.readMailSettings('bakery.test');
  assert.equal(none.dkim.privateKeyPem, undefined);
  assert.equal(none.dkim.publicKey, undefined);
  // The zone: a record added by someone else is in the next read, with a new version.
  writeFileSync(join(root, 'zones', 'bakery.test.db'), ZONE + 'extra\tIN\tA\t192.0.2.1\n');
  const z2 = await panel.readZone('bakery.test');
  assert.notEqual(z2.version, z.version);
  assert.equal(z2.records.length, z.records.length + 1);
  assert.deepEqual(rec(z2, 'extra.bakery.test', 'A'), { name: 'extra.bakery.test', ttl: 3600, type: 'A', value: '192.0.2.1', ref: '15-15', source: 'extra\tIN\tA\t192.0.2.1' });
});

test('readZone: a record’s source is its exact lines (CRLF kept inside, multi-line records whole)', async () => {
  const crlf = ZONE.replace(/\n/g, '\r\n');
  writeFileSync(join(root, 'zones', 'bakery.test.db'), crlf);
  const z = await panel.readZone('bakery.test');
  const dk = rec(z, 'default._domainkey.bakery.test', 'TXT');
  assert.equal(dk.source, 'default._domainkey\tIN\tTXT\t( "v=DKIM1; k=rsa; p=AAAA"\r\n\t\t"BBBB" )\r');
  assert.equal(rec(z, 'www.bakery.test', 'CNAME').source, 'www\tIN\tCNAME\t@\r');
  const lines = crlf.split('\n');
  for (const r of z.records) {
    const [s, e] = r.ref!.split('-').map(Number);
    assert.equal(r.source, lines.slice(s, e + 1).join('\n'));
  }
});

test('a parenthesis left open to the end of the file: reported, and no write happens (it would rewrite the swallowed records away)', async () => {
  const broken = ZONE.replace('@\tIN\tTXT\t"v=spf1 +a +mx include:websitewelcome.com ~all"', '_dmarc\tIN\tTXT\t( "v=DMARC1; p=none"\n@\tIN\tTXT\t"v=spf1 +a +mx include:websitewelcome.com ~all"');
  writeFileSync(join(root, 'zones', 'plumber.test.db'), broken);
  const zone = await panel.readZone('plumber.test');
  const dmarc = zone.records.find((r) => r.name === '_dmarc.plumber.test')!;
  const change: Change = { action: 'edit', name: dmarc.name, type: 'TXT', ttl: dmarc.ttl, before: dmarc, after: { name: dmarc.name, ttl: 3600, type: 'TXT', value: 'v=DMARC1; p=none', txt: ['v=DMARC1; p=none'] } };
  await assert.rejects(panel.applyChanges('plumber.test', [change], zone.version), (e: unknown) => e instanceof PanelError && e.code === 'invalid-zone' && /never closed/.test(e.message));
  assert.equal(readFileSync(join(root, 'zones', 'plumber.test.db'), 'utf8'), broken);
});

// A CRLF zone whose last line has no line break: a parenthesised two-line SPF (each line with a comment), a record
// with a blank owner after it, a single-line DMARC, a record followed by one that inherits its owner.
const CRLF_ZONE = [
  '; CRLF zone, its last line without a line break',
  '$TTL 3600',
  '@\tIN\tSOA\tns1.newhost.example. hostmaster.newhost.example. (',
  '\t\t2024010101 ; serial',
  '\t\t3600 1800 1209600 300 )',
  '\tIN\tNS\tns1.newhost.example.',
  '\tIN\tNS\tns2.newhost.example.',
  '@\tIN\tA\t203.0.113.10',
  '@\t300\tIN\tTXT\t( "v=spf1 +a +mx "   ; first half',
  '\t\t"include:websitewelcome.com ~all" )  ; second half',
  '\tIN\tMX\t10 mail',
  'mail\tIN\tA\t203.0.113.10',
  '_dmarc\tIN\tTXT\t"v=DMARC1; p=none; rua=mailto:dmarc@websitewelcome.com"',
  'old\tIN\tA\t192.0.2.9',
  '\tIN\tTXT\t"inherits the owner old"',
  'www\tIN\tCNAME\t@',
].join('\r\n');
/** Every line break is CRLF: no '\n' without its '\r', no '\r' twice. */
const allCrlf = (t: string) => !/(^|[^\r])\n/.test(t) && !t.includes('\r\r');
const withSerial = (t: string, serial: number) => t.replace(/^(\t\t)[0-9]+( ; serial)/m, `$1${serial}$2`);

test('CRLF zone: every line a write adds or rewrites ends with CRLF (edited record, owner written out, a record appended after a last line without a break)', async () => {
  writeFileSync(join(root, 'zones', 'bakery.test.db'), CRLF_ZONE);
  const z = await panel.readZone('bakery.test');
  const spf = rec(z, 'bakery.test', 'TXT');
  const old = rec(z, 'old.bakery.test', 'A');
  const changes: Change[] = [
    { action: 'edit', name: spf.name, type: 'TXT', ttl: 300, before: spf, after: { name: 'bakery.test', ttl: 300, type: 'TXT', value: 'v=spf1 +a +mx ~all', txt: ['v=spf1 +a +mx ~all'] } },
    { action: 'remove', name: old.name, type: 'A', ttl: old.ttl, before: old, after: null },
    { action: 'add', name: '_mailchannels.bakery.test', type: 'TXT', ttl: 300, before: null, after: { name: '_mailchannels.bakery.test', ttl: 300, type: 'TXT', value: 'v=mc1 auth=newhostmc' } },
  ];
  await panel.applyChanges('bakery.test', changes, z.version);
  const text = readFileSync(join(root, 'zones', 'bakery.test.db'), 'utf8');
  const expected =
    CRLF_ZONE.replace('2024010101 ; serial', '2026110100 ; serial')
      .replace('@\t300\tIN\tTXT\t( "v=spf1 +a +mx "   ; first half\r\n\t\t"include:websitewelcome.com ~all" )  ; second half', 'bakery.test.\t300\tIN\tTXT\t"v=spf1 +a +mx ~all"')
      .replace('old\tIN\tA\t192.0.2.9\r\n\tIN\tTXT\t"inherits the owner old"', 'old.bakery.test.\tIN\tTXT\t"inherits the owner old"') +
    '\r\n_mailchannels.bakery.test.\t300\tIN\tTXT\t"v=mc1 auth=newhostmc"\r\n';
  assert.equal(text, expected);
  assert.ok(allCrlf(text), JSON.stringify(text));
});

test('CRLF zone: undo of an SPF and a DMARC edit writes each record back in its original text — the file is byte-identical but for the serial', async () => {
  writeFileSync(join(root, 'zones', 'bakery.test.db'), CRLF_ZONE);
  const z = await panel.readZone('bakery.test');
  const spf = rec(z, 'bakery.test', 'TXT');
  const dmarc = rec(z, '_dmarc.bakery.test', 'TXT');
  assert.equal(spf.ref, '8-9', 'the two-line SPF');
  const newSpf: ZoneRecord = { name: 'bakery.test', ttl: 300, type: 'TXT', value: 'v=spf1 +a +mx include:relay.mailchannels.net ~all', txt: ['v=spf1 +a +mx include:relay.mailchannels.net ~all'] };
  const newDmarc: ZoneRecord = { name: '_dmarc.bakery.test', ttl: 3600, type: 'TXT', value: 'v=DMARC1; p=none; rua=mailto:postmaster@bakery.test', txt: ['v=DMARC1; p=none; rua=mailto:postmaster@bakery.test'] };
  const applied: Change[] = [
    { action: 'edit', name: spf.name, type: 'TXT', ttl: 300, before: spf, after: newSpf },
    { action: 'edit', name: dmarc.name, type: 'TXT', ttl: 3600, before: dmarc, after: newDmarc },
  ];
  await panel.applyChanges('bakery.test', applied, z.version);
  const fixed = readFileSync(join(root, 'zones', 'bakery.test.db'), 'utf8');
  assert.ok(allCrlf(fixed), JSON.stringify(fixed));
  assert.ok(fixed.endsWith('www\tIN\tCNAME\t@'), 'the last line still has no line break');
  // The undo as core makes it (inverseChanges): each record as it is now, back to the record as it was, source and all.
  const z2 = await panel.readZone('bakery.test');
  const undo: Change[] = applied.map((c) => {
    const cur = rec(z2, c.name, 'TXT');
    assert.equal(cur.value, c.after!.value);
    return { action: 'edit', name: cur.name, type: cur.type, ttl: cur.ttl, before: cur, after: { ...c.before!, ref: undefined } };
  });
  await panel.applyChanges('bakery.test', undo, z2.version);
  const text = readFileSync(join(root, 'zones', 'bakery.test.db'), 'utf8');
  assert.equal(text, withSerial(CRLF_ZONE, 2026110101));
});

test('CRLF zone: undo of a removal puts the record back where it stood, in its original text with CRLF', async () => {
  const original = CRLF_ZONE + '\r\n';
  writeFileSync(join(root, 'zones', 'bakery.test.db'), original);
  const z = await panel.readZone('bakery.test');
  const dmarc = rec(z, '_dmarc.bakery.test', 'TXT');
  await panel.applyChanges('bakery.test', [{ action: 'remove', name: dmarc.name, type: 'TXT', ttl: dmarc.ttl, before: dmarc, after: null }], z.version);
  const removed = readFileSync(join(root, 'zones', 'bakery.test.db'), 'utf8');
  assert.equal(removed, withSerial(original, 2026110100).replace('_dmarc\tIN\tTXT\t"v=DMARC1; p=none; rua=mailto:dmarc@websitewelcome.com"\r\n', ''));
  // The undo as core makes it: the record as it was, its old ref a hint of where it stood.
  const z2 = await panel.readZone('bakery.test');
  await panel.applyChanges('bakery.test', [{ action: 'add', name: dmarc.name, type: 'TXT', ttl: dmarc.ttl, before: null, after: { ...dmarc } }], z2.version);
  assert.equal(readFileSync(join(root, 'zones', 'bakery.test.db'), 'utf8'), withSerial(original, 2026110101));
});

test('CRLF zone, end to end (planner, apply, undo): the SPF and DMARC fixes keep CRLF, undoing both gives the file back byte for byte but the serial', async () => {
  const play = await startPlay();
  try {
    // QA's weird.example: CRLF, no line break at the end, $ORIGIN switches, a two-line SPF in parentheses.
    const original = [
      '; weird.example — Zoné with odd formatting',
      '$TTL 1h',
      '$ORIGIN weird.example.',
      '@\tIN\tSOA\tns1.newhost.example. hostmaster.newhost.example. (',
      '\t\t2026110101 ; serial',
      '\t\t3600 1800 1209600 300 )',
      '\tIN\tNS\tns1.newhost.example.',
      '\tIN\tNS\tns2.newhost.example.',
      '@ 600 IN A 203.0.113.10',
      '@\tIN\tMX\t10 mail',
      'mail\tIN\tA\t203.0.113.10',
      '@\t300\tIN\tTXT\t( "v=spf1 +a +mx "   ; first half',
      '\t\t"include:netblocks.dreamhost.com ~all" )  ; second half',
      '\t2d\tIN\tTXT\t"caf\\195\\169 owner-inherits; semi" "and a second string"',
      '_dmarc\tIN\tTXT\t"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@dreamhost.com"',
      '_mailchannels IN TXT "v=mc1 auth=dreamhost"',
      '$ORIGIN sub.weird.example.',
      'x\tIN\tA\t192.0.2.1 ; sub record',
      'y\tIN\tTXT\t"last line, no newline"',
    ].join('\r\n');
    const domain = 'weird.example';
    play.writeZone(domain, original);
    play.refresh();
    const ids: number[] = [];
    for (const check of ['spf', 'dmarc'] as const) {
      const plan = await play.plan(domain, check);
      assert.equal(plan.mode, 'apply');
      assert.equal(plan.blocked, undefined);
      assert.ok(plan.changes.some((c) => c.action === 'edit' && c.before?.source), `${check}: an edit of a record read from the file`);
      const out = await applyPlan({ domain, check, planHash: plan.planHash }, play.deps());
      assert.equal(out.status, 'applied', JSON.stringify(out));
      if (out.status === 'applied') ids.push(out.changeId);
      const text = play.zoneText(domain);
      assert.ok(allCrlf(text), `${check}: ${JSON.stringify(text)}`);
      assert.ok(text.endsWith('y\tIN\tTXT\t"last line, no newline"'));
    }
    assert.notEqual(play.zoneText(domain), original);
    for (const id of ids.reverse()) assert.equal((await undoChange(id, play.deps())).status, 'applied');
    const text = play.zoneText(domain);
    const serial = Number(/^\t\t([0-9]+) ; serial/m.exec(text)?.[1]);
    assert.ok(serial > 2026110101);
    assert.equal(text, withSerial(original, serial));
  } finally {
    await play.close();
  }
});

test('panel.json missing a server field or with a malformed account: a clear PanelError naming it, not a crash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mh-files-cfg-'));
  try {
    const write = (cfg: unknown) => writeFileSync(join(dir, 'panel.json'), JSON.stringify(cfg));
    const server = { hostname: 'h.example', ips: ['203.0.113.10'], nameservers: ['ns1.h.example'] };
    const cases: [unknown, RegExp][] = [
      [{ server: { hostname: 'h.example', nameservers: [] }, accounts: [] }, /"server" needs "ips"/],
      [{ server: { ips: [], nameservers: [] }, accounts: [] }, /"server" needs "hostname"/],
      [{ server: { ...server, nameservers: 'ns1' }, accounts: [] }, /"server" needs "nameservers"/],
      [{ server, accounts: [{ user: 'a', role: 'customer', domains: 'a.example' }] }, /"accounts" needs "user" and "role"/],
      [[], /needs "server" and "accounts"/],
    ];
    for (const [cfg, msg] of cases) {
      write(cfg);
      const panel = new FilesPanel(dir);
      await assert.rejects(panel.listDomains({ user: 'root', role: 'admin' }), (e: unknown) => e instanceof PanelError && msg.test(e.message));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
