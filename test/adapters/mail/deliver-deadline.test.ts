import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { deliverReport, deliverySettings, type DeliverySettings, type Mailer } from '../../../src/adapters/mail/deliver.js';
import { runReport, type ReportOutcome } from '../../../src/cron/report.js';
import { countingLimiter, startWorld, type TestWorld } from '../../cron/world.js';

// Every delivery attempt has a deadline; a timed-out attempt is a failed delivery (not retried) and its sendmail is
// killed; an abort ends the waiting at once; a permanent SMTP refusal (5xx) is not retried.

const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe('delivery deadlines, aborts and permanent refusals', () => {
  let w: TestWorld;
  let outcome: ReportOutcome;
  let dir: string;
  let base: DeliverySettings;
  const admin = (o: ReportOutcome) => ({ ...o, resellers: [] });
  before(async () => {
    w = await startWorld();
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-sendmail-'));
    outcome = await runReport({ store: w.store, panel: w.panel, resolver: w.resolver(), limiter: countingLimiter() });
    base = deliverySettings(w.store, { transport: 'sendmail', recipients: ['admin@newhost.example'], from: 'mailhealth <root@server1.example>', attempts: 3, backoffMs: 10 });
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await w?.close();
  });

  test('60 s by default, report.timeoutMs overrides', () => {
    assert.equal(base.timeoutMs, 60_000);
    w.store.setSetting('report.timeoutMs', 1500);
    assert.equal(deliverySettings(w.store).timeoutMs, 1500);
    w.store.setSetting('report.timeoutMs', -1);
    assert.equal(deliverySettings(w.store).timeoutMs, 60_000);
  });

  test('a sendmail that never exits: the attempt times out, is recorded, not retried, and sendmail is killed', { timeout: 20_000 }, async () => {
    const pidFile = join(dir, 'hang.pid');
    const script = join(dir, 'hang-sendmail.sh');
    writeFileSync(script, `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 100000\n`);
    chmodSync(script, 0o755);
    const slept: number[] = [];
    const logs: string[] = [];
    const res = await deliverReport(admin(outcome), {
      store: w.store,
      settings: { ...base, sendmailPath: script },
      timeoutMs: 300,
      sleep: async (ms) => void slept.push(ms),
      log: (m) => logs.push(m),
    });
    assert.deepEqual(res.map((r) => [r.ok, r.attempts]), [[false, 1]]);
    assert.match(res[0].error ?? '', /timed out.*sendmail/);
    assert.deepEqual(slept, []);
    const rec = w.store.deliveries(outcome.runId).filter((d) => d.recipient === 'admin@newhost.example');
    assert.deepEqual(rec.map((d) => d.ok), [false]);
    assert.match(rec[0].error ?? '', /attempt 1\/3: timed out/);
    assert.ok(logs.some((l) => /timed out.*not retried/.test(l)), logs.join('\n'));
    // The child (if it got as far as writing its pid) is killed: polled, never a fixed wait.
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      for (let i = 0; i < 200 && !gone(pid); i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(gone(pid), `sendmail ${pid} still running`);
    }
  });

  test('sendmail gets the message on stdin, with -i -f FROM RCPT; a failing sendmail is retried', { timeout: 20_000 }, async () => {
    const out = join(dir, 'ok.out');
    const script = join(dir, 'ok-sendmail.sh');
    writeFileSync(script, `#!/bin/sh\necho "$@" > '${out}.args'\ncat > '${out}'\n`);
    chmodSync(script, 0o755);
    const res = await deliverReport(admin(outcome), { store: w.store, settings: { ...base, sendmailPath: script } });
    assert.deepEqual(res.map((r) => [r.ok, r.attempts]), [[true, 1]]);
    assert.equal(readFileSync(`${out}.args`, 'utf8').trim(), '-i -f root@server1.example admin@newhost.example');
    assert.match(readFileSync(out, 'utf8'), /^Subject: .*mailhealth/im);
    const failing = join(dir, 'fail-sendmail.sh');
    writeFileSync(failing, `#!/bin/sh\ncat > /dev/null\necho 'queue full' >&2\nexit 75\n`);
    chmodSync(failing, 0o755);
    const slept: number[] = [];
    const res2 = await deliverReport(admin(outcome), { store: w.store, settings: { ...base, sendmailPath: failing }, sleep: async (ms) => void slept.push(ms) });
    assert.deepEqual(res2.map((r) => [r.ok, r.attempts]), [[false, 3]]);
    assert.match(res2[0].error ?? '', /exited with code 75: queue full/);
    assert.deepEqual(slept, [10, 20]);
  });

  test('a mailer that ignores its signal: the deadline still ends the attempt', { timeout: 20_000 }, async () => {
    let signal: AbortSignal | undefined;
    const mailer: Mailer = { sendMail: (_m, ctx) => ((signal = ctx?.signal), new Promise(() => {})) };
    const res = await deliverReport(admin(outcome), { store: w.store, settings: base, mailer, timeoutMs: 5, sleep: async () => {} });
    assert.deepEqual(res.map((r) => [r.ok, r.attempts]), [[false, 1]]);
    assert.match(res[0].error ?? '', /timed out/);
    assert.equal(signal?.aborted, true, 'the mailer is told');
  });

  test('an abort ends the waiting at once: the attempt recorded as aborted, the rest as not sent', { timeout: 20_000 }, async () => {
    const ctl = new AbortController();
    const sent: string[] = [];
    const mailer: Mailer = {
      sendMail: (m) => {
        sent.push(m.to);
        setImmediate(() => ctl.abort());
        return new Promise(() => {});
      },
    };
    const logs: string[] = [];
    const res = await deliverReport(admin(outcome), {
      store: w.store,
      settings: { ...base, recipients: ['one@newhost.example', 'two@newhost.example'] },
      mailer,
      signal: ctl.signal,
      log: (m) => logs.push(m),
    });
    assert.deepEqual(sent, ['one@newhost.example']);
    assert.deepEqual(res.map((r) => [r.recipient, r.ok, r.attempts]), [['one@newhost.example', false, 1], ['two@newhost.example', false, 0]]);
    assert.match(res[0].error ?? '', /aborted/);
    assert.match(res[1].error ?? '', /not sent: delivery aborted/);
    assert.ok(w.store.deliveries(outcome.runId).some((d) => d.recipient === 'two@newhost.example' && !d.ok));
    // Also during a retry's backoff (a sleep that never ends by itself).
    const ctl2 = new AbortController();
    const res2 = await deliverReport(admin(outcome), {
      store: w.store,
      settings: { ...base, recipients: ['three@newhost.example'] },
      mailer: { sendMail: async () => Promise.reject(new Error('connection refused')) },
      signal: ctl2.signal,
      sleep: () => (setImmediate(() => ctl2.abort()), new Promise(() => {})),
    });
    assert.deepEqual(res2.map((r) => [r.ok, r.attempts]), [[false, 1]]);
  });

  test('a permanent SMTP refusal (550) is not retried; a 451 still is', { timeout: 20_000 }, async () => {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo(addr, _s, cb) {
        if (addr.address.startsWith('nobody')) {
          const e = new Error('no such user') as Error & { responseCode: number };
          e.responseCode = 550;
          return cb(e);
        }
        if (addr.address.startsWith('busy')) {
          const e = new Error('try again later') as Error & { responseCode: number };
          e.responseCode = 451;
          return cb(e);
        }
        cb();
      },
      onData(stream, _s, cb) {
        stream.resume();
        stream.on('end', () => cb());
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.server.address() as AddressInfo).port;
      const slept: number[] = [];
      const res = await deliverReport(admin(outcome), {
        store: w.store,
        settings: { ...base, transport: 'smtp', smtp: { host: '127.0.0.1', port, ignoreTLS: true }, recipients: ['nobody@newhost.example', 'busy@newhost.example'] },
        sleep: async (ms) => void slept.push(ms),
      });
      assert.deepEqual(res.map((r) => [r.recipient, r.ok, r.attempts]), [['nobody@newhost.example', false, 1], ['busy@newhost.example', false, 3]]);
      assert.match(res[0].error ?? '', /550/);
      assert.deepEqual(slept, [10, 20]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
