// The Plesk shim's domain list (MAILHEALTH_ALLOWED_DOMAINS[_FILE]) goes through the one domain validator: a name in
// Unicode is the A-label the panel's own list uses (else an IDN customer lost their own domain from scope), spellings
// (case, trailing dot) are one name, and what is not a domain name allows nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedDomainsFrom } from '../../src/web/cgi.js';

test('allowed list: Unicode names as A-labels, case and trailing dot folded, non-names dropped', () => {
  assert.equal(allowedDomainsFrom(undefined), null);
  const got = allowedDomainsFrom('bücher.example, Shop.Example.\n../etc a..b  xn--mller-kva.example');
  assert.deepEqual([...got!].sort(), ['shop.example', 'xn--bcher-kva.example', 'xn--mller-kva.example']);
});
