// Review of providers.json (the provider fingerprints): every entry classified through the real classifier and the SPF
// plan, and a guard on the data's shape. What a wrong entry costs: a mail service fingerprinted as `hosting` is called
// "left by a previous host" and the SPF fix drops it — the customer's mail through it starts failing SPF.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planSpf } from '../../src/core/plans/spf.js';
import type { ZoneRecord } from '../../src/core/model.js';
import { defaultKnowledge } from '../../src/knowledge/index.js';
import type { ZoneMap } from '../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from '../core/checks/context.js';

const KINDS = new Set(['hosting', 'mail-service', 'report-processor', 'shared-infrastructure']);

/** A domain whose website is on this server, with an SPF record and MX as given (the panel's zone and the live DNS agree). */
function world(domain: string, spf: string, mx: string[], routing: 'local' | 'remote') {
  const records: ZoneRecord[] = [
    { name: domain, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.' },
    { name: domain, ttl: 3600, type: 'A', value: SERVER_IP },
    ...mx.map((h, i) => ({ name: domain, ttl: 3600, type: 'MX', value: `${i * 10} ${h}.` })),
    { name: domain, ttl: 3600, type: 'TXT', value: spf, txt: [spf] },
  ];
  const map = { [domain]: { A: [SERVER_IP], MX: mx.map((exchange, i) => ({ priority: i * 10, exchange })), TXT: [[spf]] } } as ZoneMap;
  // Each include target publishes an SPF record (a missing one is a permerror the SPF fix drops for that reason).
  for (const m of spf.matchAll(/include:(\S+)/g)) (map as Record<string, unknown>)[m[1]] = { TXT: [['v=spf1 ip4:198.51.100.0/24 ~all']] };
  return { ctx: checkContext(domain, map, { routing }, records), records };
}

describe('GoDaddy: include:secureserver.net is the SPF of its mailbox products, Microsoft 365 from GoDaddy included', () => {
  // GoDaddy's help page: "Workspace Email, Professional Email, and Microsoft 365 from GoDaddy use … v=spf1
  // include:secureserver.net -all". With Microsoft 365 from GoDaddy the MX is Microsoft's, so the MX cannot show that
  // the include is in use: as kind hosting it was a previous host's (stale) and the SPF fix dropped it.
  const D = 'm365gd.example';
  const SPF = `v=spf1 include:secureserver.net ip4:${SERVER_IP} -all`;

  test('Microsoft 365 from GoDaddy (MX at outlook.com, routing remote): the include is kept, and the SPF plan keeps it', async () => {
    const { ctx, records } = world(D, SPF, ['m365gd-example.mail.protection.outlook.com'], 'remote');
    const inc = await ctx.classifier.spfTerm('include:secureserver.net');
    assert.equal(inc.class, 'keep', inc.reason);
    assert.equal(inc.provider, 'godaddy');
    const plan = await planSpf(ctx, records, {});
    assert.ok(!plan.notes.some((n) => /^(Drops|Removes) include:secureserver\.net/.test(n)), plan.notes.join('\n'));
    assert.deepEqual(plan.changes, [], plan.notes.join('\n'));
  });

  test('routing local, MX elsewhere: still kept (the include may serve a GoDaddy mailbox product the MX does not show)', async () => {
    const { ctx } = world(D, SPF, [`mail.${D}`], 'local');
    assert.equal((await ctx.classifier.spfTerm('include:secureserver.net')).class, 'keep');
  });

  test("GoDaddy's DNS-managed SPF include dc-<random>._spfm.<domain> holds the customer's connected senders: kept", async () => {
    const { ctx } = world(D, SPF, [`mail.${D}`], 'local');
    const k = await ctx.classifier.spfTerm(`include:dc-aa1b2c3d4e._spfm.${D}`);
    assert.equal(k.class, 'keep', k.reason);
    assert.equal(k.provider, 'godaddy-spfm');
  });

  test("GoDaddy's DKIM CNAME target (onsecureserver.net) and its MX hosts are GoDaddy email, kept", async () => {
    const { ctx } = world(D, SPF, [`mail.${D}`], 'local');
    const k = await ctx.classifier.dkimKey('secureserver1', null, ['s1.dkim.example_com.c98.onsecureserver.net']);
    assert.equal(k.class, 'keep', k.reason);
    assert.equal(defaultKnowledge.matchHost('mailstore1.secureserver.net')?.id, 'godaddy');
  });
});

describe('mail services added with their documented SPF include (kept by the classifier and the SPF plan)', () => {
  const cases: { term: string; provider: string }[] = [
    { term: 'include:emailsrvr.com', provider: 'rackspace-email' },
    { term: 'include:_netblocks.mimecast.com', provider: 'mimecast' },
    { term: 'include:eu._netblocks.mimecast.com', provider: 'mimecast' },
    { term: 'include:us._netblocks.mimecast.com', provider: 'mimecast' },
    { term: 'include:uspcom._netblocks.mimecast-pscom-us.com', provider: 'mimecast' },
    { term: 'include:sparkpostmail.com', provider: 'sparkpost' },
  ];
  for (const { term, provider } of cases) {
    test(`${term} → ${provider}, kept, and the SPF plan keeps it`, async () => {
      const D = 'svc.example';
      const spf = `v=spf1 ${term} ip4:${SERVER_IP} ~all`;
      const { ctx, records } = world(D, spf, [`mail.${D}`], 'local');
      const c = await ctx.classifier.spfTerm(term);
      assert.equal(c.class, 'keep', c.reason);
      assert.equal(c.provider, provider);
      assert.match(c.source ?? '', /^https:\/\//);
      const plan = await planSpf(ctx, records, {});
      assert.deepEqual(plan.changes, [], plan.notes.join('\n'));
    });
  }

  test('Rackspace Email MX (mx1.emailsrvr.com) and Mimecast inbound MX are their services', () => {
    assert.equal(defaultKnowledge.matchHost('mx1.emailsrvr.com')?.id, 'rackspace-email');
    assert.equal(defaultKnowledge.matchHost('us-smtp-inbound-1.mimecast.com')?.id, 'mimecast');
  });
});

describe('Namecheap Private Email: a mailbox product kept while its MX (required by Namecheap) is in use', () => {
  const D = 'pe2.example';
  const SPF = `v=spf1 include:spf.privateemail.com ip4:${SERVER_IP} ~all`;
  test('routing remote, MX at privateemail.com: kept; routing local with that live MX: unknown, and the SPF plan keeps it', async () => {
    const remote = world(D, SPF, ['mx1.privateemail.com', 'mx2.privateemail.com'], 'remote');
    assert.equal((await remote.ctx.classifier.spfTerm('include:spf.privateemail.com')).class, 'keep');
    const local = world(D, SPF, ['mx1.privateemail.com', 'mx2.privateemail.com'], 'local');
    assert.equal((await local.ctx.classifier.spfTerm('include:spf.privateemail.com')).class, 'unknown');
    const plan = await planSpf(local.ctx, local.records, {});
    assert.deepEqual(plan.changes, [], plan.notes.join('\n'));
  });
  test('MX elsewhere: stale (the mailboxes no longer receive there)', async () => {
    const { ctx } = world(D, SPF, [`mail.${D}`], 'local');
    assert.equal((await ctx.classifier.spfTerm('include:spf.privateemail.com')).class, 'stale');
  });
});

describe('data shape guard', () => {
  const providers = defaultKnowledge.providers;

  test('every entry: id, name, a known kind, a confidence, a source', () => {
    for (const p of providers) {
      assert.ok(p.id && /^[a-z0-9-]+$/.test(p.id), `id ${p.id}`);
      assert.ok(p.name && p.name.trim(), `${p.id}: name`);
      assert.ok(KINDS.has(p.kind), `${p.id}: kind ${p.kind}`);
      assert.ok(['high', 'medium', 'low'].includes(p.confidence), `${p.id}: confidence`);
      assert.ok(p.source && p.source.trim(), `${p.id}: source`);
    }
  });

  // Entries sourced only to the team's reference notes (mail-auth.md) or unconfirmed; every other entry — and every new
  // one — names an https page. The list may only shrink.
  const WITHOUT_HTTPS = new Set([
    'bluehost', 'hostmonster', 'siteground', 'namecheap-hosting', 'ovh', 'ionos', 'hetzner', 'kinsta', 'a2hosting', 'inmotion',
    'google', 'microsoft365', 'zoho', 'mailchimp', 'mandrill', 'sendgrid', 'mailgun', 'amazonses', 'postmark', 'brevo', 'mailjet',
    'zendesk', 'hubspot', 'salesforce', 'fastmail', 'proton', 'mailchannels', 'mailspamprotection', 'cloudflare-routing',
    'dmarcian', 'valimail', 'easydmarc', 'postmark-dmarc', 'cloudflare-dmarc', 'uriports',
  ]);
  test('every entry outside the legacy list has an https source; the legacy list names only entries without one', () => {
    for (const p of providers) {
      const https = /(^|[\s;(])https:\/\/[^\s;]+/.test(p.source);
      if (WITHOUT_HTTPS.has(p.id)) assert.ok(!https, `${p.id} now has an https source: take it off the legacy list`);
      else assert.ok(https, `${p.id}: source ${JSON.stringify(p.source)} names no https page`);
    }
  });

  test('no host pattern or DKIM selector is claimed by two providers of different kinds', () => {
    const owner = new Map<string, { id: string; kind: string }>();
    for (const p of providers) {
      const claims = [...p.spf, ...p.hosts].map((h) => `host ${h}`).concat((p.dkimSelectors ?? []).map((s) => `selector ${s}`));
      for (const c of new Set(claims)) {
        const o = owner.get(c);
        if (o && o.id !== p.id) assert.equal(o.kind, p.kind, `${c}: ${o.id} (${o.kind}) and ${p.id} (${p.kind})`);
        if (!o) owner.set(c, { id: p.id, kind: p.kind });
      }
    }
  });

  test("no hosting provider's host pattern lies under a kept provider's name or above it (a hosting entry must not swallow a mail service's hosts)", () => {
    const under = (a: string, b: string) => a === b || a.endsWith(`.${b}`);
    const plain = (p: { spf: string[]; hosts: string[] }) => [...p.spf, ...p.hosts].filter((h) => !h.endsWith('.'));
    for (const h of providers.filter((p) => p.kind === 'hosting')) {
      for (const k of providers.filter((p) => p.kind === 'mail-service' || p.kind === 'report-processor')) {
        for (const a of plain(h)) for (const b of plain(k)) assert.ok(!under(a, b) && !under(b, a), `${h.id} ${a} / ${k.id} ${b}`);
      }
    }
  });
});
