// QA of a report that did not get through: it was kept, its failure logged and recorded — and then nothing. The next
// night's mail said nothing of it, so the problems that night reported as new reached the recipient only as "still
// failing", and nobody reads the service's log. Now a message tells its address which earlier reports did not reach it
// and why (the last attempt's error, escaped in the HTML), once: the next one that gets through. Nights through a fake
// sendmail that refuses one address (exit 75, as sendmail does for a temporary failure) and records what it is given.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deliverNightly, missedReportsText } from '../../../src/adapters/mail/deliver.js';
import { runReport } from '../../../src/cron/report.js';
import { countingLimiter, DAY, startWorld, type TestWorld } from '../../cron/world.js';

/** The decoded text/plain and text/html parts of a raw message (quoted-printable or base64). */
function parts(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(raw)?.[1];
  for (const c of boundary ? raw.split(`--${boundary}`) : [raw]) {
    const idx = c.search(/\r?\n\r?\n/);
    if (idx < 0) continue;
    const head = c.slice(0, idx);
    const type = /content-type:\s*([^;\r\n]+)/i.exec(head)?.[1]?.trim().toLowerCase();
    if (!type || type.startsWith('multipart/')) continue;
    const enc = /content-transfer-encoding:\s*(\S+)/i.exec(head)?.[1]?.toLowerCase();
    let body = c.slice(idx).replace(/^\r?\n\r?\n/, '');
    if (enc === 'quoted-printable') {
      body = Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
    } else if (enc === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    out.set(type, body);
  }
  return out;
}

describe('an address an earlier report did not reach is told so by the next one that does', () => {
  let w: TestWorld;
  let out: string;
  let refusing: string;
  let accepting: string;
  const logs: string[] = [];
  const night = async (email: boolean) => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
    const o = await runReport({
      store: w.store,
      panel: w.panel,
      resolver: w.resolver(),
      limiter: countingLimiter(),
      now: () => new Date(w.clock.now()),
      ...(email ? { deliver: (oc) => deliverNightly(oc, { store: w.store, log: (m) => logs.push(m) }) } : {}),
    });
    w.clock.advance(DAY);
    return o;
  };
  /** What the fake sendmail was given for `rcpt` tonight (the envelope's spelling: nodemailer lower-cases the domain). */
  const got = (rcpt: string) => {
    const f = readdirSync(out).find((n) => n.toLowerCase() === `${rcpt}.eml`.toLowerCase());
    return f ? parts(readFileSync(join(out, f), 'utf8')) : null;
  };

  before(async () => {
    w = await startWorld();
    out = join(w.dir, 'sent');
    // Refuses ops@ as a sendmail with a full queue does (exit 75, EX_TEMPFAIL), with markup in its words; keeps the rest.
    refusing = join(w.dir, 'refusing-sendmail.sh');
    writeFileSync(
      refusing,
      `#!/bin/sh\nfor a in "$@"; do last="$a"; done\nif [ "$last" = ops@newhost.example ]; then cat > /dev/null; echo '<b>queue</b> full' >&2; exit 75; fi\ncat > '${out}'/"$last".eml\n`,
    );
    accepting = join(w.dir, 'sendmail.sh');
    writeFileSync(accepting, `#!/bin/sh\nfor a in "$@"; do last="$a"; done\ncat > '${out}'/"$last".eml\n`);
    chmodSync(refusing, 0o755);
    chmodSync(accepting, 0o755);
    w.store.setSetting('report.recipients', ['admin@newhost.example', 'ops@newhost.example']);
    w.store.setSetting('report.from', 'mailhealth <root@server1.newhost.example>');
    w.store.setSetting('report.attempts', 1);
  });
  after(async () => {
    await w?.close();
  });

  test('night 1 fails for ops@; a night without mail; night 3 tells ops@ of run 1 — and admin@ of nothing; night 4 of nothing', { timeout: 60_000 }, async () => {
    w.store.setSetting('report.sendmailPath', refusing);
    const n1 = await night(true);
    assert.ok(got('admin@newhost.example'));
    assert.equal(got('ops@newhost.example'), null);
    assert.deepEqual(w.store.deliveries(n1.runId).map((d) => [d.recipient, d.ok]), [['admin@newhost.example', true], ['ops@newhost.example', false]]);

    // `mailhealth report` without --email: no delivery recorded for that run, which is passed over.
    await night(false);

    w.store.setSetting('report.sendmailPath', accepting);
    await night(true);
    const ops = got('ops@newhost.example');
    const admin = got('admin@newhost.example');
    assert.ok(ops && admin);
    const text = ops.get('text/plain')!;
    assert.match(
      text,
      new RegExp(
        `^Not delivered before: mailhealth's report of run ${n1.runId} \\(2026-01-01T03:00:00\\.000Z\\) did not reach ops@newhost\\.example — the last attempt: attempt 1/1: sendmail \\(.*\\) exited with code 75: <b>queue</b> full\\. The problems it reported that still fail are listed below under "Still failing"`,
      ),
      text.slice(0, 600),
    );
    const html = ops.get('text/html')!;
    assert.match(html, /<body[^>]*>\s*<p class="missed-reports"[^>]*>Not delivered before: /);
    assert.match(html, /&lt;b&gt;queue&lt;\/b&gt; full/);
    assert.doesNotMatch(html, /<b>queue/);
    // The report follows, as on any night.
    assert.match(text, /\n\nmailhealth nightly report: /);
    assert.doesNotMatch(admin.get('text/plain')!, /Not delivered before/);
    assert.doesNotMatch(admin.get('text/html')!, /missed-reports/);
    assert.ok(logs.some((l) => new RegExp(`ops@newhost\\.example is told that run ${n1.runId}'s report did not reach it`).test(l)), logs.join('\n'));

    // Told once: the message that got through told of it.
    await night(true);
    assert.doesNotMatch(got('ops@newhost.example')!.get('text/plain')!, /Not delivered before/);
  });

  test('several nights missed: one note naming them all, oldest first; the address in another spelling is the same mailbox', { timeout: 60_000 }, async () => {
    w.store.setSetting('report.sendmailPath', refusing);
    const a = await night(true);
    const b = await night(true);
    w.store.setSetting('report.sendmailPath', accepting);
    w.store.setSetting('report.recipients', ['admin@newhost.example', 'OPS@NewHost.Example']);
    await night(true);
    const ops = got('OPS@NewHost.Example');
    assert.ok(ops);
    assert.match(ops.get('text/plain')!, new RegExp(`^Not delivered before: mailhealth's last 2 reports \\(runs ${a.runId}, ${b.runId}; the first 20\\d\\d-\\S+\\) did not reach OPS@NewHost\\.Example — the last attempt: attempt 1/1: `));
  });

  test("a reseller is not told to check the server's mail settings: to tell the administrator", () => {
    const missed = [{ runId: 7, startedAt: '2026-01-07T03:00:00.000Z', error: 'attempt 3/3: 452 mailbox full' }];
    assert.match(missedReportsText('rita@reseller.example', missed, 'reseller'), /tell the server's administrator\.$/);
    assert.match(missedReportsText('ops@newhost.example', missed, 'admin'), /check the delivery settings \(report\.from, report\.transport, report\.smtp\) and the mail log\.$/);
  });
});
