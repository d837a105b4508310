// mailAddressProblem (report recipients and sender, settings page): control characters in the name before "@" are refused
// — nodemailer rewrote `a\x01b\x7f@example.com` as `"ab "@example.com`, another mailbox (mail QA).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mailAddressProblem } from '../../src/core/domain.js';

test('mailAddressProblem: C0, DEL and C1 control characters before "@" are a problem; ordinary addresses are not', () => {
  for (const bad of ['a\x01b@example.com', 'ab\x7f@example.com', 'a\x00@example.com', 'x\x85y@example.com', 'a\x1b[31m@example.com']) {
    assert.ok(mailAddressProblem(bad), JSON.stringify(bad));
  }
  for (const good of ['ops@example.com', 'first.last+tag@example.com', 'ünïcode@example.com', 'root@localhost']) {
    assert.equal(mailAddressProblem(good), null, good);
  }
});
