// Report recipients (src/core/recipients.ts): one mailbox is one recipient whatever the spelling of its domain — the
// settings page accepts U-labels, so "ops@bücher.example" and "ops@xn--bcher-kva.example" (and "OPS@BÜCHER.EXAMPLE.")
// would each get the nightly report (QA-IDN-5). The first spelling is the one kept, for sending.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressKey, splitAddresses, uniqueAddresses } from '../../src/core/recipients.js';

test('one mailbox in several spellings of its domain: one recipient, as first spelled', () => {
  assert.deepEqual(uniqueAddresses(['ops@bücher.example', 'ops@xn--bcher-kva.example', 'OPS@BÜCHER.EXAMPLE.', 'ops@bücher.example\u3002']), ['ops@bücher.example']);
  assert.deepEqual(splitAddresses('ops@xn--bcher-kva.example, ops@bücher.example; noc@bücher.example'), ['ops@xn--bcher-kva.example', 'noc@bücher.example']);
  assert.equal(addressKey(' Ops@Bücher.Example '), 'ops@xn--bcher-kva.example');
});

test('other mailboxes stay apart; what is no domain is compared in lower case as before', () => {
  assert.deepEqual(uniqueAddresses(['ops@bücher.example', 'ops@bucher.example', 'noc@bücher.example']), ['ops@bücher.example', 'ops@bucher.example', 'noc@bücher.example']);
  assert.deepEqual(uniqueAddresses(['root@localhost', 'ROOT@LOCALHOST', 'rita at example.com', 'RITA AT EXAMPLE.COM']), ['root@localhost', 'rita at example.com']);
  assert.deepEqual(uniqueAddresses(['ops@example.com', 'OPS@example.com.']), ['ops@example.com']);
});
