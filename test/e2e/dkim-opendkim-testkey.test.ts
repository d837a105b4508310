// OpenDKIM's key check as a judge of the DKIM fix and of dkim.compat: `opendkim-testkey -d DOMAIN -s SELECTOR -k KEY`
// (OpenDKIM 2.11, Debian's opendkim-tools; no daemon) fetches the key record at SELECTOR._domainkey.DOMAIN, parses it as
// the OpenDKIM verifier does (dkim_get_key) and compares its p= with the public half of the private key, octet for
// octet as a SubjectPublicKeyInfo (i2d_RSA_PUBKEY). It runs inside a private network + mount namespace whose only DNS
// server is mailhealth's loopback server (test/helpers/netns-dns.ts). Debian builds it with libunbound, which recurses
// from the root servers itself rather than asking /etc/resolv.conf's server: a ResolverConfiguration (an unbound.conf
// forwarding every name to 127.0.0.1) points it at the loopback server; `-x` with that file alone also keeps a host's
// /etc/opendkim.conf out of it.
//
// Its output (read by running it): exit 0 and "key OK" on stdout (with -vvv) when the record's key is the private
// key's; exit 65 (EX_DATAERR) and "keys do not match" when it is another key — or the same key as a bare
// RSAPublicKey (PKCS#1), which is no SubjectPublicKeyInfo; exit 69 (EX_UNAVAILABLE) with the reason on stderr ("record
// not found", "Revoked key") when there is no key to compare.
//
// 1. Every record the DKIM fix writes (planDkim over starting states: none, a previous host's key, the server's key in
//    forms mailhealth republishes) — as the fix writes it, in strings — is "key OK" to OpenDKIM.
// 2. The server's key with p= as PKCS#1 fails (README's claim that OpenDKIM fails PKCS#1, and dkim.compat's text).
// 3. For the server's key in each form: dkim.compat's warning names OpenDKIM (p= encoding) exactly where OpenDKIM fails
//    it. g= (empty, or a value other than *) is Mail::DKIM's difference only: dkim.compat warns without naming OpenDKIM,
//    and OpenDKIM says "key OK" (it ignores g=). Forms mailhealth calls fine (SubjectPublicKeyInfo, t=s, h=sha256, g=*,
//    no v=, the key split into strings) are "key OK".
//
// Skipped with a message where the namespace cannot be made (not root, no unshare/ip, namespaces not permitted) or
// opendkim-testkey is missing (.ci/run installs opendkim-tools and iproute2).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServedZoneMap } from '../../src/adapters/dns/server.js';
import { dkimCheck } from '../../src/core/checks/dkim.js';
import type { Finding, MailSettings, ZoneRecord } from '../../src/core/model.js';
import { planDkim } from '../../src/core/plans/dkim.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { checkContext } from '../core/checks/context.js';
import { netnsSkip, runWithServedZones, type NetnsResult } from '../helpers/netns-dns.js';

const INSTALL = 'apt-get install opendkim-tools; .ci/run installs it';

function findSkip(): string | undefined {
  const ns = netnsSkip();
  if (ns) return ns;
  const probe = spawnSync('opendkim-testkey', [], { encoding: 'utf8' });
  if (probe.error) return `no opendkim-testkey runs (${INSTALL}): ${probe.error.message}`;
  return undefined;
}
const skip = findSkip();

const SELECTOR = 'default';
function rsa(): { privateKey: KeyObject; spki: string; pkcs1: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pub = createPublicKey(privateKey);
  return { privateKey, spki: pub.export({ type: 'spki', format: 'der' }).toString('base64'), pkcs1: pub.export({ type: 'pkcs1', format: 'der' }).toString('base64') };
}

/** Starting states of `default._domainkey.<domain>`: its TXT values (`{spki}`/`{pkcs1}`: the server's key, `{other}`: another key's SPKI), each cut into strings of at most `chunk` characters (default 250). */
const CASES: { label: string; records: string[]; chunk?: number; server: 'fine' | 'compat' | 'other'; panelKey?: 'pkcs1' }[] = [
  { label: 'SubjectPublicKeyInfo', records: ['v=DKIM1; k=rsa; p={spki}'], server: 'fine' },
  { label: 'SPKI, split into strings of 100', records: ['v=DKIM1; k=rsa; p={spki}'], chunk: 100, server: 'fine' },
  { label: 't=s', records: ['v=DKIM1; k=rsa; t=s; p={spki}'], server: 'fine' },
  { label: 'h=sha256', records: ['v=DKIM1; k=rsa; h=sha256; p={spki}'], server: 'fine' },
  { label: 'g=*', records: ['v=DKIM1; k=rsa; g=*; p={spki}'], server: 'fine' },
  { label: 'no v=, no k=', records: ['p={spki}'], server: 'fine' },
  { label: 'PKCS#1', records: ['v=DKIM1; k=rsa; p={pkcs1}'], server: 'compat' },
  { label: 'PKCS#1, split into strings of 100', records: ['v=DKIM1; k=rsa; p={pkcs1}'], chunk: 100, server: 'compat' },
  { label: 'g= empty', records: ['v=DKIM1; k=rsa; g=; p={spki}'], server: 'compat' },
  { label: 'g=x', records: ['v=DKIM1; k=rsa; g=x; p={spki}'], server: 'compat' },
  { label: 'g=postmaster and PKCS#1', records: ['v=DKIM1; k=rsa; g=postmaster; p={pkcs1}'], server: 'compat' },
  // Starting states only the fix is judged on (mailhealth says otherwise than dkim.ok there).
  { label: 'no record', records: [], server: 'other' },
  // The panel hands its key as a bare RSAPublicKey (some do): the fix publishes it as SubjectPublicKeyInfo.
  { label: 'no record, the panel hands its key as PKCS#1', records: [], server: 'other', panelKey: 'pkcs1' },
  { label: 'PKCS#1, the panel hands its key as PKCS#1', records: ['v=DKIM1; k=rsa; p={pkcs1}'], server: 'compat', panelKey: 'pkcs1' },
  { label: "a previous host's key", records: ['v=DKIM1; k=rsa; p={other}'], server: 'other' },
  { label: 't=y (testing)', records: ['v=DKIM1; k=rsa; t=y; p={spki}'], server: 'other' },
  { label: 'h=sha1', records: ['v=DKIM1; k=rsa; h=sha1; p={spki}'], server: 'other' },
];

const chunks = (s: string, n: number) => s.match(new RegExp(`[^]{1,${n}}`, 'g')) ?? [s];

interface Judged {
  label: string;
  domain: string;
  server: (typeof CASES)[number]['server'];
  findings: Finding[];
  /** The records the fix leaves at the selector (each as its strings), and whether it changes any. */
  fixed: string[][];
  changes: number;
  /** The starting record publishes the server's key as a bare RSAPublicKey. */
  startsPkcs1: boolean;
  /** opendkim-testkey on the starting record (when there is one) and on what the fix leaves. */
  start?: NetnsResult;
  fix?: NetnsResult;
}

const keyOk = (r: NetnsResult | undefined) => r?.status === 0 && /: key OK$/m.test(r.stdout);
const mismatch = (r: NetnsResult | undefined) => r?.status === 65 && /: keys do not match$/m.test(r.stdout);
const show = (r: NetnsResult | undefined) => (r ? `exit ${r.status}: ${`${r.stdout}${r.stderr}`.trim().split('\n').filter((l) => !/key loaded from|checking key|key not secure/.test(l)).join(' | ')}` : 'not asked');
const compat = (j: Judged) => j.findings.find((f) => f.rule === 'dkim.compat');

describe("OpenDKIM's key check (opendkim-testkey over a loopback DNS server in a private namespace) against the DKIM fix and dkim.compat", { skip: skip ?? false }, () => {
  const judged: Judged[] = [];
  let dir = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mh-opendkim-'));
    const mine = rsa();
    const other = rsa();
    const keyPath = join(dir, 'default.private');
    // opendkim-testkey warns about a key file others may read: 0600, as a signer keeps it.
    writeFileSync(keyPath, mine.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    const unbound = join(dir, 'unbound.conf');
    writeFileSync(unbound, 'server:\n\tdo-not-query-localhost: no\nforward-zone:\n\tname: "."\n\tforward-addr: 127.0.0.1\n');
    const conf = join(dir, 'opendkim.conf');
    writeFileSync(conf, `ResolverConfiguration ${unbound}\n`);
    const settings = (c: (typeof CASES)[number]): Partial<MailSettings> => ({ dkim: { selector: SELECTOR, signing: true, publicKey: c.panelKey === 'pkcs1' ? mine.pkcs1 : mine.spki } });

    const zones: ServedZoneMap = {};
    const commands: { file: string; args: string[] }[] = [];
    const where: { start?: number; fix: number }[] = [];
    const testkey = (domain: string) => commands.push({ file: 'opendkim-testkey', args: ['-x', conf, '-d', domain, '-s', SELECTOR, '-k', keyPath, '-vvv'] }) - 1;
    for (const [i, c] of CASES.entries()) {
      const domain = `k${i}.example`;
      const name = `${SELECTOR}._domainkey.${domain}`;
      const values = c.records.map((v) => v.replace('{spki}', mine.spki).replace('{pkcs1}', mine.pkcs1).replace('{other}', other.spki));
      const strings = values.map((v) => chunks(v, c.chunk ?? 250));
      // mailhealth: the check and the plan over the same records, live and in the panel's zone.
      const map: ZoneMap = { [domain]: { TXT: [['v=spf1 ip4:203.0.113.10 -all']] }, ...(values.length ? { [name]: { TXT: strings } } : {}) };
      const recs: ZoneRecord[] = values.map((value, k) => ({ name, ttl: 3600, type: 'TXT', value, txt: strings[k], ref: `r${k}` }));
      const ctx = checkContext(domain, map, settings(c), recs);
      const findings = await dkimCheck(ctx);
      const plan = await planDkim(ctx, recs);
      assert.equal(plan.blocked, undefined, `${c.label}: ${plan.blocked}`);
      const left = recs.filter((r) => !plan.changes.some((ch) => ch.before === r));
      const added = plan.changes.filter((ch) => ch.after && ch.after.type === 'TXT' && ch.after.name === name).map((ch) => ch.after!);
      const fixed = [...left, ...added].map((r) => r.txt ?? [r.value]);
      judged.push({ label: c.label, domain, server: c.server, findings, fixed, changes: plan.changes.length, startsPkcs1: c.records.some((v) => v.includes('{pkcs1}')) });
      const w: (typeof where)[number] = { fix: -1 };
      if (values.length) {
        zones[name] = { TXT: strings };
        w.start = testkey(domain);
      }
      zones[`${SELECTOR}._domainkey.fix.${domain}`] = { TXT: fixed };
      w.fix = testkey(`fix.${domain}`);
      where.push(w);
    }
    const out = await runWithServedZones(zones, commands);
    judged.forEach((j, i) => {
      if (where[i].start !== undefined) j.start = out[where[i].start!];
      j.fix = out[where[i].fix];
    });
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('mailhealth reads each starting state as the case says: the server\'s key (dkim.ok), with dkim.compat exactly for the forms listed as such', () => {
    for (const j of judged.filter((x) => x.server !== 'other')) {
      const rules = j.findings.map((f) => f.rule);
      assert.ok(rules.includes('dkim.ok'), `${j.label}: ${rules.join(',')}`);
      assert.equal(Boolean(compat(j)), j.server === 'compat', `${j.label}: ${rules.join(',')}`);
    }
  });

  test('every record the DKIM fix writes is "key OK" to OpenDKIM — the fix\'s strings as written, for every starting state', () => {
    const off = judged.filter((j) => !keyOk(j.fix)).map((j) => `${j.label}: the fix leaves ${JSON.stringify(j.fixed).slice(0, 120)}…; OpenDKIM ${show(j.fix)}`);
    assert.deepEqual(off, []);
    // The fix has something to write in most of them (else this would only judge the starting records again).
    assert.ok(judged.filter((j) => j.changes > 0).length >= 8, judged.map((j) => `${j.label}: ${j.changes}`).join(', '));
  });

  test("the server's key with p= as a bare RSAPublicKey (PKCS#1) fails OpenDKIM's check: \"keys do not match\"", () => {
    const pkcs1 = judged.filter((j) => j.startsPkcs1);
    assert.ok(pkcs1.length >= 2);
    for (const j of pkcs1) assert.ok(mismatch(j.start), `${j.label}: OpenDKIM ${show(j.start)}`);
  });

  test('dkim.compat names OpenDKIM exactly where OpenDKIM fails the record (p= encoding); g= is a difference of Mail::DKIM\'s only, which OpenDKIM ignores', () => {
    const off: string[] = [];
    for (const j of judged.filter((x) => x.server !== 'other')) {
      const warning = compat(j)?.message ?? '';
      const namesOpenDkim = /OpenDKIM/.test(warning);
      if (namesOpenDkim !== !keyOk(j.start)) off.push(`${j.label}: dkim.compat ${warning ? (namesOpenDkim ? 'names OpenDKIM' : 'warns without naming OpenDKIM') : 'absent'}; OpenDKIM ${show(j.start)}`);
      // A g= warning is Mail::DKIM's: OpenDKIM 2.11 does not apply g= at all.
      if (/its g=/.test(warning) && !j.startsPkcs1 && !keyOk(j.start)) off.push(`${j.label}: OpenDKIM fails a g= record: ${show(j.start)}`);
    }
    assert.deepEqual(off, []);
    assert.ok(judged.some((j) => compat(j) && !/OpenDKIM/.test(compat(j)!.message) && keyOk(j.start)), 'a g= warning OpenDKIM has no part in');
  });
});
