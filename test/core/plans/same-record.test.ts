// Copies of one resource record in a zone (src/core/plans/plan.ts sameResourceRecord / withoutCopies): a TXT record's
// strings compare as stored; names in MX, NS, CNAME… data compare as names — any case, a final dot or not (RFC 4343):
// the review found `10 Mail.example.com.` and `10 mail.example.com` taken for two records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ZoneRecord } from '../../../src/core/model.js';
import { sameResourceRecord, withoutCopies } from '../../../src/core/plans/plan.js';

const rec = (type: string, value: string, txt?: string[]): ZoneRecord => ({ name: 'shop.example', ttl: 300, type, value, ...(txt ? { txt } : {}) });

test('MX, NS and CNAME data: names compare without case or final dot; different data stays different', () => {
  assert.ok(sameResourceRecord(rec('MX', '10 Mail.Example.com.'), rec('MX', '10 mail.example.com')));
  assert.ok(sameResourceRecord(rec('NS', 'NS1.example.net.'), rec('NS', 'ns1.example.net')));
  assert.ok(sameResourceRecord(rec('CNAME', 'Target.example.'), rec('CNAME', 'target.example')));
  assert.ok(!sameResourceRecord(rec('MX', '10 mail.example.com'), rec('MX', '20 mail.example.com')));
  assert.ok(!sameResourceRecord(rec('MX', '10 mail.example.com'), rec('MX', '10 mx.example.com')));
  assert.deepEqual(withoutCopies([rec('MX', '10 Mail.example.com.'), rec('MX', '10 mail.example.com'), rec('MX', '20 backup.example.com')]).map((r) => r.value), ['10 Mail.example.com.', '20 backup.example.com']);
});

test('TXT strings compare as stored: case and the split into strings count', () => {
  assert.ok(sameResourceRecord(rec('TXT', 'v=spf1 -all', ['v=spf1 -all']), rec('TXT', 'v=spf1 -all', ['v=spf1 -all'])));
  assert.ok(!sameResourceRecord(rec('TXT', 'V=spf1 -all', ['V=spf1 -all']), rec('TXT', 'v=spf1 -all', ['v=spf1 -all'])));
  assert.ok(!sameResourceRecord(rec('TXT', 'ab', ['a', 'b']), rec('TXT', 'ab', ['ab'])));
});
