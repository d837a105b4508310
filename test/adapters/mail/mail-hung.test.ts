// QA of a hung mail transport: a timed-out attempt is not retried, but every message still waited out its own deadline
// (60 s by default), so a sendmail that hangs cost the run a minute per address — 1,000 reseller addresses held the
// report lock for over 16 hours, into the next night, whose run was refused. After HUNG_AFTER_TIMEOUTS messages in a
// row time out the others are not tried that night: recorded as not sent, saying why, and logged once.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deliverReport, deliverySettings, type Deliverable, type DeliverySettings, type Mailer } from '../../../src/adapters/mail/deliver.js';
import { openStore, type Store } from '../../../src/adapters/store/store.js';

const rendered = { subject: 'mailhealth nightly report', text: 'Run 1.\n', html: '<p>Run 1.</p>' };
const addrs = (n: number) => Array.from({ length: n }, (_, i) => `r${i + 1}@newhost.example`);

describe('a mail transport that stops answering', () => {
  let dir: string;
  let store: Store;
  let outcome: Deliverable;
  let base: DeliverySettings;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-mail-hung-'));
    store = openStore(join(dir, 'mailhealth.sqlite'));
    const runId = store.startRun('report', 'admin');
    store.completeRunWithReport(runId, { json: {}, html: rendered.html, text: rendered.text });
    outcome = { runId, rendered, resellers: [], partFor: () => ({ rendered }) };
    base = deliverySettings(store, { transport: 'sendmail', from: 'mailhealth <root@server1.example>', attempts: 3, backoffMs: 10 });
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('three messages in a row time out: the others are not tried tonight, recorded and logged once', async () => {
    const tried: string[] = [];
    const mailer: Mailer = { sendMail: (m) => (tried.push(m.to), new Promise(() => {})) };
    const logs: string[] = [];
    const res = await deliverReport(outcome, { store, settings: { ...base, recipients: addrs(6) }, mailer, timeoutMs: 5, sleep: async () => {}, log: (l) => logs.push(l) });
    assert.deepEqual(tried, addrs(3));
    assert.deepEqual(res.map((r) => [r.recipient, r.ok, r.attempts]), addrs(6).map((a, i) => [a, false, i < 3 ? 1 : 0]));
    assert.match(res[3].error ?? '', /^not sent: sendmail did not answer the last 3 messages within their deadline \(5 ms each\): it seems hung, and the other messages were not tried tonight/);
    const recorded = store.deliveries(outcome.runId).filter((d) => addrs(6).slice(3).includes(d.recipient));
    assert.deepEqual(recorded.map((d) => [d.recipient, d.ok]), addrs(6).slice(3).map((a) => [a, false]));
    assert.equal(logs.filter((l) => /seems hung/.test(l)).length, 1, logs.join('\n'));
    assert.match(logs.find((l) => /seems hung/.test(l))!, /\(3 message\(s\); the report is saved\)/);
  });

  test('a message that goes through, or any answer, starts the count again', async () => {
    const tried: string[] = [];
    const mailer: Mailer = {
      sendMail: (m) => {
        tried.push(m.to);
        if (m.to === 'r3@newhost.example') return Promise.resolve({});
        if (m.to === 'r6@newhost.example') return Promise.reject(Object.assign(new Error('mailbox full'), { responseCode: 552 }));
        return new Promise(() => {});
      },
    };
    const res = await deliverReport(outcome, { store, settings: { ...base, recipients: addrs(10) }, mailer, timeoutMs: 5, sleep: async () => {} });
    // r1 r2 time out, r3 is sent; r4 r5 time out, r6 is refused (an answer); r7 r8 r9 time out; r10 is not tried.
    assert.deepEqual(tried, addrs(9));
    assert.deepEqual(res.map((r) => r.attempts), [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    assert.equal(res[2].ok, true);
  });

  test('a real sendmail that hangs: three deadlines, not one a message', { timeout: 30_000 }, async () => {
    const script = join(dir, 'hang-sendmail.sh');
    writeFileSync(script, '#!/bin/sh\nexec sleep 100000\n');
    chmodSync(script, 0o755);
    const res = await deliverReport(outcome, { store, settings: { ...base, sendmailPath: script, recipients: addrs(5) }, timeoutMs: 200, sleep: async () => {} });
    assert.deepEqual(res.map((r) => r.attempts), [1, 1, 1, 0, 0]);
    assert.match(res[0].error ?? '', /timed out: no answer from sendmail/);
  });
});
