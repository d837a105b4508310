// A domain whose SPF still includes a previous host's name, and that host's DNS is dead: every question about the name
// gets no answer at all. One audit asked the same question from several checks and stages (the SPF tree walk, then the
// evaluation), each waiting out timeoutMs × tries again, one after the other (16 s with the defaults, for one include).
// The audit's own view of the resolver (forAudit) puts each question on the wire once: counted here per question, in
// datagrams, at a UDP relay in front of the loopback server — never by the clock.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { createResolver } from '../../../src/adapters/dns/resolver.js';
import { startDnsServer } from '../../../src/adapters/dns/server.js';
import { auditDomain } from '../../../src/core/audit.js';
import { scenario, zoneText } from '../../helpers/scenario.js';

const DEAD = '_spf.deadhost.example';
const DOMAIN = 'shop.test';

/** A UDP relay to `port` that counts the datagrams it passes per question ("name TYPE"). */
async function countingRelay(port: number): Promise<{ address: string; sent: Map<string, number>; order: string[]; close(): void }> {
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  const sent = new Map<string, number>();
  /** Every datagram's question, in the order they arrived. */
  const order: string[] = [];
  const askers = new Map<number, dgram.RemoteInfo>();
  front.on('message', (msg, from) => {
    const q = dnsPacket.decode(msg).questions?.[0];
    const key = q ? `${q.name.toLowerCase()} ${q.type}` : '(no question)';
    sent.set(key, (sent.get(key) ?? 0) + 1);
    order.push(key);
    askers.set(msg.readUInt16BE(0), from);
    back.send(msg, port, '127.0.0.1');
  });
  back.on('message', (msg) => {
    const to = askers.get(msg.readUInt16BE(0));
    if (to) front.send(msg, to.port, to.address);
  });
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', () => r()));
  return {
    address: `127.0.0.1:${front.address().port}`,
    sent,
    order,
    close() {
      front.close();
      back.close();
    },
  };
}

/** The domain (its SPF includes DEAD, `mx` its MX values) with `dead` names that never answer, asked through a counting relay. */
async function deadWorld(t: TestContext, dead: string[], mx?: string[]) {
  const s = await scenario({
    domains: { [DOMAIN]: { zone: zoneText({ spf: `"v=spf1 include:${DEAD} a mx ip4:203.0.113.10 -all"`, ...(mx ? { mx } : {}) }) } },
    extra: Object.fromEntries(dead.map((d) => [d, { TIMEOUT: true }])),
  });
  t.after(() => s.cleanup());
  const relay = await countingRelay(s.dns.port);
  t.after(() => relay.close());
  const tries = 2;
  const resolver = createResolver({ servers: [relay.address], timeoutMs: 200, tries });
  t.after(() => resolver.close());
  return { s, relay, tries, resolver };
}

test('an SPF include whose DNS never answers: one audit puts each question on the wire once (tries datagrams at most); SPF is unknown, never fail', async (t) => {
  const { s, relay, tries, resolver } = await deadWorld(t, [DEAD]);

  const audit = await auditDomain(DOMAIN, { panel: s.panel, resolver });
  // The dead name was asked (the SPF walk, the evaluation, the term's classification), and each of its questions went
  // out exactly `tries` times: every attempt timed out, none was asked again (the old code sent TXT 2 × tries).
  const dead = [...relay.sent].filter(([q]) => q.startsWith(`${DEAD} `));
  assert.ok(dead.some(([q]) => q === `${DEAD} TXT`), JSON.stringify(dead));
  for (const [q, n] of dead) assert.equal(n, tries, `${q}: ${n} datagrams`);
  // Nor any other question more than `tries` times.
  for (const [q, n] of relay.sent) assert.ok(n <= tries, `${q}: ${n} datagrams`);

  const spf = audit.findings.filter((f) => f.check === 'spf');
  assert.ok(spf.some((f) => f.rule === 'spf.dns-error' && f.severity === 'unknown'), JSON.stringify(spf.map((f) => `${f.severity} ${f.rule}`)));
  assert.deepEqual(spf.filter((f) => f.severity === 'fail').map((f) => f.rule), [], 'DNS trouble is never a fail');

  // A later audit (or plan) gets a view of its own and asks again (README "DNS answers").
  const before = relay.sent.get(`${DEAD} TXT`)!;
  await auditDomain(DOMAIN, { panel: s.panel, resolver });
  assert.equal(relay.sent.get(`${DEAD} TXT`), before + tries);
});

test("forAudit(): a view keeps the unknown answers to its own questions (timeout, SERVFAIL); the resolver and other views ask again", async (t) => {
  const server = await startDnsServer({ data: { 'dead.example': { TIMEOUT: true }, 'failing.example': { SERVFAIL: true }, 'ok.example': { A: ['192.0.2.1'] } } });
  t.after(() => server.close());
  const r = createResolver({ servers: [server.address], timeoutMs: 100, tries: 1 });
  t.after(() => r.close());
  const one = r.forAudit();
  const other = r.forAudit();
  const sent = () => server.queries;

  // `one` puts the question on the wire; `other` joins it while in flight (the run cache), as today.
  const [a, b] = await Promise.all([one.resolve('dead.example', 'TXT'), other.resolve('Dead.Example.', 'TXT')]);
  assert.equal(a.status, 'unknown');
  assert.equal(b.status, 'unknown');
  assert.equal(sent(), 1);
  // Asked again by the audit that asked: the answer it got, nothing sent.
  assert.equal((await one.resolve('DEAD.example', 'TXT')).error, 'timeout');
  assert.equal(sent(), 1);
  // Another domain's audit, which only joined, and the resolver itself ask again (DNS trouble is not kept for the run).
  assert.equal((await other.resolve('dead.example', 'TXT')).status, 'unknown');
  assert.equal(sent(), 2);
  assert.equal((await r.resolve('dead.example', 'TXT')).status, 'unknown');
  assert.equal(sent(), 3);
  // … and `one` still sees its own answer, not another's question in flight.
  assert.equal((await one.resolve('dead.example', 'TXT')).status, 'unknown');
  assert.equal(sent(), 3);

  // SERVFAIL likewise; a good answer comes from the run cache as before, for views and resolver alike.
  assert.equal((await one.resolve('failing.example', 'A')).error, 'servfail');
  assert.equal((await one.resolve('failing.example', 'A')).error, 'servfail');
  assert.equal(sent(), 4);
  assert.deepEqual((await one.resolve('ok.example', 'A')).records, ['192.0.2.1']);
  assert.deepEqual((await other.resolve('ok.example', 'A')).records, ['192.0.2.1']);
  assert.deepEqual((await r.resolve('ok.example', 'A')).records, ['192.0.2.1']);
  assert.equal(sent(), 5);
  // Verification after a write asks the zone's own servers through the view as through the resolver.
  assert.equal(one.resolveAt, r.resolveAt);

  // A wrapper made by copying the resolver's methods and replacing resolve gets no view (a view would ask the wire
  // round the wrapper's answers): the audit asks the wrapper itself.
  const wrapped = { ...r, resolve: ((name: string, type: 'A') => r.resolve(name, type)) as typeof r.resolve };
  assert.equal(wrapped.forAudit(), wrapped);
  const copied = { ...r };
  assert.notEqual(copied.forAudit(), copied, 'a plain copy answers as the resolver: it has a view');
});

test("a dead host's A and AAAA go out together (the SPF include's classification, an MX at the dead host): the AAAA does not wait out the A's timeouts", async (t) => {
  const MX = 'mx.deadhost.example';
  const { s, relay, resolver } = await deadWorld(t, [DEAD, MX], ['10 mail', `20 ${MX}.`]);
  await auditDomain(DOMAIN, { panel: s.panel, resolver });
  for (const host of [DEAD, MX]) {
    const at = (q: string, nth: number) => relay.order.reduce<number[]>((acc, k, i) => (k === q ? [...acc, i] : acc), [])[nth] ?? -1;
    const firstAaaa = at(`${host} AAAA`, 0);
    const secondA = at(`${host} A`, 1);
    assert.ok(firstAaaa >= 0 && secondA >= 0, `${host}: ${JSON.stringify(relay.order.filter((k) => k.startsWith(host)))}`);
    // The A's retry comes only after its first attempt timed out: the AAAA was sent before that, not after both A attempts.
    assert.ok(firstAaaa < secondA, `${host}: ${JSON.stringify(relay.order.filter((k) => k.startsWith(host)))}`);
  }
});
