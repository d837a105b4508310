// The tiny shared hosting fixture every panel emulator serves: one reseller with two customers, one root-owned
// customer, a few domains each; every zone carries a stale SPF include (websitewelcome.com), a `_mailchannels` TXT
// and a 2048-bit DKIM TXT split in two character-strings.
import { generateKeyPairSync } from 'node:crypto';

export interface FixtureAccount {
  user: string;
  /** WHM owner (reseller login, or root/admin). */
  owner: string;
  ip: string;
  main: string;
  addon: string[];
  parked: string[];
  sub: string[];
}

export interface FixtureRecord {
  /** Absolute, no trailing dot. */
  name: string;
  ttl: number;
  type: string;
  /** cPanel-style RDATA fields (names with a trailing dot; TXT = character-strings). */
  data: string[];
}

export interface Fixture {
  accounts: FixtureAccount[];
  resellers: string[];
  dkim: { privateKeyPem: string; publicKey: string };
  hostname: string;
  mailIp: string;
  nameservers: string[];
  zones: Record<string, FixtureRecord[]>;
}

export const SPF = 'v=spf1 +a +mx include:websitewelcome.com ~all';
export const LOCKDOWN = 'v=mc1 auth=oldhostco';

let cachedKey: { privateKeyPem: string; publicKey: string } | null = null;
export function dkimKey(): { privateKeyPem: string; publicKey: string } {
  if (!cachedKey) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    cachedKey = {
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    };
  }
  return cachedKey;
}

export function zoneRecords(zone: string, publicKey: string, extraNames: string[] = []): FixtureRecord[] {
  const dkim = `v=DKIM1; k=rsa; p=${publicKey}`;
  const recs: FixtureRecord[] = [
    { name: zone, ttl: 86400, type: 'NS', data: ['ns1.host.example.'] },
    { name: zone, ttl: 86400, type: 'NS', data: ['ns2.host.example.'] },
    { name: zone, ttl: 14400, type: 'A', data: ['203.0.113.10'] },
    { name: zone, ttl: 14400, type: 'MX', data: ['10', `mail.${zone}.`] },
    { name: `mail.${zone}`, ttl: 14400, type: 'A', data: ['203.0.113.10'] },
    { name: `www.${zone}`, ttl: 14400, type: 'CNAME', data: [`${zone}.`] },
    { name: zone, ttl: 14400, type: 'TXT', data: [SPF] },
    { name: `_mailchannels.${zone}`, ttl: 14400, type: 'TXT', data: [LOCKDOWN] },
    { name: `default._domainkey.${zone}`, ttl: 14400, type: 'TXT', data: [dkim.slice(0, 255), dkim.slice(255)] },
  ];
  for (const n of extraNames) recs.push({ name: n, ttl: 14400, type: 'A', data: ['203.0.113.10'] });
  return recs;
}

export function makeFixture(): Fixture {
  const key = dkimKey();
  const accounts: FixtureAccount[] = [
    { user: 'res1', owner: 'res1', ip: '203.0.113.10', main: 'res1.example', addon: [], parked: [], sub: [] },
    { user: 'alice', owner: 'res1', ip: '203.0.113.10', main: 'alice.example', addon: ['alice-shop.example'], parked: [], sub: ['blog.alice.example'] },
    { user: 'bob', owner: 'res1', ip: '203.0.113.11', main: 'bob.example', addon: [], parked: [], sub: [] },
    { user: 'carol', owner: 'root', ip: '203.0.113.12', main: 'carol.example', addon: [], parked: [], sub: [] },
  ];
  const zones: Record<string, FixtureRecord[]> = {};
  for (const a of accounts) {
    for (const z of [a.main, ...a.addon, ...a.parked]) {
      zones[z] = zoneRecords(z, key.publicKey, a.sub.filter((s) => s.endsWith(`.${z}`)));
    }
  }
  return {
    accounts,
    resellers: ['res1'],
    dkim: key,
    hostname: 'server1.host.example',
    mailIp: '203.0.113.10',
    nameservers: ['ns1.host.example', 'ns2.host.example'],
    zones,
  };
}

/** Which account owns `domain` (any of its domain lists). */
export function ownerOf(f: { accounts: FixtureAccount[] }, domain: string): FixtureAccount | undefined {
  return f.accounts.find((a) => [a.main, ...a.addon, ...a.parked, ...a.sub].includes(domain));
}
