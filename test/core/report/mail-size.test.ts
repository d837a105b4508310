// QA of the report's mail (delivery): its size is bounded whatever the records say. A finding's message may quote a
// record whole, and the record is the customer's: 10,000 domains whose _dmarc TXT holds 30 KB of text made a 37 MB
// message — past what mail servers take (most refuse 10–25 MB), so the night's report never arrived. The mail now cuts
// each item's fields (MAIL_LIMITS) and stops listing items past an octet budget per part, counting those left out in
// the section's "… and N more" line; the JSON stays whole. Also: the HTML part shows the chart's numbers as text —
// Gmail and Outlook show no SVG, and the trend was a blank there.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import { buildReport, type DomainSnapshot, type RunSnapshot } from '../../../src/core/report/diff.js';
import { renderReport } from '../../../src/core/report/render.js';

/** What one item's message may show in the mail (MAIL_LIMITS.message), and its names (MAIL_LIMITS.name). */
const MESSAGE = 1000;
const NAME = 255;

/** 10,000 domains each failing with a finding that quotes `record`; the night before, other problems (to resolve). */
function bigReport(record: string) {
  const domains = (night: 1 | 2): DomainSnapshot[] =>
    Array.from({ length: 10_000 }, (_, i) => ({
      domain: `d${i}.example`,
      owner: `cust${i}`,
      reseller: null,
      status: 'fail',
      findings:
        night === 1
          ? [{ rule: 'dkim.key-mismatch', check: 'dkim', severity: 'fail', subject: 'default', message: `The key at default._domainkey is another sender's: ${record}` }]
          : [
              { rule: 'dmarc.missing', check: 'dmarc', severity: 'warn', subject: null, message: `The TXT record at _dmarc is meant as DMARC but receivers cannot read it (${JSON.stringify(record)})` },
              { rule: 'spf.stale-term', check: 'spf', severity: 'fail', subject: `include:${record.slice(0, 2000)}`, message: `A stale term: ${record}` },
            ],
    }));
  const prev: RunSnapshot = { runId: 1, status: 'complete', startedAt: '2026-01-01T03:00:00Z', domains: domains(1) };
  return buildReport({ current: { runId: 2, status: 'complete', startedAt: '2026-01-02T03:00:00Z', domains: domains(2) }, runs: [prev] });
}

/** The message as the mailer composes it (nodemailer, as createMailer's sendmail path does). */
async function composed(r: { subject: string; text: string; html: string }): Promise<Buffer> {
  const t = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const info = (await t.sendMail({ from: 'mailhealth <root@server1.example>', to: 'ops@example.com', subject: r.subject, text: r.text, html: r.html })) as { message: Buffer };
  return info.message;
}

const TEN_MB = 10 * 1024 * 1024;

describe('the mail of a big report with hostile record text stays deliverable', () => {
  test('10,000 domains quoting a 30 KB record: under 10 MB; each message cut in the mail, whole in the JSON', async () => {
    const doc = bigReport(`v=DMARC1; ${'x'.repeat(30_000)}`);
    const r = renderReport(doc, { baseUrl: 'https://panel.example/' });
    const msg = await composed(r);
    assert.ok(msg.length < TEN_MB, `the mail is ${msg.length} octets`);
    // Every line the text part lists is a bounded one.
    const longest = Math.max(...r.text.split('\n').map((l) => l.length));
    assert.ok(longest < MESSAGE + NAME * 4 + 200, `a text line of ${longest} characters`);
    assert.match(r.text, /… \[\d+ more characters\]/);
    // The JSON keeps every item whole.
    assert.equal(doc.newProblems.length, 20_000);
    assert.ok(doc.newProblems.every((i) => i.message.length > 30_000 || i.rule === 'dmarc.missing'));
    assert.ok(r.json.newProblems[0].message.length > 30_000);
  });

  test('the same with text that encodes long (CJK and Latin mixed): under 10 MB', async () => {
    const doc = bigReport(`v=DMARC1; ${'漢a'.repeat(15_000)}`);
    const msg = await composed(renderReport(doc, {}));
    assert.ok(msg.length < TEN_MB, `the mail is ${msg.length} octets`);
  });

  test('items past the octet budget are counted in their section\'s "… and N more", later sections included', () => {
    const doc = bigReport('v=DMARC1; p=none');
    const r = renderReport(doc, { maxListedOctets: 20_000 });
    const more = [...r.text.matchAll(/^ {2}… and (\d+) more: /gm)].map((m) => Number(m[1]));
    const listedNew = r.text.split('\nResolved (')[0].split('\n').filter((l) => /^ {2}\[/.test(l)).length;
    assert.ok(listedNew > 0 && listedNew < 200, `listed ${listedNew}`);
    // New problems (20,000) and Resolved (10,000): what is listed plus what is counted is every item.
    assert.equal(listedNew + more[0], 20_000);
    assert.equal(more[1], 10_000, 'the budget is spent: Resolved lists none, and says how many');
    const htmlMore = [...r.html.matchAll(/<p>… and (\d+) more: /g)].map((m) => Number(m[1]));
    assert.equal(htmlMore.length, 2);
    assert.equal(htmlMore[1], 10_000);
    assert.ok(Buffer.byteLength(r.text) < 40_000 && Buffer.byteLength(r.html) < 60_000, `${r.text.length} ${r.html.length}`);
  });

});

describe('the HTML part shows the trend in words too', () => {
  test('"Failing domains per night" is in the HTML, outside the SVG (clients that show no SVG show it)', () => {
    const doc = bigReport('v=DMARC1; p=none');
    const r = renderReport(doc, {});
    const outside = r.html.replace(/<svg[\s\S]*?<\/svg>/g, '');
    assert.match(outside, /Failing domains per night \(oldest first\): 10000 10000/);
    assert.match(r.text, /Failing domains per night \(oldest first\): 10000 10000/);
  });
});
