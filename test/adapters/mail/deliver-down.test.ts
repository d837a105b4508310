// After one message's every attempt went unanswered (the mail server not reached), the messages after it are tried once
// each — but only then: a refusal of one address (550, a full mailbox 452) or a greylisting 4xx is an SMTP reply, so
// the server is there and the next messages keep their retries (review: a 452 on every attempt, or a 550 after two
// refused connections, stopped the retries of everyone after). Fake mailer, real SQLite.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../../src/adapters/store/store.js';
import { deliverReport, type DeliverySettings } from '../../../src/adapters/mail/deliver.js';

const refused = (code: number, msg: string) => Object.assign(new Error(msg), { responseCode: code });
const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25'), { code: 'ECONNREFUSED' });

async function deliver(to: string[], fail: (to: string, attempt: number) => Error | null) {
  const dir = mkdtempSync(join(tmpdir(), 'mh-deliver-down-'));
  const store = openStore(join(dir, 'db.sqlite'));
  try {
    const runId = store.startRun('report', 'root', 1);
    const outcome = { runId, rendered: { subject: 's', text: 't', html: '<p>h</p>', json: {} as never, svg: '' }, resellers: [], partFor: () => null };
    const calls = new Map<string, number>();
    const mailer = {
      async sendMail(m: { to: string }) {
        const n = (calls.get(m.to) ?? 0) + 1;
        calls.set(m.to, n);
        const e = fail(m.to, n);
        if (e) throw e;
        return {};
      },
    };
    const settings = { from: 'r@x.example', recipients: to, resellers: {}, transport: 'smtp', attempts: 3, backoffMs: 1, timeoutMs: 5000 } as unknown as DeliverySettings;
    const res = await deliverReport(outcome as never, { store, settings, mailer, sleep: async () => {} });
    return res.map((r) => `${r.recipient} ${r.ok ? 'ok' : 'failed'} ${r.attempts}`);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the server unreachable for a@: b@ and c@ get one attempt each', async () => {
  assert.deepEqual(await deliver(['a@x.example', 'b@x.example', 'c@x.example'], () => unreachable()), ['a@x.example failed 3', 'b@x.example failed 1', 'c@x.example failed 1']);
});

test("a@'s mailbox full on every attempt (452, a reply): b@ greylisted once is retried", async () => {
  const res = await deliver(['a@x.example', 'b@x.example'], (to, n) => (to === 'a@x.example' ? refused(452, 'mailbox full') : n === 1 ? refused(451, 'greylisted') : null));
  assert.deepEqual(res, ['a@x.example failed 3', 'b@x.example ok 2']);
});

test('unreachable for a@, then the server answers b@ (550): c@ greylisted once is retried', async () => {
  const res = await deliver(['a@x.example', 'b@x.example', 'c@x.example'], (to, n) =>
    to === 'a@x.example' ? unreachable() : to === 'b@x.example' ? refused(550, 'no such user') : n === 1 ? refused(451, 'greylisted') : null,
  );
  assert.deepEqual(res, ['a@x.example failed 3', 'b@x.example failed 1', 'c@x.example ok 2']);
});

test('two refused connections, then a 550 for a@ (the server came back): b@ keeps its retries', async () => {
  const res = await deliver(['a@x.example', 'b@x.example'], (to, n) => (to === 'a@x.example' ? (n < 3 ? unreachable() : refused(550, 'no such user')) : n === 1 ? refused(421, 'try later') : null));
  assert.deepEqual(res, ['a@x.example failed 3', 'b@x.example ok 2']);
});

test("a reply at any attempt shows the server is there: 421, 421, then a refused connection for a@ — b@ keeps its retries", async () => {
  const res = await deliver(['a@x.example', 'b@x.example'], (to, n) => (to === 'a@x.example' ? (n < 3 ? refused(421, 'busy') : unreachable()) : n === 1 ? refused(451, 'greylisted') : null));
  assert.deepEqual(res, ['a@x.example failed 3', 'b@x.example ok 2']);
});
