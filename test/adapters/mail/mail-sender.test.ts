// QA of the report's sender (report.from, set by hand with sqlite3): the value was used as it came. Without an address
// ("mailhealth") the message went out with no From header at all — RFC 5322 requires one, receivers refuse such mail —
// and over SMTP from the null sender <>, as a bounce does; a value with a line break or two addresses made a From of
// mangled or several mailboxes. Such a value is now reported (logged, naming the setting) and the mail goes from the
// default sender. Each case through a fake sendmail (records its argv and stdin) or an SMTP server on loopback.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { deliverNightly, type Deliverable } from '../../../src/adapters/mail/deliver.js';
import { openStore, type Store } from '../../../src/adapters/store/store.js';

const rendered = { subject: 'mailhealth nightly report: 1 new problem, 0 resolved, 0 still failing — server1', text: 'Run 1.\n', html: '<p>Run 1.</p>' };

/** The headers of a raw message, unfolded. */
function headers(raw: string): string[] {
  return raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/);
}

describe('report.from that is not one sender address', () => {
  let dir: string;
  let store: Store;
  let runId: number;
  let outcome: Deliverable;
  let script: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-mail-sender-'));
    store = openStore(join(dir, 'mailhealth.sqlite'));
    runId = store.startRun('report', 'admin');
    store.completeRunWithReport(runId, { json: {}, html: rendered.html, text: rendered.text });
    outcome = { runId, rendered, resellers: [], partFor: () => ({ rendered }) };
    // A sendmail that keeps what it was given: its arguments, one a line, and the message.
    script = join(dir, 'sendmail.sh');
    writeFileSync(script, `#!/bin/sh\nd='${join(dir, 'out')}'\nmkdir -p "$d"\nprintf '%s\\n' "$@" > "$d/argv"\ncat > "$d/message"\n`);
    chmodSync(script, 0o755);
    store.setSetting('report.recipients', ['ops@example.com']);
    store.setSetting('report.sendmailPath', script);
    store.setSetting('report.attempts', 1);
  });
  beforeEach(() => rmSync(join(dir, 'out'), { recursive: true, force: true }));
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sent = () => ({ argv: readFileSync(join(dir, 'out', 'argv'), 'utf8').trim().split('\n'), message: readFileSync(join(dir, 'out', 'message'), 'utf8') });

  async function deliverWithFrom(from: string) {
    store.setSetting('report.from', from);
    const logs: string[] = [];
    const res = await deliverNightly(outcome, { store, log: (m) => logs.push(m) });
    return { res, logs };
  }
  /** Through the fake sendmail: what it was given too. */
  const viaSendmail = async (from: string) => ({ ...(await deliverWithFrom(from)), ...sent() });

  test('no address ("mailhealth"): sent from the default sender, with a From header; logged naming the setting', async () => {
    const { res, logs, argv, message } = await viaSendmail('mailhealth');
    assert.deepEqual(res.map((r) => r.ok), [true]);
    const from = headers(message).filter((h) => /^from:/i.test(h));
    assert.equal(from.length, 1, `one From header:\n${headers(message).join('\n')}`);
    const m = /^From: mailhealth <(root@[^>]+)>$/.exec(from[0]);
    assert.ok(m, from[0]);
    // The envelope sender is the same mailbox (bounces go to root).
    assert.deepEqual(argv.slice(0, 3), ['-i', '-f', m[1]]);
    assert.ok(logs.some((l) => /report\.from: not a sender address .*"mailhealth".*the mail goes from mailhealth <root@/.test(l)), logs.join('\n'));
  });

  test('a line break and a header in it: no header of the value in the message', async () => {
    const { res, message } = await viaSendmail('mailhealth\r\nBcc: evil@x.example <root@server1.example>');
    assert.deepEqual(res.map((r) => r.ok), [true]);
    assert.ok(!headers(message).some((h) => /evil@x\.example/.test(h)), headers(message).join('\n'));
    assert.ok(headers(message).some((h) => /^From: mailhealth <root@[^>]+>$/.test(h)));
  });

  test('two addresses: the From is one mailbox', async () => {
    const { message } = await viaSendmail('ops@server1.example, evil@x.example');
    const from = headers(message).find((h) => /^from:/i.test(h)) ?? '';
    assert.doesNotMatch(from, /evil@x\.example/);
    assert.match(from, /^From: mailhealth <root@[^>]+>$/);
  });

  test('a good value is kept as written: a quoted name with a comma, a Unicode name', async () => {
    const a = await viaSendmail('"Reports, Server 1" <reports@server1.example>');
    assert.deepEqual(a.argv.slice(0, 3), ['-i', '-f', 'reports@server1.example']);
    assert.ok(headers(a.message).includes('From: "Reports, Server 1" <reports@server1.example>'), headers(a.message).join('\n'));
    const b = await viaSendmail('Mailhealth Prüfbericht <reports@server1.example>');
    assert.ok(headers(b.message).includes('From: =?UTF-8?Q?Mailhealth_Pr=C3=BCfbericht?= <reports@server1.example>'), headers(b.message).join('\n'));
  });

  test('by SMTP, a value without an address no longer sends from the null sender <>', async () => {
    const envelopes: { from: string; headers: string[] }[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const mailFrom = session.envelope.mailFrom;
          envelopes.push({ from: mailFrom ? mailFrom.address : '(none)', headers: headers(Buffer.concat(chunks).toString('utf8')) });
          cb();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      store.setSetting('report.transport', 'smtp');
      store.setSetting('report.smtp', { host: '127.0.0.1', port: (server.server.address() as AddressInfo).port, ignoreTLS: true });
      const { res } = await deliverWithFrom('mailhealth');
      assert.deepEqual(res.map((r) => r.ok), [true]);
      assert.equal(envelopes.length, 1);
      assert.match(envelopes[0].from, /^root@/);
      assert.equal(envelopes[0].headers.filter((h) => /^from:/i.test(h)).length, 1);
    } finally {
      store.setSetting('report.transport', 'sendmail');
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
