// The receiver of an explanation is the one whose own wording matched: a table entry of one receiver (Microsoft's
// 5.7.509, Gmail's DMARC wording) names who refused the mail even when no fingerprint (host, "gsmtp", …) is in the text.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BOUNCE_TABLE, receiverName } from '../../../src/core/bounce/codes.js';
import { explainBounce } from '../../../src/core/bounce/explain.js';
import { isParseError, parseBounce, type ParsedBounce } from '../../../src/core/bounce/parse.js';
import { CORPORA_DIR, corpusPath, readCorpus } from '../../helpers/corpora.js';

function parsed(text: string): ParsedBounce {
  const r = parseBounce(text);
  if (isParseError(r)) assert.fail(r.error);
  return r;
}

const MS_509 = '550 5.7.509 Access denied, sending domain bakery.example does not pass DMARC verification and has a DMARC policy of reject.';
const GMAIL_DMARC = '550 5.7.26 Unauthenticated email from bakery.example is not accepted due to domain\'s DMARC policy. Please contact the administrator of bakery.example domain if this was a legitimate mail.';

describe('explainBounce: the receiver follows the matched entry', () => {
  it('Microsoft 5.7.509 without an Outlook host: receiver microsoft, its name in the heading', () => {
    const e = explainBounce(parsed(MS_509), null);
    assert.equal(e.entry, 'microsoft-5.7.509');
    assert.equal(e.receiver, 'microsoft');
    assert.equal(e.receiverName, receiverName(BOUNCE_TABLE, 'microsoft'));
    assert.match(e.meaning, /^Microsoft/);
  });

  it('Gmail\'s DMARC wording without "gsmtp": receiver gmail', () => {
    const e = explainBounce(parsed(GMAIL_DMARC), null);
    assert.equal(e.entry, 'gmail-5.7.26-dmarc');
    assert.equal(e.receiver, 'gmail');
    assert.equal(e.receiverName, 'Gmail (Google)');
  });

  it('a generic entry keeps the fingerprinted receiver', () => {
    const e = explainBounce(parsed('554 5.7.1 Service unavailable; Client host [203.0.113.10] blocked using zen.spamhaus.org'), null);
    assert.equal(e.entry, 'generic-blocklist');
    assert.equal(e.receiver, 'generic');
    assert.equal(e.receiverName, 'Receiving mail server');
  });

  it('every corpus bounce: a receiver-specific entry and the receiver agree', { skip: corpusPath('bounces') ? false : `no bounces corpus under ${CORPORA_DIR}` }, () => {
    const files = readdirSync(join(CORPORA_DIR, 'bounces')).filter((f) => f.endsWith('.txt'));
    assert.ok(files.length >= 7);
    for (const text of [...files.map((f) => readCorpus(`bounces/${f}`)), MS_509, GMAIL_DMARC]) {
      const e = explainBounce(parsed(text), null);
      const entry = BOUNCE_TABLE.codes.find((c) => c.id === e.entry);
      if (entry && entry.receiver !== 'generic') assert.equal(e.receiver, entry.receiver, `${e.entry}: ${text.slice(0, 80)}`);
    }
  });
});

// QA: a phrase several receivers use named the first of them — "sender is unauthenticated" is Gmail's and Yahoo's
// wording, and a bounce from another server was headed "Gmail (Google)". A tie names none of them.
describe('explainBounce: a wording several receivers share names none of them', () => {
  it('"sender is unauthenticated" from an unknown server: receiver generic', () => {
    const e = explainBounce(parsed('Reporting-MTA: dns; mx1.corp-mail.example\n\n550 5.7.1 This mail has been blocked because the sender is unauthenticated.'), null);
    assert.equal(e.receiver, 'generic');
  });
});
