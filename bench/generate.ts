// Synthetic post-migration domains for the benchmark: a files panel (panel.json, zones/, dkim/) whose zone files
// are also loaded by the authoritative server, plus the provider zones the audits need.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Generated {
  panelDir: string;
  zonesDir: string;
  /** Every zone the authoritative server must load: [origin, file]. */
  zones: [string, string][];
  domains: string[];
}

const SERVER_IP = '203.0.113.10';

function chunked(s: string): string {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += 250) out.push(`"${s.slice(i, i + 250)}"`);
  return out.join(' ');
}

/** Deterministic pseudo-random (so two runs generate the same mix). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

export function generate(dir: string, n: number): Generated {
  const panelDir = join(dir, 'panel');
  const zonesDir = join(panelDir, 'zones');
  const worldDir = join(dir, 'world');
  for (const d of [zonesDir, join(panelDir, 'dkim'), join(panelDir, 'domains'), worldDir]) mkdirSync(d, { recursive: true });
  const rand = rng(42);

  // A few keys reused across domains (generating 10,000 RSA keys would dominate the setup).
  const keys = Array.from({ length: 8 }, () => generateKeyPairSync('rsa', { modulusLength: 2048 }));
  const pem = keys.map((k) => k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const pub = keys.map((k) => k.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));

  const domains: string[] = [];
  const accounts: { user: string; role: string; owner?: string; domains?: string[] }[] = [
    { user: 'root', role: 'admin' },
    { user: 'reseller1', role: 'reseller' },
  ];
  const zones: [string, string][] = [];
  let customer: { user: string; role: string; owner?: string; domains: string[] } | null = null;

  for (let i = 0; i < n; i++) {
    const domain = `d${String(i).padStart(5, '0')}.bench.test`;
    domains.push(domain);
    if (!customer || customer.domains.length >= 50) {
      customer = { user: `cust${accounts.length}`, role: 'customer', owner: 'reseller1', domains: [] };
      accounts.push(customer);
    }
    customer.domains.push(domain);
    const k = i % keys.length;
    writeFileSync(join(panelDir, 'dkim', `${domain}.pem`), pem[k]);
    const r = rand();
    // The mix: clean 40 %, HostGator leftover 15 %, mail services 20 %, lockdown naming another MailChannels account 10 %, broken DMARC 10 %, old DKIM 5 %.
    let spf = 'v=spf1 +a +mx include:relay.mailchannels.net ~all';
    let lockdown = 'v=mc1 auth=benchmc';
    let dmarc = `v=DMARC1; p=none; rua=mailto:dmarc@${domain}`;
    let dkimKey = pub[k];
    let mx = `10 mail.${domain}.`;
    if (r < 0.4) {
      /* clean */
    } else if (r < 0.55) {
      spf = 'v=spf1 +a +mx include:websitewelcome.com ~all';
    } else if (r < 0.75) {
      const svc = ['include:_spf.google.com', 'include:spf.protection.outlook.com', 'include:sendgrid.net'][i % 3];
      spf = `v=spf1 +a +mx ${svc} include:relay.mailchannels.net ~all`;
      if (i % 3 === 0) mx = '1 aspmx.l.google.com.';
    } else if (r < 0.85) {
      lockdown = 'v=mc1 auth=oldhostmc';
    } else if (r < 0.95) {
      dmarc = 'v=DMARC1; p=reject; rua=mailto:reports@oldhost-dmarc.test; pct=50; foo=bar';
    } else {
      dkimKey = pub[(k + 1) % keys.length];
    }
    const zone = [
      `$TTL 3600`,
      `@ IN SOA ns1.benchhost.test. hostmaster.benchhost.test. ( 2026010101 3600 1800 1209600 300 )`,
      `@ IN NS ns1.benchhost.test.`,
      `@ IN A ${SERVER_IP}`,
      `mail IN A ${SERVER_IP}`,
      `@ IN MX ${mx}`,
      `@ IN TXT "${spf}"`,
      `@ IN TXT "site-verification=${i}"`,
      `default._domainkey IN TXT ( ${chunked(`v=DKIM1; k=rsa; p=${dkimKey}`)} )`,
      `_dmarc IN TXT "${dmarc}"`,
      `_mailchannels IN TXT "${lockdown}"`,
      '',
    ].join('\n');
    const file = join(zonesDir, `${domain}.db`);
    writeFileSync(file, zone);
    zones.push([domain, file]);
  }

  const world: Record<string, string> = {
    'benchhost.test': `$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 1800 1209600 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\nserver1 IN A ${SERVER_IP}\n`,
    'google.com': `$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 1800 1209600 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\n_spf IN TXT "v=spf1 include:_netblocks.google.com ~all"\n_netblocks IN TXT "v=spf1 ip4:35.190.247.0/24 ip4:64.233.160.0/19 ~all"\naspmx.l IN A 142.250.1.26\n`,
    'outlook.com': `$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 1800 1209600 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\nspf.protection IN TXT "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 -all"\n`,
    'sendgrid.net': `$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 1800 1209600 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\n@ IN TXT "v=spf1 ip4:167.89.0.0/17 ~all"\n`,
    'websitewelcome.com': `$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 1800 1209600 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\n@ IN TXT "v=spf1 ip4:192.185.0.0/16 ~all"\n`,
    'oldhost-dmarc.test': `$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 1800 1209600 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\n@ IN MX 10 mx\nmx IN A 192.0.2.25\n`,
    'mailchannels.net': `$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 1800 1209600 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\nrelay IN TXT "v=spf1 ip4:23.83.208.0/20 ~all"\n`,
  };
  for (const [origin, text] of Object.entries(world)) {
    const file = join(worldDir, `${origin}.db`);
    writeFileSync(file, text);
    zones.push([origin, file]);
  }

  writeFileSync(
    join(panelDir, 'panel.json'),
    JSON.stringify(
      {
        server: {
          hostname: 'server1.benchhost.test',
          ips: [SERVER_IP],
          helo: 'server1.benchhost.test',
          nameservers: ['ns1.benchhost.test'],
          dkimSelector: 'default',
          relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'benchmc' },
        },
        accounts,
      },
      null,
      1,
    ),
  );
  return { panelDir, zonesDir, zones, domains };
}
