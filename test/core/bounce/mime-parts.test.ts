// A bounce saved as its raw source (a mail client's "show original"): the human-readable part of a multipart report is
// often base64. It was read as base64 text — no reply found, or only the delivery-status part's. Text parts in base64
// are decoded (in their charset: UTF-8, ASCII or Latin-1); other parts (an image, an attachment) stay as they are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isParseError, parseBounce } from '../../../src/core/bounce/parse.js';

const b64 = (s: string, enc: BufferEncoding = 'utf8') => Buffer.from(s, enc).toString('base64').replace(/.{76}/g, '$&\n');

const NDR_TEXT =
  'Your message to bob@contoso.com couldn\'t be delivered.\n\nbakery.example suspected spam.\n\n' +
  'Remote server returned \'550 5.7.515 Access denied, sending domain bakery.example doesn\'t meet the required authentication level.\'\n';

function rawNdr(textPart: string, extra = ''): string {
  return [
    'From: Microsoft Outlook <postmaster@outlook.com>',
    'To: <info@bakery.example>',
    'Subject: Undeliverable: Spring menu',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset="utf-8"',
    'Content-Transfer-Encoding: base64',
    '',
    textPart.trimEnd(),
    '',
    extra,
    '--b1--',
    '',
  ].join('\r\n');
}

test('a base64 text/plain part is read: the reply in it is found and explained', () => {
  const r = parseBounce(rawNdr(b64(NDR_TEXT)));
  assert.ok(!isParseError(r), JSON.stringify(r));
  assert.equal(r.enhancedCode, '5.7.515');
  assert.equal(r.replyCode, '550');
  assert.equal(r.domain, 'bakery.example');
  assert.match(r.text, /required authentication level/);
});

test('a base64 part in Latin-1 is decoded in its charset', () => {
  const text = 'Ihre Nachricht an bob@example.de konnte nicht zugestellt werden.\nGr\u00fcnde: 550 5.7.26 Nicht authentifiziert (SPF/DKIM).\n';
  const raw = rawNdr(b64(text, 'latin1')).replace('charset="utf-8"', 'charset=iso-8859-1');
  const r = parseBounce(raw);
  assert.ok(!isParseError(r), JSON.stringify(r));
  assert.equal(r.enhancedCode, '5.7.26');
  assert.match(r.text, /Nicht authentifiziert/);
});

test('a base64 image part is left alone, and an input with no reply still says so', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0xff, 0xfe, 0x00, 0x01]).toString('base64');
  const raw = rawNdr(b64('There was a problem delivering your message.\n'), ['--b1', 'Content-Type: image/png', 'Content-Transfer-Encoding: base64', '', png, ''].join('\r\n'));
  const r = parseBounce(raw);
  assert.ok(isParseError(r));
  assert.match(r.error, /no SMTP error code/);
});

test('a base64 block that does not decode to text stays as it was (no garbage read as a reply)', () => {
  const junk = Buffer.from(Array.from({ length: 120 }, (_, i) => (i * 37) % 256)).toString('base64');
  const raw = rawNdr(junk, 'Diagnostic-Code: smtp; 550 5.7.1 Sender not authorized\r\n');
  const r = parseBounce(raw);
  assert.ok(!isParseError(r), JSON.stringify(r));
  assert.equal(r.enhancedCode, '5.7.1');
});
