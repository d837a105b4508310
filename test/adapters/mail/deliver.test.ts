import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createMailer, deliverReport, deliverySettings, DeliveryConfigError, plannedMessages } from '../../../src/adapters/mail/deliver.js';
import { runReport, type ReportOutcome } from '../../../src/cron/report.js';
import { countingLimiter, startWorld, type TestWorld } from '../../cron/world.js';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server on loopback; `rejectOnce` recipients get a 451 on their first message. */
async function startSmtp(rejectOnce: Set<string>) {
  const received: Received[] = [];
  const rejected = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        const first = to.find((t) => rejectOnce.has(t) && !rejected.has(t));
        if (first) {
          rejected.add(first);
          const err = new Error('try again later') as Error & { responseCode: number };
          err.responseCode = 451;
          return callback(err);
        }
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to, raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return { server, port, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The decoded MIME parts of a message: content type → body. */
function mimeParts(raw: string): Map<string, string> {
  const parts = new Map<string, string>();
  const boundaries = [...raw.matchAll(/boundary="?([^";\r\n]+)"?/gi)].map((m) => m[1]);
  let chunks = [raw];
  for (const b of boundaries) chunks = chunks.flatMap((c) => c.split(`--${b}`));
  for (const c of chunks) {
    const idx = c.indexOf('\r\n\r\n');
    if (idx < 0) continue;
    const head = c.slice(0, idx);
    const type = /content-type:\s*([^;\r\n]+)/i.exec(head)?.[1]?.trim().toLowerCase();
    if (!type || type.startsWith('multipart/')) continue;
    const enc = /content-transfer-encoding:\s*(\S+)/i.exec(head)?.[1]?.toLowerCase();
    let body = c.slice(idx + 4);
    if (enc === 'quoted-printable') {
      body = Buffer.from(
        body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
        'latin1',
      ).toString('utf8');
    } else if (enc === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    parts.set(type, body);
  }
  return parts;
}

describe('delivery to a real SMTP server on loopback', () => {
  let w: TestWorld;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let outcome: ReportOutcome;
  const sleeps: number[] = [];
  let results: Awaited<ReturnType<typeof deliverReport>> = [];
  before(async () => {
    w = await startWorld();
    smtp = await startSmtp(new Set(['rita@reseller.example']));
    w.store.setSetting('report.recipients', ['admin@newhost.example', 'ops@newhost.example']);
    w.store.setSetting('report.resellers', { rita: 'rita@reseller.example', nobody: 'nobody@x.example' });
    w.store.setSetting('report.from', 'mailhealth@server1.newhost.example');
    w.store.setSetting('report.transport', 'smtp');
    w.store.setSetting('report.smtp', { host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true });
    w.store.setSetting('report.backoffMs', 5000);
    const settings = deliverySettings(w.store);
    outcome = await runReport({
      store: w.store,
      panel: w.panel,
      resolver: w.resolver(),
      limiter: countingLimiter(),
      baseUrl: 'https://panel.example',
      deliver: async (oc) => (results = await deliverReport(oc, { store: w.store, settings, sleep: async (ms) => void sleeps.push(ms) })),
    });
  });
  after(async () => {
    await smtp?.close();
    await w?.close();
  });

  test('admin recipients get the whole server; rita gets only her customers’ domains', () => {
    const byRcpt = new Map(smtp.received.map((m) => [m.to.join(','), m]));
    assert.deepEqual([...byRcpt.keys()].sort(), ['admin@newhost.example', 'ops@newhost.example', 'rita@reseller.example']);
    const admin = mimeParts(byRcpt.get('admin@newhost.example')!.raw);
    const rita = mimeParts(byRcpt.get('rita@reseller.example')!.raw);
    for (const d of ['bakery.example', 'florist.example', 'plumber.example', 'lawyer.example', 'dentist.example']) {
      assert.ok(admin.get('text/plain')!.includes(d), `admin text has ${d}`);
    }
    const ritaDomains = ['plumber.example', 'dentist.example', 'lawyer.example'];
    for (const d of ritaDomains) assert.ok(rita.get('text/plain')!.includes(d), `rita has ${d}`);
    for (const d of ['bakery.example', 'florist.example']) {
      assert.ok(!rita.get('text/plain')!.includes(d), `rita's text must not mention ${d}`);
      assert.ok(!rita.get('text/html')!.includes(d), `rita's html must not mention ${d}`);
    }
    assert.equal(smtp.received[0].from, 'mailhealth@server1.newhost.example');
  });

  test('both parts, the SVG chart inline in the HTML, links to the panel', () => {
    for (const m of smtp.received) {
      assert.match(m.raw, /multipart\/alternative/i);
      const parts = mimeParts(m.raw);
      assert.ok(parts.has('text/plain'), 'text/plain part');
      assert.ok(parts.has('text/html'), 'text/html part');
      const html = parts.get('text/html')!;
      assert.match(html, /<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<rect class="bar"[\s\S]*<\/svg>/);
      assert.match(html, /href="https:\/\/panel\.example\/domains\/[a-z]+\.example"/);
      assert.match(m.raw, /^Subject: (=\?UTF-8\?Q\?)?mailhealth[_ ]nightly[_ ]report/im);
      assert.match(m.raw, /^Auto-Submitted: auto-generated/im);
    }
  });

  test('a rejected send is retried after a backoff and every attempt is recorded', () => {
    const rita = results.find((r) => r.recipient === 'rita@reseller.example');
    assert.deepEqual([rita?.ok, rita?.attempts, rita?.reseller], [true, 2, 'rita']);
    assert.deepEqual(sleeps, [5000]);
    const d = w.store.deliveries(outcome.runId);
    const ritaLog = d.filter((x) => x.recipient === 'rita@reseller.example');
    assert.deepEqual(ritaLog.map((x) => x.ok), [false, true]);
    assert.match(ritaLog[0].error ?? '', /451/);
    assert.deepEqual(d.filter((x) => x.recipient.endsWith('newhost.example')).map((x) => x.ok), [true, true]);
    assert.equal(w.store.getReport(outcome.runId)?.deliveries.length, 4);
    // The reseller without domains gets nothing.
    assert.ok(!d.some((x) => x.recipient === 'nobody@x.example'));
  });

  test('a server that never accepts: bounded retries, logged, recorded, report kept', async () => {
    const dead = await startSmtp(new Set());
    const port = dead.port;
    await dead.close(); // nothing listens on the port now
    const settings = { ...deliverySettings(w.store), smtp: { host: '127.0.0.1', port, ignoreTLS: true }, attempts: 3, backoffMs: 10 };
    const slept: number[] = [];
    const logs: string[] = [];
    const res = await deliverReport(
      { ...outcome, resellers: [] },
      { store: w.store, settings: { ...settings, recipients: ['admin@newhost.example'] }, sleep: async (ms) => void slept.push(ms), log: (m) => logs.push(m) },
    );
    assert.deepEqual(res.map((r) => [r.ok, r.attempts]), [[false, 3]]);
    assert.deepEqual(slept, [10, 20]);
    assert.equal(logs.filter((l) => /failed/.test(l)).length, 3);
    assert.ok(w.store.getReport(outcome.runId));
    assert.equal(w.store.deliveries(outcome.runId).filter((x) => !x.ok && x.recipient === 'admin@newhost.example').length, 3);
  });

  test('a server down for every message: the first waits out its retries, the others are tried once each (QA: minutes per address)', async () => {
    const dead = await startSmtp(new Set());
    const port = dead.port;
    await dead.close();
    const settings = { ...deliverySettings(w.store), smtp: { host: '127.0.0.1', port, ignoreTLS: true }, attempts: 3, backoffMs: 10 };
    const slept: number[] = [];
    const logs: string[] = [];
    const res = await deliverReport(
      { ...outcome, resellers: [] },
      { store: w.store, settings: { ...settings, recipients: ['a@newhost.example', 'b@newhost.example', 'c@newhost.example'] }, sleep: async (ms) => void slept.push(ms), log: (m) => logs.push(m) },
    );
    assert.deepEqual(res.map((r) => [r.recipient, r.ok, r.attempts]), [['a@newhost.example', false, 3], ['b@newhost.example', false, 1], ['c@newhost.example', false, 1]]);
    assert.deepEqual(slept, [10, 20], 'backoff only for the first');
    assert.ok(logs.some((l) => /the other messages are tried once each/.test(l)));
  });

  test('settings: sendmail by default, malformed addresses are refused', () => {
    const s = deliverySettings(w.store, { transport: 'sendmail', recipients: ['a@b.example'] });
    assert.equal(s.transport, 'sendmail');
    assert.ok(createMailer(s));
    assert.equal(plannedMessages({ ...outcome, resellers: [] }, s).length, 1);
    w.store.setSetting('report.recipients', ['not an address']);
    assert.throws(() => deliverySettings(w.store), DeliveryConfigError);
    w.store.setSetting('report.recipients', ['admin@newhost.example']);
  });
});
