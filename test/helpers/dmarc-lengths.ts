// Report addresses of exact lengths, for the tests of OpenDMARC's limits on them (src/core/dmarc/record.ts
// OPENDMARC_MAX_URI / OPENDMARC_MAX_LIST): test/core/dmarc/record-opendmarc-limits.test.ts and
// test/e2e/dmarc-opendmarc-judge.test.ts.
import assert from 'node:assert/strict';

/** A mailto: URI of exactly `n` octets at `domain` (its local part filled with "a"). */
export const uriOf = (n: number, domain = 'example.com') => `mailto:${'a'.repeat(n - `mailto:@${domain}`.length)}@${domain}`;

/** A comma list of exactly `n` octets of short mailto: URIs at `domain` (the last one's local part padded). */
export function listOf(n: number, domain = 'example.com'): string {
  const uris: string[] = [];
  let len = -1;
  for (let k = 0; ; k++) {
    const u = `mailto:r${String(k).padStart(3, '0')}@${domain}`;
    if (len + 1 + u.length > n) break;
    uris.push(u);
    len += 1 + u.length;
  }
  uris[uris.length - 1] = uris[uris.length - 1].replace('@', `${'x'.repeat(n - len)}@`);
  const out = uris.join(',');
  assert.equal(Buffer.byteLength(out), n);
  return out;
}
